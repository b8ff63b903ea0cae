"""Measured adoption: licences and activity from the AI tools' own usage reports, per team and week.

The facts are `usage_facts` rows (one person, tool and ISO week: licensed, active), imported by
`adoptbot usage import`. For week W and the people counted as members (`bot.metrics.sql.members`), in their
current team:

- `licensed`: people with a licence in W; `measured_active`: of those, people the report shows active in
  W; `measured_rate` = active / licensed;
- `idle_licences`: licences (a person and a tool) held in W with no activity in that tool in the four
  weeks W-3 to W;

for each tool, and over all tools (a person counts once in `licensed` and `measured_active` however many
tools they have; `idle_licences` adds up every tool's).

Anonymity (docs/privacy.md, "Measured usage"): a group's measured figures are shown only when it has at
least k licensed people, and the complementary rule of survey figures applies to each tool's column: while
the hidden teams' licensed people add up to 1..k-1, the smallest shown team is hidden too. A team's (or
`*`'s) all-tools figures are hidden too while 1..k-1 of its people hold a licence for a tool hidden there,
because the all-tools figure minus the shown tools' would describe them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from bot.metrics.rules import ratio, round_half_up, visible_groups
from bot.metrics.sql import ACTIVE_WEEKS, TeamKey, member_filter
from bot.models import Person, UsageFact

OVERALL = None  # the key of the all-tools figures in `MeasuredWeek.by_tool`
MAX_SPAN = 60  # weeks one `measured_weeks` statement reads as bits of one 64-bit integer


@dataclass(frozen=True)
class Measured:
    """The measured figures of one group (a team or `*`) for one tool or all, once they may be shown."""

    licensed: int
    measured_active: int
    idle_licences: int

    @property
    def measured_rate(self) -> float | None:
        return ratio(self.measured_active, self.licensed, 3)


@dataclass
class _Tally:
    licensed: set[int] = field(default_factory=set)
    active: set[int] = field(default_factory=set)
    idle: int = 0

    def figures(self) -> Measured:
        return Measured(len(self.licensed), len(self.active), self.idle)


@dataclass
class _Column:
    """One tool's (or all tools') tallies per team and for the organisation, and which may be shown."""

    teams: dict[TeamKey, _Tally] = field(default_factory=lambda: defaultdict(_Tally))
    total: _Tally = field(default_factory=_Tally)
    shown: set[int] = field(default_factory=set)
    total_shown: bool = False


@dataclass
class MeasuredWeek:
    """Every measured figure of one week: per tool (`by_tool[tool_id]`) and over all tools
    (`by_tool[None]`), per team and for `*`, with the anonymity decisions made over all teams."""

    by_tool: dict[str | None, _Column]
    covered: bool  # whether any usage report covers the week (some licence is on record in it)

    @property
    def tools(self) -> list[str]:
        """The tools with licences on record this week, by id."""
        return sorted(tool for tool in self.by_tool if tool is not None)

    def figures(self, team: int | None, tool: str | None = OVERALL) -> Measured | None:
        """The figures of `team` (None = the `*` row) for `tool` (None = all tools), or None when they
        must not be shown (or nobody holds a licence)."""
        column = self.by_tool.get(tool)
        if column is None:
            return None
        if team is None:
            return column.total.figures() if column.total_shown else None
        if team not in column.shown:
            return None
        return column.teams[team].figures()


def _any(condition: Any) -> Any:
    """1 when `condition` holds for any of the group's rows, else 0 (a portable boolean OR)."""
    return func.max(case((condition, 1), else_=0))


def measured_week(
    session: Session, week_monday: date, end: datetime, teams: Mapping[int, str], k: int
) -> MeasuredWeek:
    """Tally the week's licences and activity (one grouped statement) and decide what may be shown."""
    first = week_monday - timedelta(weeks=ACTIVE_WEEKS - 1)
    licensed_now = func.max(
        case((and_(UsageFact.week == week_monday, UsageFact.licensed.is_(True)), 1), else_=0)
    )
    active_now = func.max(case((and_(UsageFact.week == week_monday, UsageFact.active.is_(True)), 1), else_=0))
    active_recently = func.max(case((UsageFact.active.is_(True), 1), else_=0))
    stmt = (
        select(
            UsageFact.person_id,
            Person.team_id,
            UsageFact.tool,
            active_now.label("active_now"),
            active_recently.label("active_recently"),
        )
        .join(Person, Person.id == UsageFact.person_id)
        .where(UsageFact.week >= first, UsageFact.week <= week_monday, member_filter(end))
        .group_by(UsageFact.person_id, Person.team_id, UsageFact.tool)
        .having(licensed_now == 1)
    )
    return _decide(session.execute(stmt), teams, k)


