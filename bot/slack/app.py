"""Build the Bolt app: client, middleware, and the features' listeners.

`build_app(..., listeners=bot.wiring.register_listeners)`: the wiring registers every feature's Bolt
listeners, `/adopt` subcommands and App Home sections on the app, in one place (see bot.wiring). A
feature's listener module has a `register(app)` with Bolt's own decorators and IDs from ids.py, e.g.
`app.action(ids.NUDGE_TRIED)(on_tried)`, and names its `SUBCOMMANDS` (bot.slack.subcommands) and
`HOME_SECTIONS` (bot.slack.home). Inside a listener, get the database and the acting person with
`with listener_scope(context) as scope:` (see bot.slack.scope).

The app always verifies Slack's request signatures (HTTP mode; Socket Mode requests arrive over the
authenticated websocket and are passed through by the same middleware). It uses the one WebClient from
`make_web_client`, so SLACK_API_URL applies to every call, Bolt's startup `auth.test` included.
Listeners run on Bolt's thread pool after the ack (`process_before_response=False`): Slack gets its
answer as soon as a listener calls `ack()`, and slow work continues in the background.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from sqlalchemy import Engine

from bot import i18n
from bot.config import ConfigError, Settings
from bot.content import Library
from bot.slack import install
from bot.slack.client import make_web_client
from bot.slack.dedupe import skip_duplicate_events
from bot.slack.replies import ReplySender
from bot.slack.runtime import ANSWERED_KEY, CONTEXT_KEY, Runtime, bind_runtime, runtime_of

# Threads running listeners after the ack. Each in-flight request holds one (waiting for its listener to
# ack), and post-ack work (views.open, Web API calls) holds one too: keep it above the server's threads.
DEFAULT_LISTENER_THREADS: Final = 16


class _QuietAboutOurOwnClient(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN (read from the environment) goes unused because we pass `client`:
    our client carries that very token, so the warning would only confuse whoever reads the log."""

    _message = warning_client_prioritized_and_token_skipped()

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != self._message


_BOLT_LOGGER = logging.getLogger("bot.slack.bolt")
_BOLT_LOGGER.addFilter(_QuietAboutOurOwnClient())
_SLACK_SDK_LOGGER = logging.getLogger("slack_sdk.web.base_client")  # every WebClient's logger


_pinned: set[str] = set()


def _pin_level(logger: logging.Logger) -> None:
    """Bolt and slack_sdk decide whether to *build* their debug lines (one per middleware and request; the
    whole JSON of every Web API call, a modal included) by the logger's own level, not its effective one:
    NOTSET, the default, counts as DEBUG, and logging then drops the lines it was handed. Give the logger
    the level it effectively has when an app is built (again at every build, unless someone else set it):
    configure logging before building the app to see their debug lines."""
    if logger.level != logging.NOTSET and logger.name not in _pinned:
        return  # set by whoever configured logging: theirs to decide
    logger.setLevel(logging.NOTSET)
    logger.setLevel(logger.getEffectiveLevel())
    _pinned.add(logger.name)


class AdoptbotApp(App):
    """Bolt's App, plus two things every request carries in its context: the app's runtime
    (`context["adoptbot"]`, see bot.slack.runtime) and when Slack has been answered
    (`context["adoptbot.answered"]`).

    Bolt's thread runner clears a request's ack when its listener raises after acking; if that happens
    before the request thread has picked the ack up (it polls every 10 ms), Slack gets no answer at all.
    The error handler waits for this event first, so an ack once given is always delivered.
    """

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        answered = threading.Event()
        req.context[CONTEXT_KEY] = runtime_of(self)
        req.context[ANSWERED_KEY] = answered
        try:
            return super().dispatch(req)
        finally:
            answered.set()


def build_app(
    settings: Settings,
    engine: Engine,
    library: Library,
    *,
    listeners: Callable[[App], None],
    socket_mode: bool = False,
    listener_threads: int = DEFAULT_LISTENER_THREADS,
    verify_token: bool = True,
    send_replies: bool = True,
) -> App:
    """The Bolt app, with the listeners `listeners(app)` registers (`bot.wiring.register_listeners`).

    With `verify_token` (Bolt's default) it calls Slack's `auth.test` right away and fails if the token is
    refused. `serve` checks the token once at startup and builds each gunicorn worker's app with
    `verify_token=False` (auth.test then happens on the worker's first request): a worker that cannot reach
    Slack while it boots must not take the whole server down with it.

    With `send_replies` (the default) the messages a request queued are sent right after its answer by
    this app (`bot.slack.replies`); without, they wait for the outbox worker or the next tick.
    """
    oauth = settings.oauth_install and not settings.slack_bot_token
    if not settings.slack_bot_token and not oauth:
        raise ConfigError(
            "SLACK_BOT_TOKEN is not set; the Slack app needs it, or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and "
            "SLACK_STATE_SECRET to be installed through Slack's OAuth flow (see README, Configuration)."
        )
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set; HTTP mode needs it to verify requests from Slack."
        )
    _pin_level(_BOLT_LOGGER)
    _pin_level(_SLACK_SDK_LOGGER)
    i18n.preload()  # no request pays for reading a language's catalog and Babel data before its ack
    app = AdoptbotApp(
        name="adoptbot",
        client=make_web_client(settings),
        signing_secret=settings.slack_signing_secret or "",
        oauth_settings=install.oauth_settings(settings, engine) if oauth else None,
        request_verification_enabled=True,
        token_verification_enabled=verify_token and not oauth,
        process_before_response=False,
        raise_error_for_unhandled_request=False,
        logger=_BOLT_LOGGER,
        listener_executor=ThreadPoolExecutor(
            max_workers=listener_threads, thread_name_prefix="adoptbot-listener"
        ),
    )
    runtime = Runtime(
        settings=settings,
        engine=engine,
        library=library,
        replies=ReplySender(engine, settings) if send_replies else None,
    )
    bind_runtime(app, runtime)
    app.middleware(skip_duplicate_events(runtime))
    if oauth:
        app.enable_token_revocation_listeners()  # app_uninstalled, tokens_revoked: the installation goes
    listeners(app)
    return app


def shutdown_listeners(app: App, *, wait: bool = True) -> None:
    """Let listeners still running after their ack finish (used on graceful shutdown)."""
    executor = app.listener_runner.listener_executor
    if isinstance(executor, ThreadPoolExecutor):
        executor.shutdown(wait=wait)
    replies = runtime_of(app).replies
    if replies is not None:
        replies.shutdown(wait=wait)  # after the listeners: they may still hand over what they queued
