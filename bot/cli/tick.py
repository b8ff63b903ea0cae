"""`adoptbot tick [--now ISO8601] [--dry-run]`: do the scheduled work that is due, once, then send it.

It sends what is due at NOW, the same messages `--dry-run` lists: with a NOW later than the clock,
everything scheduled until then goes now.

Exit codes: 0 when every job ran and everything due was sent (or is being retried); 1 when a job raised,
a message failed for good (the line on stderr counts them by reason; `adoptbot outbox status` lists them,
`adoptbot outbox retry` sends them again), or Slack refused the token or a scope (the messages stay
queued); 2 for a bad `--now`, or a missing SLACK_BOT_TOKEN when there is something to send.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING

from bot import clock
from bot.cli.context import add_db_option
from bot.clock import to_naive_utc, utcnow
from bot.errors import Failure, UsageError

if TYPE_CHECKING:
    from bot.cli.context import Context
    from bot.jobs import TickReport
    from bot.outbox import DrainReport


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "tick",
        help="do the scheduled work that is due, once",
        description="Run every scheduled job that is due at NOW (nudges, pulse invitations and reminders, "
        "pulse closing, digests, scheduled broadcasts), then send what is queued, paced for Slack. "
        "Safe to run twice, and on several machines at once.",
    )
    parser.add_argument(
        "--now",
        metavar="ISO8601",
        help="the moment to act at, e.g. 2026-11-24T09:00:00+01:00 (no offset = UTC; default: now)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print what would be sent; change nothing and send nothing"
    )
    add_db_option(parser)
    parser.set_defaults(handler=tick_at_its_now)


def parse_now(raw: str | None) -> datetime:
    """`--now` as naive UTC: an ISO 8601 time, naive taken as UTC, aware converted."""
    if raw is None:
        return utcnow()
    try:
        moment = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise UsageError(f"--now must be an ISO 8601 time like 2026-11-24T09:00:00Z, not {raw!r}.") from None
    return to_naive_utc(moment)


def tick_at_its_now(args: argparse.Namespace, ctx: Context) -> int:
    """`tick`, with `--now` as the product's clock for the whole run: everything it records (job slots,
    answers, when a message was sent) is stamped at that moment, as if the tick ran then."""
    if args.now is None:
        return tick(args, ctx)
    with clock.frozen_at(parse_now(args.now)):
        return tick(args, ctx)


def tick(args: argparse.Namespace, ctx: Context) -> int:
    from bot.db import session_scope
    from bot.jobs import due_by, run_due_jobs
    from bot.outbox import DrainReport, drain
    from bot.outbox.record import due_count
    from bot.slack.client import make_web_client

    now = parse_now(args.now)
    engine = ctx.existing_engine() if args.dry_run else ctx.engine()  # a dry run never migrates either
    report = run_due_jobs(engine, ctx.settings, ctx.library, now, dry_run=args.dry_run)
    if args.dry_run:
        for line in report.preview:
            print(line)
        would = len(report.preview)
        print(f"dry run: would send {would} (jobs queued {report.queued}); nothing was sent or saved")
        _fail_on_jobs(report)
        return 0
    drained = DrainReport()
    with session_scope(engine, readonly=True) as session:
        due = due_count(session, due_by(now))
    if due:
        ctx.settings.require_slack()
        client = make_web_client(ctx.settings, retry_rate_limits=False)
        with _stop_on_signals() as stop:
            drained = drain(engine, client, ctx.settings, stop=stop, due_by=now)
    print(_summary(report, drained))
    _fail_on_jobs(report)
    if drained.halted:
        raise Failure(
            f"Slack refused to send ({drained.halted}); the messages stay queued for the next tick."
        )
    if drained.failed:
        raise Failure(
            f"{drained.failure_summary()}; `adoptbot outbox status` lists them, "
            "`adoptbot outbox retry` sends them again."
        )
    return 0


def _summary(report: TickReport, drained: DrainReport) -> str:
    line = f"queued {report.queued}, sent {drained.sent}, failed {drained.failed}"
    if drained.skipped:
        line += f", skipped {drained.skipped}"
    notes = []
    if drained.retried:
        notes.append(f"{drained.retried} retried")
    if drained.rate_limited:
        notes.append(f"{drained.rate_limited} rate-limited")
    return f"{line} ({', '.join(notes)})" if notes else line


def _fail_on_jobs(report: TickReport) -> None:
    failed = report.failed_jobs
    if failed:
        others = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        raise Failure(f"job {failed[0].name} failed: {failed[0].error}{others}")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM / Ctrl-C stop the drain cleanly: messages in flight finish, the rest stay queued."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
