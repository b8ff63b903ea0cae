"""Scheduled work: a registry of jobs that `adoptbot tick` and the in-process scheduler run.

A job is `fn(ctx) -> int` (how many messages it queued), run in a transaction of its own; it decides
itself what is due at `ctx.now`. Jobs are idempotent: outbox keys and unique rows make a second run at the
same `now`, or a run on another instance at the same moment, queue nothing twice. Work that must happen once
per slot across instances claims the slot with `claim_slot()` (a JobRun row, insert-ignore), in the same
transaction as the work, so a failed run leaves the slot free for the next tick.

The registry is filled by `bot.wiring.wire()` (every feature's jobs, in the order they run: the
housekeeping below first); importing a module registers nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from bot import registry
from bot.clock import to_naive_utc, utcnow
from bot.config import Settings
from bot.db import session_factory, session_scope
from bot.errors import loggable
from bot.heap import bulk_work
from bot.models import JobRun, OutboxMessage, Person, ProcessedEvent
from bot.outbox import OutboxState
from bot.outbox import record as outbox_record
from bot.outbox import store as outbox_store
from bot.outbox.drain import due_moment
from bot.outbox.send import real_now

if TYPE_CHECKING:
    from bot.content import Library

log = logging.getLogger(__name__)

PROCESSED_EVENTS_KEPT = timedelta(days=2)  # Slack retries an event for minutes, not days


@dataclass
class JobContext:
    session: Session
    now: datetime  # naive UTC
    settings: Settings
    library: Library
    dry_run: bool


JobFn = Callable[[JobContext], int]
_jobs = cast("dict[str, JobFn]", registry.JOBS)  # filled by bot.wiring.wire()


def register_job(name: str, fn: JobFn) -> None:
    """Add a job (or replace the one with this name); jobs run in the order they were first registered."""
    registry.add_job(name, fn)


def unregister_job(name: str) -> None:
    _jobs.pop(name, None)


def registered_jobs() -> list[str]:
    return list(_jobs)


def claim_slot(session: Session, job: str, slot: str) -> bool:
    """True for the one caller, across instances, that gets to do `job` for `slot` (e.g. "2026-W47")."""
    return outbox_store.insert_new(
        session, JobRun, {"job": job, "slot": slot, "done_at": utcnow()}, conflict=["job", "slot"]
    )


# --- running -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobOutcome:
    name: str
    queued: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Preview:
    """A message a dry run would send."""

    kind: str
    channel: str
    person: str | None
    text: str

    def __str__(self) -> str:
        who = f"{self.channel} ({self.person})" if self.person else self.channel
        first = self.text.strip().splitlines()[0] if self.text.strip() else ""
        return f"{self.kind:<16} {who:<40} {first[:100]}"


@dataclass
class TickReport:
    now: datetime
    dry_run: bool
    jobs: list[JobOutcome] = field(default_factory=list)
    preview: list[Preview] = field(default_factory=list)  # dry run: everything that would be sent

    @property
    def queued(self) -> int:
        return sum(j.queued for j in self.jobs)

    @property
    def failed_jobs(self) -> list[JobOutcome]:
        return [j for j in self.jobs if j.error is not None]


def run_due_jobs(
    engine: Engine, settings: Settings, library: Library, now: datetime, *, dry_run: bool = False
) -> TickReport:
    """Run every registered job at `now` (aware or naive UTC), each in its own transaction.

    A job that raises is rolled back and reported; the others still run. `dry_run`: all jobs run in one
    transaction that is rolled back, and the report lists every message that would be sent.
    """
    now = to_naive_utc(now)
    report = TickReport(now=now, dry_run=dry_run)
    if dry_run:
        _dry_run(engine, settings, library, report)
        return report
    for name, fn in list(_jobs.items()):
        try:
            with bulk_work(), session_scope(engine) as session:
                queued = fn(JobContext(session, now, settings, library, dry_run=False))
        except Exception as error:
            log.error("job %s failed: %s", name, loggable(error))
            report.jobs.append(JobOutcome(name, error=_describe(error)))
        else:
            report.jobs.append(JobOutcome(name, queued=int(queued or 0)))
    return report


def _dry_run(engine: Engine, settings: Settings, library: Library, report: TickReport) -> None:
    session = session_factory(engine)()
    try:
        session.begin()
        for name, fn in list(_jobs.items()):
            savepoint = session.begin_nested()
            try:
                queued = fn(JobContext(session, report.now, settings, library, dry_run=True))
            except Exception as error:
                savepoint.rollback()
                report.jobs.append(JobOutcome(name, error=_describe(error)))
            else:
                savepoint.commit()
                report.jobs.append(JobOutcome(name, queued=int(queued or 0)))
        report.preview = _would_send(session, due_by(report.now))
    finally:
        session.rollback()
        session.close()


def due_by(now: datetime) -> datetime:
    """What a tick at `now` sends: every message due by then (or by the clock, when that is later).

    The dry run lists exactly these and the real run's drain claims exactly these, so both agree; a
    `--now` later than the clock sends what is due by `--now`, not only what is due by the clock.
    """
    return due_moment(to_naive_utc(now))


def _would_send(session: Session, until: datetime) -> list[Preview]:
    query = (
        select(OutboxMessage.kind, OutboxMessage.channel, OutboxMessage.payload, Person.name)
        .outerjoin(Person, Person.id == OutboxMessage.person_id)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before <= until)
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
    )
    return [
        Preview(row.kind, row.channel, row.name or None, str((row.payload or {}).get("text", "")))
        for row in session.execute(query)
    ]


def _describe(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


# --- built-in housekeeping (real time, whatever `now` a tick is asked to pretend) ------------------------


def forget_processed_events(ctx: JobContext) -> int:
    ctx.session.execute(
        delete(ProcessedEvent).where(ProcessedEvent.received_at < utcnow() - PROCESSED_EVENTS_KEPT)
    )
    return 0


def release_stale_claims(ctx: JobContext) -> int:
    released = outbox_record.release_stale(ctx.session, real_now())
    if released:
        log.info("released %d stale outbox claims for a re-check", released)
    return 0


def prune_channel_paces(ctx: JobContext) -> int:
    outbox_record.prune_paces(ctx.session, real_now() - timedelta(days=1))
    return 0
