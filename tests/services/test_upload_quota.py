"""A flood cannot empty someone's uploads; an expired upload says so (issue 19, item 5).

One real server with a small upload space. Session A drops a GRU model and a CSV through the
upload route and prepares them (in this process, into the server's cache, as the Analyse job
does); then eight other sessions drop 74 KB CSVs. The space is sized so that only some of them
fit: the others are refused with a message, and A's prepared upload stays A's. Last, two sessions
prepare the same files (one shared upload): the last one's folder goes, and the first one's
what-if still loads the model on the server. (The results' quota: tests/services/test_upload_results.py.)
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from tests.support.byo_models import gru_vectorizer_model, sentiment_texts, write_csv
from tests.support.dash_client import DashClient, text_of
from tests.support.servers import free_port, start_server, stop_server
from tests.support.uploads import post_file, reply_of

SECRET = "upload-quota-test-secret"
FLOOD_CSV = b"text,label\n" + b"a flood of words in one review,1\n" * 2300  # 74 KB
WEEK_AND_A_DAY = 8 * 24 * 3600


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("quota-files")
    texts, labels = sentiment_texts(120)
    return {
        "model": gru_vectorizer_model(folder / "gru.keras", texts, labels, epochs=2),
        "csv": write_csv(folder / "reviews.csv", texts, labels),
    }


@pytest.fixture(scope="module")
def server(files, tmp_path_factory):
    """Room for A's files (staged model and CSV) and about four flood files and a model.

    (The prepared model is kept with the upload's results, outside this space.)"""
    cache_dir = tmp_path_factory.mktemp("quota-cache")
    a_bytes = 2 * files["model"].stat().st_size + files["csv"].stat().st_size
    quota = a_bytes + 4.5 * len(FLOOD_CSV)
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "RNNX_CACHE_DIR": str(cache_dir),
        "RNNX_SECRET_KEY": SECRET,
        "RNNX_UPLOAD_FILES_GB": repr(quota / 2**30),
        "RNNX_UPLOAD_SESSION_MB": repr((a_bytes + 2 * len(FLOOD_CSV)) / 2**20),
    }
    proc = start_server([sys.executable, "app.py"], env, port)
    yield {"url": f"http://127.0.0.1:{port}", "cache": cache_dir, "quota": quota}
    stop_server(proc)


def _session_of(client: DashClient) -> str:
    from services import identity

    cookie = next(c.value for c in client.jar if c.name == identity.COOKIE)
    return identity.verify(cookie)


