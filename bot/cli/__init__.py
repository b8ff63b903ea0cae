"""The `adoptbot` command: parse arguments, call services, print. Also `python -m bot`.

The commands are listed in `bot.wiring.add_commands`; what they share is in `bot.cli.context`. `main`
builds the parser (light: no SQLAlchemy, Bolt or service is imported to parse arguments or print
`--help`), wires the process (`bot.wiring.wire`: jobs, outbox hooks, demo steps) and runs the handler.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence

from bot import __version__
from bot.cli.context import Context
from bot.config import ConfigError, load_settings, normalise_database_url
from bot.errors import AdoptbotError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="adoptbot",
        description="Adoptbot: the change-management loop for everyday AI use, inside Slack.",
    )
    parser.add_argument("--version", action="version", version=f"adoptbot {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens (to stderr)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    from bot import wiring

    wiring.add_commands(subparsers)
    return parser


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
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from bot import wiring

    wiring.wire()
    db_url = "?"
    try:
        settings = load_settings()
        db_url = normalise_database_url(args.db) if getattr(args, "db", None) else settings.database_url
        # --db is the database for everything the command does (also the OAuth installation's token).
        settings = dataclasses.replace(settings, database_url=db_url)
        context = Context(settings=settings, db_url=db_url, listeners=wiring.register_listeners)
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


__all__ = ["main", "run"]
