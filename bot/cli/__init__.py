"""The `adoptbot` command: parse arguments, call services, print. Also `python -m bot`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot import __version__
from bot.config import ConfigError, Settings, load_settings, normalise_database_url
from bot.errors import AdoptbotError, Failure, UsageError

if TYPE_CHECKING:
    from bot.content import Library


class CommandModule(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


@dataclass
class Context:
    """What a command handler gets: settings, and the database and content library on first use."""

    settings: Settings
    db_url: str
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


def _command_modules() -> list[CommandModule]:
    from bot.cli import content as content_cmd
    from bot.cli import db as db_cmd
    from bot.cli import serve as serve_cmd
    from bot.cli import tick as tick_cmd
    from bot.demo import cli as demo_cmd
    from bot.digest import cli as digest_cmd
    from bot.forget import cli as forget_cmd
    from bot.metrics import cli as metrics_cmd
    from bot.outbox import cli as outbox_cmd
    from bot.people import cli as roster_cmd
    from bot.pulses import cli as pulse_cmd

    return [
        demo_cmd,
        db_cmd,
        roster_cmd,
        content_cmd,
        metrics_cmd,
        digest_cmd,
        pulse_cmd,
        forget_cmd,
        tick_cmd,
        outbox_cmd,
        serve_cmd,
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adoptbot",
        description="Adoptbot: the change-management loop for everyday AI use, inside Slack.",
    )
    parser.add_argument("--version", action="version", version=f"adoptbot {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens (to stderr)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for module in _command_modules():
        module.register(subparsers)
    return parser


def add_db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: DATABASE_URL, else sqlite:///adoptbot.db)",
    )


def add_week_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W47")


def week_monday(week: str | None, settings: Settings) -> date:
    """Monday of `--week` (UsageError in one sentence if malformed), else of the last complete week."""
    from bot import clock
    from bot.metrics.service import last_complete_week

    if not week:
        return last_complete_week(settings)
    try:
        return clock.parse_iso_week(week)
    except ValueError as error:
        raise UsageError(f"--week: {error}.") from None


def _describe_db(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # slack_sdk logs a failed request at ERROR before raising; the command reports it in one line.
        logging.getLogger("slack_sdk").setLevel(logging.CRITICAL)
    db_url = "?"
    try:
        settings = load_settings()
        db_url = normalise_database_url(args.db) if getattr(args, "db", None) else settings.database_url
        context = Context(settings=settings, db_url=db_url)
        code: int = args.handler(args, context)
        return code
    except ConfigError as error:
        print(f"adoptbot: {error}", file=sys.stderr)
        return 2
    except AdoptbotError as error:
        print(f"adoptbot: {error}", file=sys.stderr)
        return error.exit_code
    except (OperationalError, ProgrammingError) as error:
        reason = (str(error.orig).strip().splitlines() or ["unknown error"])[0]
        if isinstance(error, OperationalError) and "locked" not in reason:
            message = f"cannot use the database at {_describe_db(db_url)}: {reason}"
        else:
            message = f"database error: {reason}"
        print(f"adoptbot: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("adoptbot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `adoptbot metrics | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def run() -> None:
    sys.exit(main())


__all__ = ["Context", "Failure", "add_db_option", "main", "run"]
