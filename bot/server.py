"""Serving the Slack app: a small WSGI app on gunicorn (HTTP mode), or a Socket Mode connection.

HTTP mode: `WsgiApp` answers `POST /slack/events` through Bolt's WSGI adapter after checking the signature
on the raw body (forged, unsigned or stale requests 401; signed bodies that are not a Slack payload 400;
neither reaches a listener), `GET /healthz` with the database's state (200 or 503), 404 otherwise. It runs
on gunicorn's threaded workers (`gthread`), 2 processes x 8 threads by default (`WEB_CONCURRENCY` /
`ADOPTBOT_THREADS`, `--workers` / `--threads`): the fastest setup measured for a Bolt app on this kind of
machine. The app is not preloaded: each worker builds its own Bolt app and engine after the fork
(`bot.db.get_engine` is keyed by process ID), so no connection crosses a fork.

Background work (the scheduler and the outbox worker) runs once per instance, in whichever worker holds an
exclusive `flock` on a lock file the master creates (`Leadership`): every worker tries at boot and every
2 s, and the kernel frees the lock when its holder exits for any reason, so another takes over within
seconds and there is never a second holder. Not in the master: a thread busy in SQLite or libpq when the
master forks leaves a lock held in the child, and the new worker hangs on its first connection (this
happened in the tests). `--no-scheduler` turns both off for an instance that should only answer Slack.

Shutdown (SIGTERM): gunicorn lets in-flight requests finish (`graceful_timeout`, 25 s), each worker lets
its listeners finish their post-ack work, and the leader lets a running tick finish and the message being
sent go out, gives its other claims back and releases the lock. Socket Mode is one process: the Bolt app
over Slack's websocket plus the same background threads; SIGTERM/SIGINT close the connection, let running
listeners finish, then stop the background work.
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import hmac
import io
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bot import __version__
from bot.config import DEFAULT_THREADS, DEFAULT_WORKERS, Settings
from bot.content import Library
from bot.errors import Failure
from bot.slack import web
from bot.slack.app import build_app, shutdown_listeners
from bot.slack.client import make_web_client
from bot.slack.install import INSTALL_PATH, REDIRECT_PATH
from bot.slack.runtime import runtime_of

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.outbox import OutboxWorker

log = logging.getLogger("bot.server")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SIGNATURE_MAX_AGE_SECONDS = 5 * 60
MAX_BODY_BYTES = 1_000_000  # Slack's payloads are a few kilobytes; refuse anything absurd before reading it
# Bolt's listener pool, per server thread. Each request waiting for its ack holds a pool thread, and post-ack
# work (views.open and other Web API calls) holds one after the ack. With 2, a burst of button clicks
# filled the pool with post-ack work and new acks queued behind it (the ack's p99 rose to 2-4x its p50 in
# benchmarks/ack_latency.py, on Adoptbot and on the bare Bolt app alike); with 4, up to three requests'
# post-ack work per server thread runs before any ack waits for a thread.
LISTENER_THREADS_PER_THREAD = 4
GRACEFUL_SECONDS = 25  # PaaS platforms (Heroku, Render, Fly) kill 30 s after SIGTERM
LEADERSHIP_RETRY_SECONDS = 2.0

_JSON = [("Content-Type", "application/json; charset=utf-8")]


def database_ok(engine: Engine) -> bool:
    """Whether the database answers `SELECT 1` (a read: on SQLite it takes no write lock)."""
    try:
        with engine.connect().execution_options(readonly=True) as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as error:
        log.warning("health check: database unreachable: %s", str(error).strip().splitlines()[0])
        return False
    return True


def verify_token(settings: Settings) -> str:
    """Check SLACK_BOT_TOKEN with Slack's `auth.test`: the bot's user ID, or Failure in one sentence."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    client = make_web_client(settings)
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        raise Failure(f"Slack refused SLACK_BOT_TOKEN ({code or 'unknown error'}).") from None
    except (SlackClientError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise Failure(f"cannot reach Slack at {settings.slack_api_url}: {reason}.") from None
    return str(answer.get("user_id") or "")


class WsgiApp:
    """The WSGI application: Slack's requests to Bolt, a health check, the mounted web pages
    (`bot.slack.web`: the dashboard under `/dashboard`), 404 for everything else."""

    def __init__(self, bolt_app: App, engine: Engine, *, mode: str = "http") -> None:
        self.bolt_app = bolt_app
        self.engine = engine
        self.mode = mode
        self._slack = SlackRequestHandler(bolt_app, path=EVENTS_PATH)
        self._secret = (runtime_of(bolt_app).settings.slack_signing_secret or "").encode()
        self._verifier = SignatureVerifier(self._secret.decode())  # its clock is the one Bolt checks with
        self._mounts = dict(web.mounts(runtime_of(bolt_app)))  # the web pages (bot.slack.web)
        self._mounted: dict[str, web.WsgiApplication] = {}
        self._mount_lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == EVENTS_PATH:
            if method != "POST":
                allow = [("Allow", "POST")]
                return _reply(start_response, "405 Method Not Allowed", {"error": "use POST"}, allow)
            length = environ.get("CONTENT_LENGTH") or "0"
            if not length.isdigit() or int(length) > MAX_BODY_BYTES:
                return _reply(start_response, "413 Content Too Large", {"error": "request body too large"})
            return self.slack_request(environ, start_response, int(length))
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            return self.health(start_response, head=method == "HEAD")
        if path in (INSTALL_PATH, REDIRECT_PATH) and method == "GET" and self.bolt_app.oauth_flow is not None:
            # Slack's OAuth install: Bolt's flow (state cookie and store, oauth.v2.access, the stores)
            return self._slack(environ, start_response)
        for prefix in self._mounts:
            if path == prefix or path.startswith(prefix + "/"):
                inner = {
                    **environ,
                    "SCRIPT_NAME": environ.get("SCRIPT_NAME", "") + prefix,
                    "PATH_INFO": path[len(prefix) :] or "/",
                }
                return self._mounted_app(prefix)(inner, start_response)
        return _reply(start_response, "404 Not Found", {"error": "not found"})

    def _mounted_app(self, prefix: str) -> web.WsgiApplication:
        """The application mounted at `prefix`, built on its first request (once, whatever the threads)."""
        with self._mount_lock:
            found = self._mounted.get(prefix)
            if found is None:
                found = self._mounted[prefix] = self._mounts[prefix].make(runtime_of(self.bolt_app))
            return found

    def slack_request(
        self, environ: WSGIEnvironment, start_response: StartResponse, length: int
    ) -> Iterable[bytes]:
        """Check the signature on the raw bytes before anything parses them, then hand a well-formed
        request to Bolt: forged, unsigned or stale -> 401, signed but not a Slack payload -> 400; neither
        reaches a listener, the database or the log as a traceback."""
        raw = environ["wsgi.input"].read(length) if length else b""
        if not self._signed(
            raw, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"), environ.get("HTTP_X_SLACK_SIGNATURE")
        ):
            return _reply(start_response, "401 Unauthorized", {"error": "invalid request signature"})
        if not _well_formed(raw, environ.get("CONTENT_TYPE")):
            log.warning("a signed Slack request had a body that is not a Slack payload; answered 400")
            return _reply(start_response, "400 Bad Request", {"error": "malformed request body"})
        return self._slack({**environ, "wsgi.input": io.BytesIO(raw)}, start_response)

    def _signed(self, raw: bytes, timestamp: str | None, signature: str | None) -> bool:
        """Slack's v0 signature over the raw bytes, sent within the last 5 minutes (Bolt's own check, on
        bytes: slack_sdk's verifier decodes the body first and raises on a body that is not UTF-8)."""
        if not timestamp or not signature or not timestamp.isdigit():
            return False
        if abs(self._verifier.clock.now() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
            return False
        base = b"v0:" + timestamp.encode() + b":" + raw
        expected = "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

    def health(self, start_response: StartResponse, *, head: bool = False) -> Iterable[bytes]:
        ok = database_ok(self.engine)
        body = {
            "status": "ok" if ok else "unavailable",
            "database": "ok" if ok else "unreachable",
            "mode": self.mode,
            "version": __version__,
        }
        response = _reply(start_response, "200 OK" if ok else "503 Service Unavailable", body)
        return [] if head else response

    def close(self, *, dispose: bool = True) -> None:
        """Let listeners still working after their ack finish, then (by default) release the database pool."""
        shutdown_listeners(self.bolt_app, wait=True)
        if dispose:
            self.engine.dispose()


def _well_formed(raw: bytes, content_type: str | None) -> bool:
    """Whether Bolt can read `raw` as Slack's payloads are written: a JSON object (Events API), or a form
    (slash commands) whose `payload` field, when there is one, is a JSON object (interactivity)."""
    try:
        parsed = parse_body(raw.decode("utf-8"), content_type)
    except ValueError:  # not UTF-8, not JSON
        return False
    return isinstance(parsed, dict)  # an interactivity form comes back as its `payload` object


def _reply(
    start_response: StartResponse,
    status: str,
    body: dict[str, Any],
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(status, [*_JSON, ("Content-Length", str(len(payload))), *(headers or [])])
    return [payload]


class Background:
    """The scheduler and the outbox worker of one instance (see the module docstring for where they run)."""

    def __init__(self, engine: Engine, settings: Settings, library: Library) -> None:
        self.engine = engine
        self.settings = settings
        self.library = library
        self._scheduler: BackgroundScheduler | None = None
        self._outbox: OutboxWorker | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        from bot.outbox import OutboxWorker
        from bot.scheduler import start_scheduler

        with self._lock:
            if self._outbox is None:
                client = make_web_client(self.settings, retry_rate_limits=False)
                self._outbox = OutboxWorker(self.engine, client, self.settings)
                self._outbox.start()
            if self._scheduler is None:
                self._scheduler = start_scheduler(self.engine, self.settings, self.library)
        log.info("scheduler and outbox worker started (process %d)", os.getpid())

    def stop(self, timeout: float = 20.0) -> None:
        """A tick in progress finishes (it may queue messages), then the outbox finishes sending and stops."""
        from bot.scheduler import stop_scheduler

        with self._lock:
            scheduler, self._scheduler = self._scheduler, None
            outbox, self._outbox = self._outbox, None
        if scheduler is not None:
            stop_scheduler(scheduler, wait=True)
        if outbox is not None and not outbox.stop(timeout):
            log.warning("outbox worker did not stop within %.0f s; its claims are taken over later", timeout)
        log.info("scheduler and outbox worker stopped")


@dataclass(frozen=True)
class HttpOptions:
    host: str = "0.0.0.0"
    port: int = 3000
    workers: int = DEFAULT_WORKERS
    threads: int = DEFAULT_THREADS
    background: bool = True  # run the scheduler and the outbox worker (in one worker, see above)
    graceful_timeout: int = GRACEFUL_SECONDS
    log_level: str = "info"


def gunicorn_config(options: HttpOptions) -> dict[str, Any]:
    """The gunicorn settings `serve` uses (the benchmark serves the bare Bolt app with the same ones)."""
    config: dict[str, Any] = {
        "bind": f"{options.host}:{options.port}",
        "worker_class": "gthread",
        "workers": options.workers,
        "threads": options.threads,
        "timeout": 30,
        "graceful_timeout": options.graceful_timeout,
        "keepalive": 5,
        "preload_app": False,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": options.log_level,
        "proc_name": "adoptbot",
        "control_socket_disable": True,  # gunicorn >= 25: no control socket in $HOME
    }
    if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
        config["worker_tmp_dir"] = "/dev/shm"  # worker heartbeats never wait on a slow disk
    return config


def _gunicorn_application(config: dict[str, Any], factory: Callable[[], Any]) -> Any:
    from gunicorn.app.base import BaseApplication

    class _Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in config.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            app = factory()
            # Everything built so far (the app, its listeners, SQLAlchemy's metadata, the content library)
            # lives as long as the worker: move it out of the garbage collector's sight, so the full
            # collections that requests trigger do not walk it again and again (fewer long pauses).
            gc.freeze()
            return app

    return _Application()


def run_gunicorn(config: dict[str, Any], factory: Callable[[], Any]) -> int:
    """Serve `factory()` (called in each worker after the fork) with gunicorn until SIGTERM/SIGINT."""
    _gunicorn_application(config, factory).run()
    return 0


class Leadership:
    """Runs the instance's background work in this worker process while it holds the instance's lock."""

    def __init__(
        self, lock_path: str, background: Callable[[], Background], alive: Callable[[], bool]
    ) -> None:
        self.lock_path = lock_path
        self._background = background
        self._alive = alive
        self._stopping = threading.Event()
        self._running: Background | None = None
        self._fd: int | None = None
        self._thread = threading.Thread(target=self._run, name="adoptbot-leadership", daemon=True)

    @property
    def leading(self) -> bool:
        return self._running is not None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self._fd = fd
        while not self._stopping.is_set() and self._alive():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._stopping.wait(LEADERSHIP_RETRY_SECONDS)
                continue
            if self._stopping.is_set() or not self._alive():
                return  # told to stop while taking the lock: closing the file releases it
            background = self._background()
            try:
                background.start()
            except Exception:
                log.exception("could not start the scheduler and the outbox; letting another worker try")
                background.stop()
                fcntl.flock(fd, fcntl.LOCK_UN)
                self._stopping.wait(LEADERSHIP_RETRY_SECONDS * 5)
                continue
            self._running = background
            log.info("this worker (process %d) runs the scheduler and the outbox", os.getpid())
            return

    def stop(self) -> None:
        """Stop trying; if leading, stop the background work (it finishes what it is doing), then let go."""
        self._stopping.set()
        self._thread.join(timeout=LEADERSHIP_RETRY_SECONDS + 5)
        if self._running is not None:
            self._running.stop()
            self._running = None
        if self._fd is not None:
            os.close(self._fd)  # releases the lock for the next worker (if the instance keeps running)
            self._fd = None


def serve_http(
    settings: Settings,
    db_url: str,
    master_engine: Engine,
    library: Library,
    options: HttpOptions,
    *,
    listeners: Callable[[App], None],
) -> int:
    """Run the HTTP server in the foreground until SIGTERM (graceful) or SIGINT; each worker's app gets
    its listeners from `listeners` (`bot.wiring.register_listeners`)."""
    from bot.db import get_engine

    master_engine.dispose()  # the master keeps no connection a worker could inherit
    lock_dir = tempfile.mkdtemp(prefix="adoptbot-")
    lock_path = os.path.join(lock_dir, "background.lock")
    in_this_worker: dict[str, Leadership] = {}

    def post_fork(server: Any, worker: Any) -> None:
        master_engine.dispose(close=False)  # the master's pooled connections are not ours to use or close

    def post_worker_init(worker: Any) -> None:
        if not options.background:
            return

        def background() -> Background:
            return Background(get_engine(db_url), settings, library)

        leadership = Leadership(lock_path, background, alive=lambda: bool(worker.alive))
        in_this_worker["leadership"] = leadership
        leadership.start()

    def worker_exit(server: Any, worker: Any) -> None:
        app = getattr(worker, "wsgi", None)
        if isinstance(app, WsgiApp):
            app.close(dispose=False)  # listeners still running after their ack finish first
        leadership = in_this_worker.pop("leadership", None)
        if leadership is not None:
            leadership.stop()
        if isinstance(app, WsgiApp):
            app.engine.dispose()

    def on_exit(server: Any) -> None:
        shutil.rmtree(lock_dir, ignore_errors=True)

    def factory() -> WsgiApp:
        engine = get_engine(db_url)
        bolt_app = build_app(
            settings,
            engine,
            library,
            listeners=listeners,
            listener_threads=options.threads * LISTENER_THREADS_PER_THREAD,
            verify_token=False,
        )
        web.warm(runtime_of(bolt_app))  # e.g. the dashboard's figures, so its first page need not wait
        return WsgiApp(bolt_app, engine)

    config = gunicorn_config(options) | {
        "post_fork": post_fork,
        "post_worker_init": post_worker_init,
        "worker_exit": worker_exit,
        "on_exit": on_exit,
    }
    log.info(
        "serving Slack on http://%s:%d%s (%d workers x %d threads)",
        options.host,
        options.port,
        EVENTS_PATH,
        options.workers,
        options.threads,
    )
    return run_gunicorn(config, factory)


def serve_socket_mode(
    settings: Settings,
    engine: Engine,
    library: Library,
    *,
    listeners: Callable[[App], None],
    background: bool = True,
) -> int:
    """Connect to Slack over Socket Mode and serve until SIGTERM/SIGINT; then close cleanly."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if not settings.slack_app_token:
        raise ValueError("Socket Mode needs SLACK_APP_TOKEN")
    app = build_app(settings, engine, library, listeners=listeners, socket_mode=True)
    handler: Any = SocketModeHandler(app, app_token=settings.slack_app_token)  # connect/close are untyped
    jobs = Background(engine, settings, library) if background else None
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        handler.connect()
        log.info("connected to Slack over Socket Mode")
        if jobs is not None:
            jobs.start()
        while not stopping.wait(1.0):
            pass
        log.info("shutting down: closing the Socket Mode connection")
    finally:
        handler.close()
        shutdown_listeners(app, wait=True)
        if jobs is not None:
            jobs.stop()
        for sig, handler_before in previous.items():
            signal.signal(sig, handler_before)
    return 0
