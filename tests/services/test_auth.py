"""Basic auth at the boundary: a real ``python app.py`` on loopback, real HTTP, plus the parsing rules."""

from __future__ import annotations

import base64
import http.client
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.security import generate_password_hash

from serving import auth
from tests.support.servers import free_port, start_server, stop_server

ALICE = ("alice", "won,der land")  # clear text in RNNX_AUTH_USERS, with a comma
BOB = ("bob", "b,u:i#lder")  # hashed in RNNX_AUTH_FILE
DAVE = ("dave", "d,a,v,e")  # clear text in RNNX_AUTH_FILE
CAROL = ("carol", "carol-pw-42")  # the target of the failed logins
PASSWORDS = [ALICE[1], BOB[1], DAVE[1], CAROL[1], "wrong-guess-"]


class Server:
    def __init__(self, port: int, log: Path) -> None:
        self.port, self.log = port, log

    def get(
        self,
        path: str,
        user: tuple[str, str] | None = None,
        cookie: str | None = None,
        source: str = "127.0.0.1",
    ) -> tuple[int, http.client.HTTPResponse, bytes]:
        """Status, response and body of one GET from ``source``."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(source, 0))
        headers = {}
        if user is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(":".join(user).encode()).decode()
        if cookie is not None:
            headers["Cookie"] = f"{auth.COOKIE}={cookie}"
        try:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            return response.status, response, response.read()
        finally:
            conn.close()


def login_cookie(response: http.client.HTTPResponse) -> str:
    """The value of the auth cookie the response sets, after checking its flags."""
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(f"{auth.COOKIE}="):
            assert "HttpOnly" in header and "SameSite=Lax" in header, header
            return header.split(";", 1)[0].split("=", 1)[1]
    raise AssertionError("no auth cookie set")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("auth")
    users_file = root / "users"
    users_file.write_text(
        f"# team\n{BOB[0]}:{generate_password_hash(BOB[1])}\n{DAVE[0]}:{DAVE[1]}\n", encoding="utf-8"
    )
    port, log = free_port(), root / "server.log"
    env = {
        **os.environ,
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "RNNX_CACHE_DIR": str(root / "cache"),
        "RNNX_AUTH_USERS": f"{ALICE[0]}:{ALICE[1]},{CAROL[0]}:{CAROL[1]}",
        "RNNX_AUTH_FILE": str(users_file),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("RNNX_AUTH_MAX_FAILURES", "RNNX_AUTH_FAIL_WINDOW_S", "RNNX_BASE_PATH", "RNNX_DEMO_MODE"):
        env.pop(name, None)
    # sh only redirects the output to the log, then becomes `python app.py`.
    command = ["/bin/sh", "-c", 'exec "$0" app.py >"$1" 2>&1', sys.executable, str(log)]
    proc = start_server(command, env, port)
    yield Server(port, log)
    stop_server(proc)


def test_no_credentials_get_401_but_health_is_open(server: Server) -> None:
    for path in ("/", "/_dash-layout", "/assets/app.css"):
        status, response, _ = server.get(path)
        assert status == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert server.get("/", user=(ALICE[0], "won"))[0] == 401
    assert server.get("/healthz")[0] == 200


@pytest.mark.parametrize("user", [ALICE, BOB, DAVE], ids=lambda u: u[0])
def test_each_user_logs_in_and_the_cookie_alone_then_suffices(server: Server, user: tuple[str, str]) -> None:
    status, response, _ = server.get("/", user=user)
    assert status == 200
    cookie = login_cookie(response)
    assert server.get("/", cookie=cookie)[0] == 200
    assert server.get("/_dash-layout", cookie=cookie, user=user)[0] == 200


def test_a_tampered_or_foreign_cookie_is_refused(server: Server) -> None:
    _, response, _ = server.get("/", user=ALICE)
    cookie = login_cookie(response)
    payload, _, signature = cookie.partition(".")
    head, _, mac = signature.rpartition(".")
    flipped = f"{payload}.{head}.{'A' if mac[0] != 'A' else 'B'}{mac[1:]}"
    assert server.get("/", cookie=flipped)[0] == 401
    forged = base64.urlsafe_b64encode(b'["bob","0000000000000000"]').decode().rstrip("=")
    assert server.get("/", cookie=f"{forged}.{signature}")[0] == 401
    assert server.get("/", cookie="garbage")[0] == 401
    # A valid cookie does not vouch for another user named in the header.
    assert server.get("/", cookie=cookie, user=(BOB[0], "wrong-guess-"))[0] == 401


def test_failed_logins_are_rate_limited_per_address_and_user(server: Server) -> None:
    attacker = "127.0.0.2"
    _, response, _ = server.get("/", user=ALICE, source=attacker)
    alice_cookie = login_cookie(response)
    for _ in range(10):
        assert server.get("/", user=(CAROL[0], "wrong-guess-"), source=attacker)[0] == 401
    status, response, body = server.get("/", user=(CAROL[0], "wrong-guess-"), source=attacker)
    assert status == 429
    seconds = int(response.headers["Retry-After"])
    assert 0 < seconds <= 300
    assert re.fullmatch(r"Too many failed logins; try again in \d+ s\.\n", body.decode())
    # Blocked even with the right password: per address, and for carol from anywhere.
    assert server.get("/", user=DAVE, source=attacker)[0] == 429
    assert server.get("/", user=CAROL, source="127.0.0.3")[0] == 429
    # Others are untouched; a login cookie still works from the blocked address.
    assert server.get("/", user=DAVE, source="127.0.0.3")[0] == 200
    assert server.get("/", cookie=alice_cookie, source=attacker)[0] == 200


def test_the_server_log_never_holds_a_password(server: Server) -> None:
    server.get("/", user=BOB)
    text = server.log.read_text(errors="replace")
    assert "GET /" in text, "the log should hold the request lines"
    for password in PASSWORDS:
        assert password not in text
        assert base64.b64encode(password.encode()).decode()[:8] not in text
    assert "Authorization" not in text and "Basic " not in text


def test_parse_users_keeps_commas_in_passwords() -> None:
    assert auth.parse_users("alice:a,b,bob:pw") == {"alice": "a,b", "bob": "pw"}
    assert auth.parse_users("alice:a:b, bob:pw\n# note\n\ncarol:x,") == {
        "alice": "a:b",
        "bob": "pw",
        "carol": "x,",
    }
    assert auth.parse_users(r"alice:x\,y:z,bob:p\,") == {"alice": "x,y:z", "bob": "p,"}
    assert auth.parse_users("alice:a,,b\nbob:c,d") == {"alice": "a,,b", "bob": "c,d"}


def test_the_auth_file_is_never_split_on_commas(tmp_path: Path) -> None:
    assert auth.parse_file("# c\ndave:d,a,v,e\nerin:e:f, g") == {"dave": "d,a,v,e", "erin": "e:f, g"}
    path = tmp_path / "users"
    path.write_text("bob:x,carol:y\n")
    users = auth.load_users({"RNNX_AUTH_USERS": "alice:a,b", "RNNX_AUTH_FILE": str(path)})
    assert users == {"alice": "a,b", "bob": "x,carol:y"}


@pytest.mark.parametrize(
    ("text", "where", "secret"),
    [
        ("alice:ok\nhunter2-secret", "entry 2", "hunter2"),
        ("alice:ok,:hunter2-secret", "entry 2", "hunter2"),
        ("alice:ok\nbob:", "entry 2 (user 'bob')", None),
    ],
)
def test_parse_errors_name_the_entry_but_never_the_secret(text: str, where: str, secret: str | None) -> None:
    with pytest.raises(ValueError) as error:
        auth.parse_users(text)
    assert where in str(error.value)
    assert "ok" not in str(error.value)
    if secret:
        assert secret not in str(error.value)
    with pytest.raises(ValueError) as error:
        auth.parse_file("alice:ok\nhunter2,secret")
    assert "RNNX_AUTH_FILE line 2" in str(error.value) and "hunter2" not in str(error.value)


def test_unknown_users_cost_a_hash_check_of_the_same_method(monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real = auth.check_password_hash

    def counting(stored: str, password: str) -> bool:
        checked.append(stored.split("$", 1)[0])
        return real(stored, password)

    monkeypatch.setattr(auth, "check_password_hash", counting)
    users = {"alice": "clear", "bob": generate_password_hash("pw", method="pbkdf2:sha256:1000")}
    assert auth.check(users, "bob", "pw")
    assert not auth.check(users, "mallory", "pw")
    assert not auth.check(users, "bob", "nope")
    assert checked == ["pbkdf2:sha256:1000"] * 3
    # A clear-text user costs the same hash check (of a dummy): no faster answer for it either.
    assert auth.check(users, "alice", "clear") and not auth.check(users, "alice", "Clear")
    assert checked == ["pbkdf2:sha256:1000"] * 5


def test_a_hash_is_checked_once_per_login(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = auth.check_password_hash
    monkeypatch.setattr(auth, "check_password_hash", lambda s, p: calls.append(p) or real(s, p))

    def app(stored: str) -> Flask:
        server = Flask(__name__)
        server.add_url_rule("/", "index", lambda: "ok")
        auth.install(server, {"bob": stored}, secret="test-secret")
        return server

    client = app(generate_password_hash("pw", method="pbkdf2:sha256:1000")).test_client()
    header = {"Authorization": "Basic " + base64.b64encode(b"bob:pw").decode()}
    assert client.get("/", headers=header).status_code == 200
    assert client.get_cookie(auth.COOKIE) is not None
    for _ in range(3):
        assert client.get("/", headers=header).status_code == 200
    assert len(calls) == 1
    # A changed password ends the login: the old cookie alone no longer passes.
    other = app(generate_password_hash("new", method="pbkdf2:sha256:1000")).test_client()
    other.set_cookie(auth.COOKIE, client.get_cookie(auth.COOKIE).value)
    assert other.get("/").status_code == 401
