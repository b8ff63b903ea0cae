"""`adoptbot digest [--week YYYY-Www] [--send]`: each leader's digest in the terminal, or delivered."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import TYPE_CHECKING

from bot.cli.context import add_db_option, add_week_option, week_monday
from bot.errors import Failure

if TYPE_CHECKING:
    from bot.cli.context import Context


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "digest",
        help="show the digest each leader would get, or send it",
        description=(
            "Shows the weekly digest of every leader (their teams, headline figures with their change, "
            "one row per team) and the org-wide one, for an ISO week (default: the last complete week in "
            "ADOPTBOT_TIMEZONE). With --send it delivers them in Slack now, with the trend chart and CSV "
            "(needs SLACK_BOT_TOKEN), and nothing else that is queued; a digest already sent for that week "
            "is not sent again, one whose sending failed is. Exit 1 when any digest could not be delivered."
        ),
    )
    add_week_option(parser)
    parser.add_argument("--send", action="store_true", help="deliver the digests in Slack")
    add_db_option(parser)
    parser.set_defaults(handler=digest)


def digest(args: argparse.Namespace, ctx: Context) -> int:
    from bot import clock
    from bot.db import session_scope
    from bot.digest import delivery as digest_delivery
    from bot.digest.format import to_text
    from bot.digest.service import ORGANISATION, DigestSource, compose_many

    monday = week_monday(args.week, ctx.settings)
    if args.send:
        ctx.settings.require_slack()
        return _send(ctx, monday)
    settings = digest_delivery.without_ai(ctx.settings)  # showing in a terminal never calls out
    now = clock.utcnow()
    with session_scope(ctx.existing_engine(), readonly=True) as session:
        people = digest_delivery.leaders(session, settings)
        source = DigestSource(session, settings, ctx.library, week_monday=monday, now=now)
        digests = compose_many(source, [ORGANISATION, *(p.audience for p in people)], ai_narrative=False)
    for number, found in enumerate(digests):
        if number:
            sys.stdout.write("\n")
        sys.stdout.write(to_text(found))
    leaders = len(digests) - 1
    print(f"\n{leaders} leader{'s' if leaders != 1 else ''} get a digest for week {clock.iso_week(monday)}.")
    return 0


def _send(ctx: Context, monday: date) -> int:
    """Queue the week's digests not yet delivered (a failed one again), send exactly those, report."""
    from bot import clock
    from bot.db import session_scope
    from bot.digest import delivery as digest_delivery
    from bot.outbox import admin as outbox_admin
    from bot.outbox import drain
    from bot.slack.client import make_web_client

    now = clock.utcnow()
    engine = ctx.engine()
    week = clock.iso_week(monday)
    with session_scope(engine) as session:
        plan = digest_delivery.queue_week(session, ctx.settings, ctx.library, now, monday)
    client = make_web_client(ctx.settings, retry_rate_limits=False)
    report = drain(engine, client, ctx.settings, keys=plan.keys)
    with session_scope(engine, readonly=True) as session:
        result = outbox_admin.results(session, plan.keys)
    notes = [
        f"{n} {label}"
        for n, label in (
            (plan.already, "already had it"),
            (plan.again, "failed before, sent again"),
            (plan.unreachable, "cannot be reached in Slack"),
        )
        if n
    ]
    print(
        f"Week {week}: queued {plan.queued} messages for {plan.leaders} "
        f"leader{'s' if plan.leaders != 1 else ''}"
        + (f" ({', '.join(notes)})" if notes else "")
        + f"; sent {result.sent}, failed {result.failed}."
    )
    if report.halted:
        raise Failure(f"Slack refused to send ({report.halted}); the digests stay queued for the next tick.")
    if not result.all_sent:
        raise Failure(
            f"not every digest went out: {result.problems()}; run `adoptbot digest --week {week} --send` "
            "again to retry them, or see `adoptbot outbox status`."
        )
    return 0