def measured_weeks(
    session: Session, weeks: Mapping[date, datetime], teams: Mapping[int, str], k: int
) -> dict[date, MeasuredWeek]:
    """`measured_week` of several weeks (Monday -> end of the week), read in one statement: each person's
    licences and activity per tool over all the weeks as bit masks, then decided week by week (the digests'
    trend shows eight). The same figures as one `measured_week` per week."""
    if not weeks:
        return {}
    mondays = sorted(weeks)
    first = mondays[0] - timedelta(weeks=ACTIVE_WEEKS - 1)
    span = [first + timedelta(weeks=n) for n in range((mondays[-1] - first).days // 7 + 1)]
    if len(span) > MAX_SPAN:  # weeks too far apart for one mask: one statement each
        return {monday: measured_week(session, monday, weeks[monday], teams, k) for monday in mondays}
    bit = {monday: 1 << n for n, monday in enumerate(span)}
    week_bit = case(bit, value=UsageFact.week, else_=0)  # one fact per person, tool and week: a sum is an OR
    licensed = func.sum(case((UsageFact.licensed.is_(True), week_bit), else_=0))
    active = func.sum(case((UsageFact.active.is_(True), week_bit), else_=0))
    stmt = (
        select(
            UsageFact.person_id,
            Person.team_id,
            UsageFact.tool,
            licensed,
            active,
            Person.is_active,
            Person.erased_at,
            Person.created_at,
        )
        .join(Person, Person.id == UsageFact.person_id)
        .where(UsageFact.week >= first, UsageFact.week <= mondays[-1])
        .group_by(
            UsageFact.person_id,
            Person.team_id,
            UsageFact.tool,
            Person.is_active,
            Person.erased_at,
            Person.created_at,
        )
        .having(func.sum(case((UsageFact.licensed.is_(True), 1), else_=0)) > 0)
    )
    # A member at the end of week W (`member_filter`): on the roster before it, and active and not erased,
    # or erased at or after it. As a span: created_at < end <= until.
    read = session.connection().execute(stmt)
    facts = [
        (person, team, tool, int(licensed), int(active), created_at, until)
        for person, team, tool, licensed, active, is_active, erased_at, created_at in read
        if (until := erased_at if erased_at is not None else (datetime.max if is_active else None))
        is not None
    ]
    found: dict[date, MeasuredWeek] = {}
    recent_weeks = (1 << ACTIVE_WEEKS) - 1
    for monday in mondays:
        end = weeks[monday]
        now = bit[monday]
        recent = recent_weeks << (span.index(monday) - ACTIVE_WEEKS + 1)
        rows = [
            (person, team, tool, active & now, active & recent)
            for person, team, tool, licensed, active, created_at, until in facts
            if licensed & now and created_at < end <= until
        ]
        found[monday] = _decide(rows, teams, k)
    return found


def _decide(rows: Iterable[Any], teams: Mapping[int, str], k: int) -> MeasuredWeek:
    """The week's figures from its (person, team, tool, active in W, active in W-3..W) rows of licences
    held in W, with the anonymity decisions (module docstring)."""
    cells: dict[tuple[str, TeamKey], _Tally] = {}  # one per tool and team; a person is in one team
    for person, team, tool, now_active, recently_active in rows:
        tally = cells.get((tool, team))
        if tally is None:
            tally = cells[(tool, team)] = _Tally()
        tally.licensed.add(person)
        if now_active:
            tally.active.add(person)
        if not recently_active:
            tally.idle += 1
    by_tool: dict[str | None, _Column] = {OVERALL: _Column()}
    overall = by_tool[OVERALL]
    for (tool, team), tally in cells.items():
        column = by_tool.setdefault(tool, _Column())
        column.teams[team] = tally
        for target in (column.total, overall.teams[team], overall.total):
            target.licensed |= tally.licensed
            target.active |= tally.active
            target.idle += tally.idle
    covered = bool(overall.total.licensed)
    hidden_people: dict[TeamKey, set[int]] = defaultdict(set)  # per team: holders of a hidden tool licence
    hidden_total: set[int] = set()
    for tool, column in by_tool.items():
        if tool is OVERALL:
            continue
        counts = {team: len(tally.licensed) for team, tally in column.teams.items()}
        column.shown, column.total_shown = visible_groups(counts, teams.keys(), teams, k)
        for team, tally in column.teams.items():
            if team not in column.shown:
                hidden_people[team] |= tally.licensed
        if not column.total_shown:
            hidden_total |= column.total.licensed
    counts = {team: len(tally.licensed) for team, tally in overall.teams.items()}
    eligible = {team for team in teams if not 0 < len(hidden_people.get(team, ())) < k}
    overall.shown, overall.total_shown = visible_groups(counts, teams.keys(), teams, k, eligible=eligible)
    overall.total_shown = overall.total_shown and not 0 < len(hidden_total) < k
    return MeasuredWeek(dict(by_tool), covered)


def say_do_gap(usage_rate: float | None, measured_rate: float | None) -> float | None:
    """Said they used AI (share of respondents) minus active in the tools (share of licensed people), 3
    places; null unless both are shown."""
    if usage_rate is None or measured_rate is None:
        return None
    return round_half_up(Fraction(str(usage_rate)) - Fraction(str(measured_rate)), 3)
