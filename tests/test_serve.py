"""`adoptbot serve`: the health check, start-up errors, the real gunicorn server end to end, Socket Mode."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.cli import main
from bot.config import Settings
from bot.db import create_db_engine
from tests.support import signing
from tests.support.fake_slack import FakeSlack
from tests.support.fixtures import SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET
from tests.support.slack_app import SlackAppServer, wait_for

ROOT = Path(__file__).resolve().parents[1]


def _get(url: str) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"{}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- health check -------------------------------------------------------------------------------------------


def test_healthz_says_ok_when_the_database_answers(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with SlackAppServer(slack_settings, engine) as server:
        status, body = _get(server.url + "/healthz")
    assert status == 200
    assert body == {"status": "ok", "database": "ok", "mode": "http", "version": "0.1.0"}


def _settings(fake_slack: FakeSlack) -> Settings:
    """Slack settings for a test that brings its own database engine (not the `engine` fixture's)."""
    return dataclasses.replace(
        Settings(),
        slack_bot_token=SLACK_BOT_TOKEN,
        slack_signing_secret=SLACK_SIGNING_SECRET,
        slack_api_url=fake_slack.url,
    )


# These two point /healthz at a PostgreSQL server that is not there: they need the driver, not a server.
NO_DRIVER = "PostgreSQL's driver is not installed (pip install -e '.[test,postgres]')"


def test_healthz_is_503_when_the_database_is_unreachable(fake_slack: FakeSlack) -> None:
    pytest.importorskip("psycopg", reason=NO_DRIVER)
    settings = _settings(fake_slack)
    unreachable = create_db_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/adoptbot")
    try:
        with SlackAppServer(settings, unreachable) as server:
            status, body = _get(server.url + "/healthz")
    finally:
        unreachable.dispose()
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"] == "unreachable"


def test_healthz_gives_up_on_a_database_server_that_never_answers(fake_slack: FakeSlack) -> None:
    pytest.importorskip("psycopg", reason=NO_DRIVER)
    settings = _settings(fake_slack)
    with socket.socket() as silent:  # accepts connections (the kernel's backlog) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        hanging = create_db_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/adoptbot")
        try:
            with SlackAppServer(settings, hanging) as server:
                started = time.monotonic()
                status, body = _get(server.url + "/healthz")
                waited = time.monotonic() - started
        finally:
            hanging.dispose()
    assert status == 503 and body["database"] == "unreachable"
    assert waited < 15, f"/healthz took {waited:.1f} s"


# --- start-up errors (no server is started) -----------------------------------------------------------------


def test_serve_without_a_bot_token_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SLACK_SIGNING_SECRET)
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'a.db'}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("adoptbot: SLACK_BOT_TOKEN is not set")
    assert err.count("\n") == 1


def test_http_mode_without_a_signing_secret_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN)
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'a.db'}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("adoptbot: SLACK_SIGNING_SECRET is not set; HTTP mode needs it")
    assert err.count("\n") == 1


def test_a_bad_thread_count_stops_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SLACK_SIGNING_SECRET)
    monkeypatch.setenv("ADOPTBOT_THREADS", "lots")
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'a.db'}"]) == 2
    assert (
        capsys.readouterr().err
        == "adoptbot: ADOPTBOT_THREADS must be a whole number from 1 to 64, not 'lots'.\n"
    )


def test_a_token_slack_refuses_stops_the_start_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, fake_slack: FakeSlack
) -> None:
    for name, value in (
        ("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN),
        ("SLACK_SIGNING_SECRET", SLACK_SIGNING_SECRET),
        ("SLACK_API_URL", fake_slack.url),
    ):
        monkeypatch.setenv(name, value)
    fake_slack.fail_next("auth.test", error="invalid_auth")
    assert main(["serve", "--db", f"sqlite:///{tmp_path / 'a.db'}"]) == 1
    assert capsys.readouterr().err == "adoptbot: Slack refused SLACK_BOT_TOKEN (invalid_auth).\n"


# --- the real thing: `adoptbot serve` in a subprocess ------------------------------------------------------


def _environment(fake_slack: FakeSlack, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "ADOPTBOT_", "OPENAI_")) and k not in ("DATABASE_URL", "PORT")
    }
    env.update(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET=SLACK_SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
        **extra,
    )
    return env


