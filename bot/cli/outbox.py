"""`adoptbot outbox status` and `adoptbot outbox retry [--kind K] [--since ISO8601]`.

`status` only reads: it never creates or migrates a database. `retry` sends the failed messages again
right away (not at the next tick), so whoever runs it sees at once whether they went out: exit 0 when
every one was sent, 1 when any failed again or is still waiting, 2 for bad input or a missing token.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from typing import TYPE_CHECKING

from bot.cli.context import add_db_option
from bot.clock import to_naive_utc
from bot.errors import Failure, UsageError

if TYPE_CHECKING:
    from bot.cli.context import Context
    from bot.outbox.admin import KindStatus


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "outbox",
        help="what is queued, sent and failed; send failed messages again",
        description="Every message to Slack goes through the outbox: queued, then sent once.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    status = actions.add_parser(
        "status",
        help="queued, failed, sent and skipped messages by kind",
        description=(
            "Counts the outbox's messages by kind: queued (waiting or being sent), failed (`retry` sends "
            "them again), unreachable (failed, to people Slack cannot deliver to: not retried), sent and "
            "skipped, with the reasons for the failures. Changes nothing."
        ),
    )
    add_db_option(status)
    status.set_defaults(handler=show_status)
    retry = actions.add_parser(
        "retry",
        help="send failed messages again, now",
        description=(
            "Moves failed messages back to the queue and sends them now (needs SLACK_BOT_TOKEN). A message "
            "Slack accepted after all is found in the channel and recorded, never posted twice. Messages "
            "to people Slack cannot reach are left alone. Exit 1 if any fails again."
        ),
    )
    retry.add_argument("--kind", metavar="K", help="only messages of this kind (see `outbox status`)")
    retry.add_argument(
        "--since",
        metavar="ISO8601",
        help="only messages queued at or after this time, e.g. 2026-11-30 or 2026-11-30T09:00:00+01:00",
    )
    add_db_option(retry)
    retry.set_defaults(handler=retry_failed)


def show_status(args: argparse.Namespace, ctx: Context) -> int:
    from bot.db import session_scope
    from bot.outbox import admin as outbox_admin
    from bot.outbox.admin import by_count

    engine = ctx.existing_engine()
    if ctx.settings.oauth_install and not ctx.settings.slack_bot_token:
        from bot.slack.install import installed

        where = installed(engine, ctx.settings)
        if where is None:
            print(
                "Adoptbot is not installed in Slack (never, or uninstalled): nothing is sent until it is "
                "installed at /slack/install. Queued messages wait."
            )
        else:
            print(where.describe())
    with session_scope(engine, readonly=True) as session:
        rows = outbox_admin.status(session)
    if not rows:
        print("The outbox is empty.")
        return 0
    print(_table(rows))
    reasons = [r for r in rows if r.reasons]
    if reasons:
        print("\nWhy they failed:")
        for row in reasons:
            why = ", ".join(f"{reason} ({n})" for reason, n in by_count(row.reasons))
            print(f"  {row.kind}: {why}")
    failed = sum(r.failed for r in rows)
    unreachable = sum(r.unreachable for r in rows)
    if failed:
        print(f"\n`adoptbot outbox retry` sends the {failed} failed again.")
    if unreachable:
        print(f"{unreachable} to people Slack cannot reach (deleted or deactivated) are not retried.")
    return 0


def _table(rows: list[KindStatus]) -> str:
    header = ("kind", "queued", "failed", "unreachable", "sent", "skipped")
    cells = [header] + [
        (r.kind, *(f"{n:,}" for n in (r.queued, r.failed, r.unreachable, r.sent, r.skipped))) for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        lines.append("  ".join((first, *rest)))
    return "\n".join(lines)


def parse_since(raw: str | None) -> datetime | None:
    """`--since` as naive UTC: a date (midnight UTC) or an ISO 8601 time (naive = UTC)."""
    if raw is None:
        return None
    try:
        return to_naive_utc(datetime.fromisoformat(raw.strip()))
    except ValueError:
        raise UsageError(
            f"--since must be an ISO 8601 date or time like 2026-11-30 or 2026-11-30T09:00:00Z, not {raw!r}."
        ) from None


def retry_failed(args: argparse.Namespace, ctx: Context) -> int:
    from bot.clock import utcnow
    from bot.db import session_scope
    from bot.outbox import admin as outbox_admin
    from bot.outbox import drain

    since = parse_since(args.since)
    ctx.settings.require_slack()
    engine = ctx.existing_engine()
    with session_scope(engine) as session:
        if args.kind is not None and args.kind not in (known := outbox_admin.kinds(session)):
            listed = ", ".join(known) if known else "none yet"
            raise UsageError(f"no outbox messages of kind {args.kind!r} (kinds: {listed}).")
        requeued = outbox_admin.requeue_failed(session, now=utcnow(), kind=args.kind, since=since)
    left = (
        f"; {requeued.unreachable} to people Slack cannot reach left as they are"
        if requeued.unreachable
        else ""
    )
    if not requeued.keys:
        print(f"Nothing to retry{left}.")
        return 0
    client = ctx.web_client(retry_rate_limits=False)
    report = drain(engine, client, ctx.settings, keys=requeued.keys + requeued.edits)
    with session_scope(engine, readonly=True) as session:
        result = outbox_admin.results(session, requeued.keys)
        edits = outbox_admin.results(session, requeued.edits)
    brought = f"; {edits.sent} brought up to date" if edits.sent else ""
    print(f"Retried {len(requeued.keys)}: sent {result.sent}{brought}{left}.")
    if report.halted:
        raise Failure(f"Slack refused to send ({report.halted}); the messages stay queued for the next tick.")
    for outcome in (result, edits):
        if not outcome.all_sent:
            raise Failure(f"not everything went out: {outcome.problems()}; see `adoptbot outbox status`.")
    return 0
