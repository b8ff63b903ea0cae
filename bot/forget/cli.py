"""`adoptbot forget SLACK_USER_ID [--dry-run]`: the right to erasure, with every past count kept true."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.context import add_db_option

if TYPE_CHECKING:
    from bot.cli.context import Context

DESCRIPTION = """\
Erase a person's personal data (right to erasure), in one transaction.

Erased: name, email, Slack ID, time zones, Slack status, role, rights and leads; the text, tool and links
of their wins (approved ones keep counting, with no author; others are deleted); their pulse comments,
and the link from their answer sheets to them; their name on broadcasts they sent (drafts and scheduled
ones are cancelled) and on wins they reviewed; every stored message to them (those not sent yet are
cancelled) and their mention in messages to others. The bot's posts of their wins in Slack are replaced
by a removal note at the next send.

Kept, with nothing identifying: an anonymous record that the counts point at (nudges received, actions,
pulse invitations, broadcast receipts), so the metrics of past weeks do not change.

Exit 2 when no record mentions the ID: never known, or already erased (Adoptbot keeps no trace of an
erased Slack ID, so it cannot tell the two apart)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "forget",
        help="erase a person's personal data (right to erasure); aggregates stay correct",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "who",
        metavar="SLACK_USER_ID",
        help="the person's Slack user ID (U0123ABCD); or the email of someone not linked to Slack yet",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="show what would be erased, and change nothing"
    )
    add_db_option(parser)
    parser.set_defaults(handler=forget)


def forget(args: argparse.Namespace, ctx: Context) -> int:
    from bot.db import session_scope
    from bot.forget.service import forget as erase
    from bot.forget.service import parse_identifier

    parse_identifier(args.who)  # a malformed ID is refused before the database is opened
    engine = ctx.existing_engine() if args.dry_run else ctx.engine()  # a dry run never migrates either
    with session_scope(engine) as session:
        report = erase(session, args.who, settings=ctx.settings)
        if args.dry_run:
            session.rollback()
    if args.dry_run:
        print(f"Dry run, nothing changed. `adoptbot forget {report.who}` would erase:")
    else:
        print(f"Erased what Adoptbot kept about {report.who}:")
    for line in report.lines():
        print(f"  {line}")
    if kept := report.kept_line():
        print(kept)
    if report.admin:
        print(f"Note: {report.who} is listed in ADOPTBOT_ADMINS; remove it there too.")
    return 0