def _drop_and_prepare(server, files) -> dict:
    """A new session that drops the files through the route and prepares them as the Analyse job does
    (room for the results, the pipeline, the registration), in this process on the server's cache."""
    from flask import Flask, g

    client = DashClient(server["url"])
    handles = {}
    for slot in ("model", "csv"):
        status, reply = post_file(client, slot, files[slot].read_bytes(), files[slot].name)
        assert status == 200, reply
        handles[slot] = reply["file"]["id"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RNNX_CACHE_DIR", str(server["cache"]))
        env.setenv("RNNX_SECRET_KEY", SECRET)
        sid = _session_of(client)
        from model import prepare
        from services import uploads

        with Flask(__name__).test_request_context():
            g.rnnx_session = sid
            uploads.ensure_results_room()
            model, csv = (uploads.path_of(handles[slot]) for slot in ("model", "csv"))
            dataset = prepare.prepare_upload(model, csv, session=sid)["dataset"]
            uploads.register_dataset(dataset, "gru.keras on reviews.csv")
    return {"client": client, "sid": sid, "dataset": dataset, "handles": handles}


@pytest.fixture(scope="module")
def owner(server, files):
    """Session A with its files dropped through the route and prepared like the Analyse job does."""
    return _drop_and_prepare(server, files)


def _overview(client: DashClient, dataset: str) -> str:
    status, reply = client.post(
        "analytics-model-bar.children",
        {"analytics-dataset.value": dataset, "analytics-projection-method.value": "pca"},
        "analytics-dataset.value",
    )
    assert status == 200, reply
    return text_of(reply)


def _from_url(client: DashClient, dataset: str) -> dict:
    """The dataset list and choice of a page opened at ``?dataset=<dataset>``."""
    status, reply = client.post(
        "analytics-dataset.options", {"analytics-requested-upload.data": dataset}, "analytics-uploads.data"
    )
    assert status == 200
    return reply["response"]["analytics-dataset"]


def _listed(client: DashClient, dataset: str) -> bool:
    return dataset in [o["value"] for o in _from_url(client, dataset)["options"]]


def _used(cache: Path) -> int:
    return sum(p.stat().st_size for p in (cache / "uploads").rglob("*") if p.is_file())


def test_a_flood_of_other_sessions_never_evicts_a_prepared_upload(server, owner):
    assert _listed(owner["client"], owner["dataset"])
    statuses, refusals = [], []
    for _ in range(8):
        status, reply = post_file(DashClient(server["url"]), "csv", FLOOD_CSV, "flood.csv")
        statuses.append(status)
        if status != 200:
            refusals.append(reply["error"])
    assert set(statuses) == {200, 507}, statuses  # some fit, the rest were refused
    assert all("upload space" in r and "full" in r for r in refusals), refusals
    assert _used(server["cache"]) <= server["quota"]
    # A's prepared upload: still listed, its analysis served, its model kept for what-if
    assert _listed(owner["client"], owner["dataset"])
    shown = _overview(owner["client"], owner["dataset"])
    assert "another session" not in shown and "expired" not in shown and "GRU" in shown.upper()
    assert (server["cache"] / "uploads-cache" / "models" / owner["dataset"] / "model.keras").is_file()
    status, panel = reply_of(owner["client"], {"slot": "model", "id": owner["handles"]["model"]})
    assert status == 200 and "gru.keras" in text_of(panel) and "another session" not in text_of(panel)


def test_an_expired_upload_says_it_expired_before_and_after_its_files_go(server, owner):
    record = server["cache"] / "uploads" / owner["sid"] / "record.json"
    then = time.time() - WEEK_AND_A_DAY  # A has not been back for more than RNNX_UPLOAD_TTL_H (a week)
    os.utime(record, (then, then))
    shown = _overview(owner["client"], owner["dataset"])
    assert "expired" in shown and "another session" not in shown
    assert not _listed(owner["client"], owner["dataset"])
    # A's old link still selects it, so the page's cards say it expired; a stranger's selects nothing
    assert _from_url(owner["client"], owner["dataset"]).get("value") == owner["dataset"]
    assert "value" not in _from_url(DashClient(server["url"]), owner["dataset"])
    # The space is full of live sessions' files and A's expired ones: A's are what make room now.
    status, reply = post_file(DashClient(server["url"]), "csv", FLOOD_CSV, "late.csv")
    assert status == 200, reply
    assert not (server["cache"] / "uploads" / owner["sid"] / owner["dataset"]).exists()
    shown = _overview(owner["client"], owner["dataset"])
    assert "expired" in shown and "another session" not in shown
    stranger = DashClient(server["url"])
    assert "another session" in _overview(stranger, owner["dataset"])


def test_a_session_over_its_own_quota_gives_up_its_own_oldest_upload_first(tmp_path, monkeypatch):
    """The policy in one process: a session's own oldest prepared upload expires to make its room;
    when only its dropped files are left, the new file is refused with a message."""
    from flask import Flask, g

    from services import upload_space, uploads

    monkeypatch.setenv("RNNX_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("RNNX_UPLOAD_SESSION_MB", "1")
    sid = "ab" * 16
    with Flask(__name__).test_request_context():
        g.rnnx_session = sid
        for n, dataset in enumerate(("upload-0000000000aa", "upload-0000000000bb")):
            kept = uploads.session_folder(sid) / dataset
            kept.mkdir(parents=True)
            (kept / "model.keras").write_bytes(b"m" * 400_000)
            uploads.register_dataset(dataset, f"model {n}")
        csv = b"text,label\n" + b"some words,1\n" * 25_000  # 325 KB: 800 KB kept + this > 1 MB
        uploads.receive("csv", "a.csv", [csv], len(csv))
        assert [d["id"] for d in uploads.owned_datasets()] == ["upload-0000000000bb"]
        with pytest.raises(uploads.UploadRefused, match="expired"):
            uploads.require_owned("upload-0000000000aa")
        assert not (uploads.session_folder(sid) / "upload-0000000000aa").exists()
        with pytest.raises(upload_space.NoRoom, match="RNNX_UPLOAD_SESSION_MB"):
            uploads.receive("vocab", "v.txt", [b"w\n" * 400_000], 800_000)
        # nothing was taken for a file that would not have fitted anyway
        assert uploads.owns("upload-0000000000bb") and "csv" in uploads.staged_files()
        assert "vocab" not in uploads.staged_files()


def _whatif(client: DashClient, dataset: str, text: str) -> str:
    status, reply = client.post(
        "analytics-whatif-words.children",
        {
            "analytics-whatif-text.value": text,
            "analytics-dataset.value": dataset,
            "analytics-projection-method.value": "pca",
            "distance-threshold.value": 0.4,
        },
        "analytics-whatif-text.value",
    )
    assert status == 200, reply
    return text_of(reply)


def test_sessions_preparing_the_same_files_keep_it_usable_when_one_of_their_folders_goes(server, files):
    """Issue 19 item 5 (b): the same files give the same upload id, and its kept model is shared, not
    in the last preparer's folder: that folder going (evicted) breaks no one else's what-if."""
    then = time.time() - WEEK_AND_A_DAY
    for record in (server["cache"] / "uploads").glob("*/record.json"):  # everyone so far went away
        os.utime(record, (then, then))
    first = _drop_and_prepare(server, files)
    last = _drop_and_prepare(server, files)
    assert first["dataset"] == last["dataset"]
    dataset = first["dataset"]
    shutil.rmtree(server["cache"] / "uploads" / last["sid"])  # the last preparer's folder is evicted
    shown = _whatif(first["client"], dataset, "a lovely and wonderful movie")
    assert "lovely" in shown and "wonderful" in shown
    assert "not a readable" not in shown and "not prepared" not in shown and "expired" not in shown
    assert "another session" in _whatif(DashClient(server["url"]), dataset, "a lovely movie")
