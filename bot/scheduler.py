"""The scheduler inside `adoptbot serve`: once a minute, on the minute, the same work as `adoptbot tick`.

APScheduler keeps one process from overlapping itself (`max_instances=1`, `coalesce=True`); it cannot
coordinate processes. Several instances are safe because every job claims its work in the database
(outbox keys, unique rows, JobRun slots), and the outbox worker sends what the jobs queue.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from bot.clock import utcnow
from bot.config import Settings
from bot.jobs import run_due_jobs
from bot.outbox import wake

if TYPE_CHECKING:
    from bot.content import Library

log = logging.getLogger(__name__)

JOB_ID = "adoptbot-tick"
INTERVAL = timedelta(seconds=60)


def tick_once(engine: Engine, settings: Settings, library: Library) -> None:
    """Run the due jobs now and wake the outbox worker for what they queued."""
    report = run_due_jobs(engine, settings, library, utcnow())
    for failed in report.failed_jobs:
        log.error("scheduled job %s failed: %s", failed.name, failed.error)
    if report.queued:
        log.info("scheduled jobs queued %d messages", report.queued)
        wake()


def start_scheduler(engine: Engine, settings: Settings, library: Library) -> BackgroundScheduler:
    """Start a background scheduler that calls `tick_once` every minute, aligned to the minute."""
    scheduler = BackgroundScheduler(timezone=UTC)
    # APScheduler fires by the wall clock, so its first run is placed on the wall clock too.
    now = datetime.now(UTC)
    first = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    scheduler.add_job(
        tick_once,
        IntervalTrigger(seconds=int(INTERVAL.total_seconds()), start_date=first, timezone=UTC),
        args=(engine, settings, library),
        id=JOB_ID,
        name="adoptbot tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=30,
        replace_existing=True,
    )
    scheduler.start()
    return scheduler


def stop_scheduler(scheduler: BackgroundScheduler, *, wait: bool = True) -> None:
    """Stop it; with `wait`, a tick in progress finishes first."""
    if scheduler.running:
        scheduler.shutdown(wait=wait)
