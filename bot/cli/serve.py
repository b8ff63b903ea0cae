"""`adoptbot serve [--port N] [--socket-mode] [--no-scheduler]`: run the Slack app (see bot.server)."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from dotenv import dotenv_values

from bot.cli.context import add_db_option
from bot.config import DEFAULT_THREADS, DEFAULT_WORKERS, ConfigError

if TYPE_CHECKING:
    from bot.cli.context import Context


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {value!r}")
    return int(value)


def _count(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 64:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 64, not {value!r}")
    return int(value)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the Slack app",
        description="Run the Slack app. HTTP mode (default): Slack's events, commands, shortcuts and "
        "interactivity at POST /slack/events, a health check at GET /healthz, on gunicorn. Socket Mode with "
        "--socket-mode or when SLACK_APP_TOKEN is set. Applies pending migrations first, and runs the "
        "scheduler and the outbox sender in-process unless --no-scheduler.",
    )
    parser.add_argument("--port", type=_port, help="HTTP port (default: PORT, else 3000)")
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on (default: all, 0.0.0.0)")
    parser.add_argument(
        "--socket-mode", action="store_true", help="connect over Socket Mode (needs SLACK_APP_TOKEN)"
    )
    parser.add_argument(
        "--no-scheduler",
        action="store_true",
        help="only answer Slack: no scheduled jobs and no outbox sender here (another instance or a cron "
        "`adoptbot tick` does them)",
    )
    parser.add_argument(
        "--workers", type=_count, help=f"HTTP processes (default: WEB_CONCURRENCY, else {DEFAULT_WORKERS})"
    )
    parser.add_argument(
        "--threads",
        type=_count,
        help=f"threads per process (default: ADOPTBOT_THREADS, else {DEFAULT_THREADS})",
    )
    add_db_option(parser)
    parser.set_defaults(handler=serve)


def _env_count(name: str, default: int) -> int:
    """A worker/thread count from the environment (or the .env file, like every other setting)."""
    raw = os.environ.get(name)
    if raw is None and Path(".env").is_file():
        raw = dotenv_values(Path(".env")).get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return _count(raw.strip())
    except argparse.ArgumentTypeError as error:
        raise ConfigError(f"{name} {error}.") from None


def serve(args: argparse.Namespace, ctx: Context) -> int:
    from bot.server import HttpOptions, serve_http, serve_socket_mode, verify_token

    settings = ctx.settings
    socket_mode = bool(args.socket_mode or settings.slack_app_token)
    oauth = settings.oauth_install and not settings.slack_bot_token
    if oauth and socket_mode:
        raise ConfigError("The OAuth install needs HTTP mode (Slack sends people to /slack/oauth_redirect).")
    if oauth and not settings.public_url:
        raise ConfigError("The OAuth install needs ADOPTBOT_PUBLIC_URL, where Slack sends people back to.")
    if not oauth:
        settings.require("SLACK_BOT_TOKEN")
    if socket_mode and not settings.slack_app_token:
        raise ConfigError("SLACK_APP_TOKEN is not set; Socket Mode needs an app-level token (xapp-...).")
    if not socket_mode and not settings.slack_signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set; HTTP mode needs it to verify Slack's requests "
            "(or set SLACK_APP_TOKEN for Socket Mode)."
        )
    options = HttpOptions(
        host=args.host,
        port=args.port or settings.port,
        workers=args.workers or _env_count("WEB_CONCURRENCY", DEFAULT_WORKERS),
        threads=args.threads or _env_count("ADOPTBOT_THREADS", DEFAULT_THREADS),
        background=not args.no_scheduler,
    )
    ours = logging.getLogger("bot")
    if ours.getEffectiveLevel() > logging.INFO:
        ours.setLevel(logging.INFO)  # a server logs what it does (start, stop, failures), with or without -v
    engine = ctx.engine()  # applies pending migrations (safe with several instances starting at once)
    library = ctx.library  # a broken content library stops the start with its first problem
    if not oauth:  # with the OAuth install there may be no installation yet: /slack/install makes it
        verify_token(settings)
    if ctx.listeners is None:
        raise ConfigError("serve needs the features' listeners (run it through `adoptbot serve`).")
    if socket_mode:
        return serve_socket_mode(
            settings, engine, library, listeners=ctx.listeners, background=options.background
        )
    return serve_http(settings, ctx.db_url, engine, library, options, listeners=ctx.listeners)
