"""`adoptbot db upgrade`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.context import add_db_option

if TYPE_CHECKING:
    from bot.cli.context import Context


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = subparsers.add_parser("db", help="database maintenance", description="Database maintenance.")
    actions = db.add_subparsers(dest="db_command", metavar="ACTION")
    actions.required = True
    up = actions.add_parser(
        "upgrade",
        help="apply database migrations",
        description=(
            "Apply pending database migrations (Alembic). Safe to run twice and from two machines at once."
        ),
    )
    add_db_option(up)
    up.set_defaults(handler=upgrade)


def upgrade(args: argparse.Namespace, ctx: Context) -> int:
    from bot.migrate import upgrade as run_upgrade

    before, after = run_upgrade(ctx.engine(migrate=False))
    if before == after:
        print(f"Database is up to date (revision {after}).")
    else:
        print(f"Database upgraded from {before or 'empty'} to revision {after}.")
    return 0
