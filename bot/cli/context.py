"""What every `adoptbot` command shares: the `Context` a handler gets, and the common options.

A command lives in its feature's `cli.py` (bot.cli's own modules hold the commands that belong to no
feature: content, db, serve, tick) and has one function that adds its parser:

    def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
        parser = subparsers.add_parser("metrics", help="...")
        add_db_option(parser)
        parser.set_defaults(handler=run)

    def run(args: argparse.Namespace, ctx: Context) -> int:
        from bot.metrics.service import compute_metrics     # imported when the command runs
        ...

`bot.wiring.add_commands` lists every command module. Parsing arguments must stay light: a command module
imports at its top only what `--help` needs (argparse, this module, bot.errors), and its services,
SQLAlchemy, Bolt, the server inside the handler.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from bot.config import Settings
from bot.errors import UsageError

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient
    from sqlalchemy import Engine

    from bot.content import Library


class CommandModule(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


@dataclass
class Context:
    """What a command handler gets: settings, and the database and content library on first use.

    `listeners` registers every feature's Slack listeners on an app (`bot.wiring.register_listeners`,
    handed over by `bot.cli.main`): what `serve` builds its app with.
    """

    settings: Settings
    db_url: str
    listeners: Callable[[App], None] | None = None
    _engine: Engine | None = field(default=None, init=False)

    def engine(self, *, migrate: bool = True) -> Engine:
        """The database, brought up to the newest schema first (safe on several machines at once)."""
        if self._engine is None:
            from bot.db import get_engine
            from bot.migrate import refuse_foreign_file, sqlite_path, upgrade

            path = sqlite_path(self.db_url)
            if path is not None:
                refuse_foreign_file(path)
            engine = get_engine(self.db_url)
            if migrate:
                upgrade(engine)
            self._engine = engine
        return self._engine

    def existing_engine(self) -> Engine:
        """The database as it is, for commands that only read: never created, never migrated.

        UsageError (exit 2) when there is no Adoptbot database at `db_url` or its schema is not the newest.
        """
        if self._engine is None:
            from bot.db import get_engine
            from bot.migrate import require_current_schema

            require_current_schema(self.db_url, lambda: get_engine(self.db_url))
            self._engine = get_engine(self.db_url)
        return self._engine

    @cached_property
    def library(self) -> Library:
        from bot.content import load_library

        return load_library(self.settings.content_dir)

    def web_client(self, *, retry_rate_limits: bool = True) -> WebClient:
        """A Slack Web API client with these settings (`bot.slack.client.make_web_client`)."""
        from bot.slack.client import make_web_client

        return make_web_client(self.settings, retry_rate_limits=retry_rate_limits)


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: DATABASE_URL, else sqlite:///adoptbot.db)",
    )


def add_week_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W47")


def week_monday(week: str | None, settings: Settings) -> date:
    """Monday of `--week` (UsageError in one sentence if malformed), else of the last complete week
    (the last ISO week that has fully ended in the organisation's time zone)."""
    from bot import clock

    if not week:
        today = clock.local_today(settings.tz)
        return today - timedelta(days=today.weekday() + 7)
    try:
        return clock.parse_iso_week(week)
    except ValueError as error:
        raise UsageError(f"--week: {error}.") from None
