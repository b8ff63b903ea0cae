"""`adoptbot demo`: a believable synthetic organisation, seeded offline, in steps that features extend.

The run: a `DemoContext` is built, every function in `DEMO_STEPS` seeds part of the organisation's
history into one transaction, then every `ReportSection` in `REPORT_SECTIONS` renders a block of text
for the terminal. Features write their own history and output in their own module:

    from bot.demo.context import DemoContext

    def nudge_history(ctx: DemoContext) -> None:
        "nudge history"             # the docstring's first line is the progress label
        ...                         # bulk inserts through ctx.session

    def nudge_section(ctx: DemoContext) -> str: ...

and `bot.wiring` registers them (`demo_step(...)`, `report_section("Nudges")(...)`). Steps run in the
order they were registered: the organisation first (`bot.demo.org`; the names and teams it draws from
are in `bot.demo.names`), then the features' in the wiring's order.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, cast

from bot import registry
from bot.clock import local_today, to_naive_utc
from bot.config import Settings
from bot.demo.context import DemoContext, DemoPerson, DemoStep, DemoTeam, ReportSection
from bot.demo.names import TeamTemplate, team_templates
from bot.errors import UsageError
from bot.pulses import service as pulses

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from bot.content import Library

__all__ = [
    "DEMO_STEPS",
    "MAX_MEMBERS",
    "MAX_TEAMS",
    "MAX_WEEKS",
    "REPORT_SECTIONS",
    "DemoContext",
    "DemoOptions",
    "DemoPerson",
    "DemoStep",
    "DemoTeam",
    "ReportSection",
    "TeamTemplate",
    "demo_now",
    "demo_step",
    "report_section",
    "run_demo",
    "team_templates",
]

MAX_TEAMS = 1_000
MAX_MEMBERS = 200_000
MAX_WEEKS = 104


# Filled by bot.wiring.wire() (tests may swap in a copy).
DEMO_STEPS = cast("list[DemoStep]", registry.DEMO_STEPS)
REPORT_SECTIONS = registry.DEMO_SECTIONS


def demo_step(step: DemoStep) -> DemoStep:
    """Register a seeding step (decorator); registering the same function twice is a no-op."""
    registry.add_demo_step(cast("list[registry.Fn]", DEMO_STEPS), step)
    return step


def report_section(title: str) -> Callable[[Callable[[DemoContext], str]], Callable[[DemoContext], str]]:
    """Register a section of the demo's printed report (decorator), rendered after seeding."""

    def register(render: Callable[[DemoContext], str]) -> Callable[[DemoContext], str]:
        registry.add_demo_section(REPORT_SECTIONS, title, render)
        return render

    return register


def demo_now(settings: Settings, today: date | None = None) -> datetime:
    """Monday of the current ISO week, 09:00 in the org time zone, as naive UTC."""
    day = today or local_today(settings.tz)
    monday = day - timedelta(days=day.weekday())
    return to_naive_utc(datetime(monday.year, monday.month, monday.day, 9, tzinfo=settings.tz))


@dataclass(frozen=True)
class DemoOptions:
    teams: int = 6
    members: int = 120
    weeks: int = 8
    seed: int = 42

    def check(self) -> None:
        if not 1 <= self.teams <= MAX_TEAMS:
            raise UsageError(f"--teams must be between 1 and {MAX_TEAMS:,}, not {self.teams}.")
        if not self.teams <= self.members <= MAX_MEMBERS:
            raise UsageError(
                f"--members must be between --teams ({self.teams}) and {MAX_MEMBERS:,}, not {self.members}."
            )
        if not 1 <= self.weeks <= MAX_WEEKS:
            raise UsageError(f"--weeks must be between 1 and {MAX_WEEKS}, not {self.weeks}.")


def run_demo(
    engine: Engine,
    settings: Settings,
    library: Library,
    options: DemoOptions,
    *,
    out_dir: Path | None,
    progress: Callable[[str], None],
    now: datetime | None = None,
) -> list[tuple[str, str]]:
    """Seed an empty database with the demo organisation and its history; return the report sections."""
    from sqlalchemy import func, select

    from bot.db import session_scope
    from bot.demo.bulk import indexes_after
    from bot.models import Person

    options.check()
    now = now or demo_now(settings)
    local_today = now.replace(tzinfo=UTC).astimezone(settings.tz).date()
    end = local_today - timedelta(days=local_today.weekday())
    with session_scope(engine) as session:
        existing = session.scalar(select(func.count()).select_from(Person)) or 0
        if existing:
            raise UsageError(
                f"the database already has {existing:,} people; the demo only seeds an empty database "
                "(leave out --db to get a fresh SQLite file)."
            )
        ctx = DemoContext(
            session=session,
            engine=engine,
            rng=random.Random(options.seed),
            settings=settings,
            library=library,
            team_count=options.teams,
            member_count=options.members,
            weeks=options.weeks,
            start=end - timedelta(weeks=options.weeks),
            end=end,
            now=now,
            out_dir=out_dir,
            progress=progress,
        )
        with indexes_after(session):
            for step in DEMO_STEPS:
                began = time.perf_counter()
                step(ctx)
                session.flush()
                label = (step.__doc__ or step.__name__).strip().splitlines()[0].rstrip(".")
                progress(f"{label} ({time.perf_counter() - began:.1f} s)")
            began = time.perf_counter()
        if session.get_bind().dialect.name == "postgresql":
            progress(f"Indexes and foreign keys of the history built ({time.perf_counter() - began:.1f} s)")
        began = time.perf_counter()
        settled = pulses.settle_runs(session, settings, now, limit=None)  # as the close job has done
        progress(
            f"Survey figures of {len(settled)} closed pulse runs stored ({time.perf_counter() - began:.1f} s)"
        )
        return [(section.title, section.render(ctx)) for section in REPORT_SECTIONS]