class Served:
    """`adoptbot serve` (gunicorn) in its own process group on a free port; its log goes to a file."""

    def __init__(self, db_url: str, fake_slack: FakeSlack, folder: Path, *, workers: int = 1) -> None:
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.log = folder / "serve.log"
        command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(workers), "--threads", "4", "--db", db_url]
        with self.log.open("w") as sink:
            self.process = subprocess.Popen(
                command,
                cwd=folder,
                env=_environment(fake_slack),
                stdout=sink,
                stderr=sink,
                start_new_session=True,  # its own process group: cleaning up reaches the workers too
            )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                pytest.fail(f"adoptbot serve exited early:\n{self.output()}")
            with contextlib.suppress(OSError):
                if _get(self.base + "/healthz")[0] == 200:
                    return
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"adoptbot serve did not answer /healthz within 30 s:\n{self.output()}")
            time.sleep(0.02)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def post(self, body: str, secret: str = SLACK_SIGNING_SECRET) -> tuple[int, str]:
        status, _, answer = signing.post_signed(self.base + "/slack/events", body, secret)
        return status, answer

    def terminate(self, timeout: float = 40) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the server and every process it started (gunicorn workers)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)

    def workers(self) -> set[int]:
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True, check=False
        )
        return {int(pid) for pid in found.stdout.split()}

    def lock_holders(self) -> set[int]:
        """Worker processes holding an flock (the one running the scheduler and the outbox)."""
        holders = set()
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            if len(fields) > 4 and fields[1] == "FLOCK" and fields[4].isdigit():
                holders.add(int(fields[4]))
        return holders & self.workers()


@pytest.fixture
def served(db_url: str, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Served]:
    server = Served(db_url, fake_slack, tmp_path)
    try:
        yield server
    finally:
        server.kill()


def _team_join(user_id: str) -> str:
    return signing.event_body(
        {"type": "team_join", "user": {"id": user_id, "name": user_id.lower(), "profile": {}}}
    )


def test_adoptbot_serve_answers_slack_sends_from_the_background_and_stops_cleanly_on_sigterm(
    served: Served, fake_slack: FakeSlack
) -> None:
    body = signing.slash_command_body("/adopt", "help", user_id="U0ANY")
    status, answer = served.post(body)
    assert status == 200
    assert "`/adopt role`" in answer
    assert served.post(body, secret="wrong-secret")[0] == 401

    assert served.post(_team_join("U0NEW"))[0] == 200
    # queued while answering the event, sent by the outbox worker that runs in the elected worker
    wait_for(lambda: fake_slack.posted_to("U0NEW"), timeout=15, what="the welcome DM")

    assert served.terminate() == 0
    log = served.output()
    assert "runs the scheduler and the outbox" in log
    assert "scheduler and outbox worker stopped" in log
    assert "Traceback" not in log


