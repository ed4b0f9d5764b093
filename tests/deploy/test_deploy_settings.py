"""Server settings, basic-auth rules, warm-up plan and demo mode, without a server."""

from __future__ import annotations

import subprocess
import sys

import pytest
from werkzeug.security import generate_password_hash

from model import cache
from serving import auth, settings, uploads_allowed, warmup
from tests.support.servers import ROOT


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", "/"), ("/", "/"), ("rnn", "/rnn/"), ("/rnn", "/rnn/"), ("/team/rnn/", "/team/rnn/")],
)
def test_base_path_is_normalised(monkeypatch: pytest.MonkeyPatch, raw: str, expected: str) -> None:
    monkeypatch.setenv("RNNX_BASE_PATH", raw)
    assert settings.base_path() == expected


def test_dash_path_kwargs_follow_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RNNX_BASE_PATH", raising=False)
    assert settings.dash_path_kwargs() == {}
    monkeypatch.setenv("RNNX_BASE_PATH", "/rnn")
    monkeypatch.delenv("RNNX_PROXY_STRIPS_PREFIX", raising=False)
    assert settings.dash_path_kwargs() == {"url_base_pathname": "/rnn/"}
    monkeypatch.setenv("RNNX_PROXY_STRIPS_PREFIX", "1")
    assert settings.dash_path_kwargs() == {"requests_pathname_prefix": "/rnn/", "routes_pathname_prefix": "/"}


def test_parse_users_accepts_commas_newlines_and_comments() -> None:
    assert auth.parse_users("alice:a:b, bob:pw\n# note\n\ncarol:x") == {
        "alice": "a:b",
        "bob": "pw",
        "carol": "x",
    }
    with pytest.raises(ValueError):
        auth.parse_users("nopassword")


def test_load_users_merges_env_and_file(tmp_path) -> None:
    path = tmp_path / "users"
    path.write_text("bob:from-file\ncarol:c\n")
    users = auth.load_users({"RNNX_AUTH_USERS": "alice:a,bob:b", "RNNX_AUTH_FILE": str(path)})
    assert users == {"alice": "a", "bob": "from-file", "carol": "c"}
    assert auth.load_users({}) == {}


def test_check_clear_and_hashed_passwords() -> None:
    users = {"alice": "secret", "bob": generate_password_hash("hunter2")}
    assert auth.check(users, "alice", "secret")
    assert not auth.check(users, "alice", "Secret")
    assert auth.check(users, "bob", "hunter2")
    assert not auth.check(users, "bob", generate_password_hash("hunter2"))
    assert not auth.check(users, "mallory", "secret")
    assert not auth.check(users, None, None)


def test_demo_mode_refuses_uploads_and_cache_writes(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    assert uploads_allowed()
    cache.put("deploy-test:before", 1)
    monkeypatch.setenv("RNNX_DEMO_MODE", "1")
    assert settings.demo_mode()
    assert not uploads_allowed()
    cache.put("deploy-test:during", 2)
    value, was_cached = cache.memoize("deploy-test:memo", lambda: 3)
    assert (value, was_cached) == (3, False)
    assert cache.get("deploy-test:during") is None
    assert cache.get("deploy-test:memo") is None
    assert cache.get("deploy-test:before") == 1
    assert not settings.warmup_enabled()


def test_warmup_runs_one_prepare_per_dataset(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("RNNX_WARMUP", "1")
    monkeypatch.delenv("RNNX_DEMO_MODE", raising=False)
    monkeypatch.delenv("RNNX_WARMUP_DATASETS", raising=False)
    assert settings.warmup_enabled()
    assert settings.warmup_datasets() == ["imdb", "reuters", "imdb:umap", "reuters:umap", "imdb~all"]
    calls: list[list[str]] = []

    def fake_run(argv: list[str], **_kwargs) -> subprocess.CompletedProcess:
        calls.append(argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(warmup.importlib.util, "find_spec", lambda name: object())
    assert warmup.run(["imdb", "reuters"], runner=fake_run) == 0
    assert [argv[1:5] for argv in calls] == [
        ["-m", "model.prepare", "--dataset", "imdb"],
        ["-m", "model.prepare", "--dataset", "reuters"],
    ]


def test_app_module_never_imports_tensorflow() -> None:
    """gunicorn workers and diskcache job processes fork from this import: TF must not be in it."""
    code = "import sys, app; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
