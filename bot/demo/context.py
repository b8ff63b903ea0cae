"""What the demo's steps share: the `DemoContext` they fill and read, and the organisation's shapes.

Data only (no SQLAlchemy, no service at import): `bot.demo.service` runs the steps, `bot.demo.org` and the
feature modules (`bot.demo.nudges`, `bot.demo.pulses`, `bot.demo.usage`, `bot.demo.wins`,
`bot.demo.digest`) write them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bot import registry

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from bot.config import Settings
    from bot.content import Library


@dataclass(frozen=True)
class DemoPerson:
    id: int
    team_id: int
    role: str
    timezone: str  # effective time zone
    started_on: date  # first Monday this person was on the roster (nudges may start)
    slack_user_id: str


@dataclass
class DemoTeam:
    id: int
    name: str
    role: str  # the team's main role
    timezones: tuple[str, ...]
    leader_id: int = 0
    member_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class UsageImport:
    """One tool's weekly usage reports as the demo wrote and imported them (counts only)."""

    tool: str  # the tool's name
    source: str  # `adoptbot usage import --source`
    files: tuple[Path, ...]  # as written (none with --db)
    reports: int
    rows: int
    people: int  # in the latest report
    unmatched: int
    added: int
    changed: int


@dataclass
class DemoContext:
    """What demo steps and report sections get; `teams`, `people`, `persons` come from the first step."""

    session: Session
    engine: Engine
    rng: random.Random  # the only source of randomness: same seed, same organisation and history
    settings: Settings
    library: Library
    team_count: int  # as asked for
    member_count: int
    weeks: int
    start: date  # Monday of the first week of history
    end: date  # Monday of the current week: history covers [start, end), `weeks` complete ISO weeks
    now: datetime  # naive UTC: `end` at 09:00 in the org time zone
    out_dir: Path | None  # where files go (None with --db)
    progress: Callable[[str], None]
    teams: list[DemoTeam] = field(default_factory=list)
    people: dict[int, list[int]] = field(default_factory=dict)  # team id -> active member ids
    persons: dict[int, DemoPerson] = field(default_factory=dict)
    org_leader_id: int | None = None
    change_manager_ids: list[int] = field(default_factory=list)
    usage_imports: list[UsageImport] = field(default_factory=list)

    @cached_property
    def week_starts(self) -> list[date]:
        """Monday of every week of history, oldest first (worked out once: steps ask per person)."""
        return [self.start + timedelta(weeks=i) for i in range(self.weeks)]

    @property
    def report_week(self) -> date:
        """Monday of the week every report describes: the last complete week, the last of the history."""
        return self.end - timedelta(weeks=1)


DemoStep = Callable[[DemoContext], None]


ReportSection = registry.Section  # a title and `render(ctx) -> str`
