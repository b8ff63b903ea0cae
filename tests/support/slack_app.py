"""The harness for Slack app tests: the real app on a real port, signed requests, a response_url sink.

`SlackAppServer` runs the real WSGI app (`bot.server.WsgiApp` around `bot.slack.app.build_app`, the very
objects `adoptbot serve` hands to gunicorn) on a real port with a threaded stdlib server; requests are
signed exactly as Slack signs them (tests/support/signing.py) and the app's Web API calls go to the fake
Slack through the real slack_sdk client. `ResponseSink` receives what the app posts to `response_url`s.

Use it from any test module:

    from tests.support.factories import add_person
    from tests.support.slack_app import ResponseSink, SlackAppServer, wait_for

    def test_pause(slack_settings, fake_slack, engine):
        with SlackAppServer(slack_settings, engine) as server, ResponseSink() as sink:
            status, answer = server.command("pause 2", user_id="U1", response_url=sink.url("r1"))

Post-ack work (views.open, respond(), the outbox) happens on Bolt's threads after the answer: wait for its
effect with `wait_for(...)`, never with a fixed sleep. Messages a request queues stay in the outbox until
the test drains it (`bot.outbox.drain`), so a test decides when they go and can count them;
`send_replies=True` makes the app send them right after the answer, as `adoptbot serve` does.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any, TypeVar
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from sqlalchemy import Engine

from bot.config import Settings
from bot.content import Library, load_library
from bot.server import WsgiApp
from bot.slack.app import build_app
from bot.wiring import register_listeners
from tests.support import signing

T = TypeVar("T")

_LIBRARY: Library | None = None


def library() -> Library:
    """The bundled starter library, loaded once per test session."""
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = load_library()
    return _LIBRARY


def wait_for(probe: Callable[[], T], *, timeout: float = 10.0, what: str = "the expected effect") -> T:
    """Poll `probe()` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.02)