@pytest.mark.skipif(
    not Path("/proc/locks").exists(), reason="needs Linux /proc/locks to see who holds the lock"
)
def test_exactly_one_worker_runs_the_background_and_another_takes_over_when_it_dies(
    db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    server = Served(db_url, fake_slack, tmp_path, workers=2)
    try:
        [leader] = wait_for(lambda: server.lock_holders(), timeout=15, what="an elected worker")
        assert len(server.workers()) == 2
        started = f"this worker (process {leader}) runs the scheduler and the outbox"
        wait_for(lambda: started in server.output(), what="the leader starting the background work")
        os.kill(leader, signal.SIGKILL)
        [successor] = wait_for(
            lambda: (held := server.lock_holders()) and leader not in held and held,
            timeout=30,
            what="another worker taking over",
        )
        assert successor != leader
        assert server.post(_team_join("U0LATE"))[0] == 200
        wait_for(lambda: fake_slack.posted_to("U0LATE"), timeout=15, what="the welcome DM after the takeover")
        assert server.terminate() == 0
    finally:
        server.kill()
    assert server.output().count("runs the scheduler and the outbox") == 2


# --- Socket Mode -------------------------------------------------------------------------------------------


class _SocketSlack(ThreadingHTTPServer):
    """Just enough of Slack for Socket Mode: auth.test, apps.connections.open, and a websocket that sends
    one slash command envelope and records what the app answers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SocketSlackHandler)
        self.answers: list[dict[str, Any]] = []
        self.closed_by_app = threading.Event()
        self.tokens: list[str] = []

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"


def _read_frame(sock: socket.socket) -> tuple[int, bytes]:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", exactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exactly(8))[0]
    mask = exactly(4) if second & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(exactly(length)))
    return first & 0x0F, payload


def _frame(opcode: int, payload: bytes) -> bytes:
    header = bytes([0x80 | opcode])
    if len(payload) < 126:
        return header + bytes([len(payload)]) + payload
    return header + bytes([126]) + struct.pack("!H", len(payload)) + payload


class _SocketSlackHandler(BaseHTTPRequestHandler):
    server: _SocketSlack
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _json(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.tokens.append(self.headers.get("Authorization", ""))
        if self.path.endswith("/auth.test"):
            self._json(
                {"ok": True, "user_id": "U0BOT", "team_id": "T0FAKE", "bot_id": "B0BOT", "user": "adoptbot"}
            )
        elif self.path.endswith("/apps.connections.open"):
            self._json({"ok": True, "url": f"ws://127.0.0.1:{self.server.server_address[1]}/link"})
        else:
            self._json({"ok": False, "error": "unknown_method"})

    def do_GET(self) -> None:
        key = self.headers["Sec-WebSocket-Key"]
        accept = base64.b64encode(
            hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        )
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.flush()
        sock = self.connection
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": signing.API_APP_ID}}
        sock.sendall(_frame(1, json.dumps(hello).encode()))
        body = signing.slash_command_body("/adopt", "help", user_id="U0ANY")
        command = dict(urllib.parse.parse_qsl(body))
        envelope = {
            "envelope_id": "env-1",
            "type": "slash_commands",
            "accepts_response_payload": True,
            "payload": command,
        }
        sock.sendall(_frame(1, json.dumps(envelope).encode()))
        try:
            while True:
                opcode, payload = _read_frame(sock)
                if opcode == 0x9:  # ping
                    sock.sendall(_frame(0xA, payload))
                elif opcode == 0x1:
                    self.server.answers.append(json.loads(payload))
                elif opcode == 0x8:  # close
                    self.server.closed_by_app.set()
                    sock.sendall(_frame(0x8, payload[:2]))
                    return
        except (ConnectionError, OSError):
            return


def _kill_group(process: subprocess.Popen[str]) -> None:
    """SIGKILL a server and every process it started, then collect its output."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.returncode is None:
        process.communicate(timeout=30)


def test_socket_mode_answers_over_the_websocket_and_closes_cleanly_on_sigterm(tmp_path: Path) -> None:
    slack = _SocketSlack()
    thread = threading.Thread(target=slack.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "ADOPTBOT_", "OPENAI_")) and k not in ("DATABASE_URL", "PORT")
    }
    env.update(
        SLACK_BOT_TOKEN=SLACK_BOT_TOKEN,
        SLACK_APP_TOKEN="xapp-test",
        SLACK_API_URL=slack.api_url,
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    command = [
        sys.executable,
        "-m",
        "bot",
        "serve",
        "--no-scheduler",
        "--db",
        f"sqlite:///{tmp_path / 'a.db'}",
    ]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        answer = wait_for(lambda: slack.answers, timeout=30, what="the app's answer over the websocket")[0]
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    finally:
        _kill_group(process)
        slack.shutdown()
        slack.server_close()
    assert answer["envelope_id"] == "env-1"
    assert "`/adopt role`" in json.dumps(answer["payload"])
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "Bearer xapp-test" in slack.tokens  # apps.connections.open used the app-level token