def button_in(view: dict[str, Any], action_id: str) -> dict[str, Any]:
    """The button with `action_id` in the actions blocks of `view` (a published Home, a message's blocks)."""
    return next(
        element
        for block in view["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == action_id
    )


def _answer(body: str) -> dict[str, Any]:
    """An ack's body as Slack reads it: JSON, or plain text (a message text), or nothing."""
    if not body.strip():
        return {}
    try:
        decoded = json.loads(body)
    except ValueError:
        return {"text": body}
    return decoded if isinstance(decoded, dict) else {"text": body}


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietWSGIHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


def _not_ready(environ: Any, start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


ACK_TIMEOUT = 30  # seconds a listener may take to ack in the tests (Slack's and Bolt's: 3)


class SlackAppServer:
    """The product's WSGI app on 127.0.0.1:<free port>, serving `build_app(settings, engine, library)`."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        customize: Callable[[App], None] | None = None,
        content: Library | None = None,
        send_replies: bool = False,
        public: bool = False,
    ) -> None:
        # The port is taken first, so `public=True` can give the app its own address as
        # ADOPTBOT_PUBLIC_URL (the dashboard's sign-in sends browsers back to it).
        self._server = make_server(
            "127.0.0.1", 0, _not_ready, server_class=_ThreadingWSGIServer, handler_class=_QuietWSGIHandler
        )
        if public:
            settings = dataclasses.replace(settings, public_url=self.url)
        self.settings = settings
        self.bolt_app = build_app(
            settings, engine, content or library(), listeners=register_listeners, send_replies=send_replies
        )
        if customize is not None:
            customize(self.bolt_app)
        # Bolt answers 404 when a listener has not acked within its `ack_timeout` (3 s). On a loaded CI
        # machine (four test workers on two cores, or libfaketime) a listener that acks after a few tens of
        # milliseconds here was once held off the CPU that long; these tests check behaviour, and how fast
        # Slack gets its ack is measured by benchmarks/ack_latency.py. Bolt has no public setter for it.
        for listener in self.bolt_app._listeners:
            listener.ack_timeout = ACK_TIMEOUT
        self.wsgi = WsgiApp(self.bolt_app, engine)
        self._server.set_app(self.wsgi)
        # A short poll interval: close() (shutdown) waits for the loop to notice, once per server.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="slack-app", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def events_url(self) -> str:
        return self.url + "/slack/events"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.wsgi.close()

    def __enter__(self) -> SlackAppServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- requests, signed like Slack's ------------------------------------------------------------------

    # On Enterprise Grid: (workspace, organisation, whether the app is installed org-wide) that every
    # command, interaction and event comes from unless it says otherwise. None: the one plain workspace.
    grid: tuple[str, str, bool] | None = None

    def post(self, body: str, **kwargs: Any) -> tuple[int, str]:
        """POST `body` signed with the app's signing secret (or `secret=`); (status, response text)."""
        secret = kwargs.pop("secret", None) or self.settings.slack_signing_secret or ""
        status, _headers, text = signing.post_signed(self.events_url, body, secret, **kwargs)
        return status, text

    def command(self, text: str, *, user_id: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """Run `/adopt <text>` as `user_id`; (status, answer: JSON, {"text": ...} if plain, {} if empty)."""
        names = ("response_url", "trigger_id", "channel_id", "team_id", "enterprise_id")
        fields = {k: kwargs.pop(k) for k in names if k in kwargs}
        if self.grid is not None:
            fields.setdefault("team_id", self.grid[0])
            fields.setdefault("enterprise_id", self.grid[1])
        body = signing.slash_command_body(self.settings.command, text, user_id=user_id, **fields)
        status, answer = self.post(body, **kwargs)
        return status, _answer(answer)

    def interact(self, payload: dict[str, Any], **kwargs: Any) -> tuple[int, dict[str, Any]]:
        """Post an interactivity payload (block_actions, view_submission, ...); (status, answer)."""
        if self.grid is not None and payload.get("enterprise") is None:
            team, enterprise, org_wide = self.grid
            payload = {
                **payload,
                "team": None if org_wide else {"id": team, "domain": "fake"},
                "enterprise": {"id": enterprise, "name": "Grid Org"},
                "is_enterprise_install": org_wide,
                "user": {**payload["user"], "team_id": team},
            }
            if isinstance(payload.get("view"), dict):
                payload["view"] = {**payload["view"], "team_id": team, "app_installed_team_id": None}
        status, answer = self.post(signing.interactivity_body(payload), **kwargs)
        return status, _answer(answer)

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kwargs: Any) -> int:
        """Deliver an Events API event; the HTTP status."""
        names = ("team_id", "enterprise_id", "org_wide")
        fields = {k: kwargs.pop(k) for k in names if k in kwargs}
        if self.grid is not None:
            fields.setdefault("team_id", self.grid[0])
            fields.setdefault("enterprise_id", self.grid[1])
            fields.setdefault("org_wide", self.grid[2])
        status, _ = self.post(signing.event_body(event, event_id=event_id, **fields), **kwargs)
        return status


class _SinkHandler(BaseHTTPRequestHandler):
    server: _SinkServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        try:
            payload = json.loads(raw) if raw else {}
        except ValueError:
            payload = {"raw": raw}
        with self.server.lock:
            self.server.posts.append((self.path, payload))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SinkHandler)
        self.lock = threading.Lock()
        self.posts: list[tuple[str, dict[str, Any]]] = []


class ResponseSink:
    """Stands in for Slack's response_url endpoints: records every JSON body posted to it."""

    def __init__(self) -> None:
        self._server = _SinkServer()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="response-sink",
            daemon=True,
        )
        self._thread.start()

    def url(self, name: str = "r") -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{name}"

    def posts(self, name: str | None = None) -> list[dict[str, Any]]:
        with self._server.lock:
            return [p for path, p in self._server.posts if name is None or path == f"/{name}"]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ResponseSink:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
