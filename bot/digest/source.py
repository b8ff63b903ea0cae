"""One week's shared data for every digest of that week: metrics rows per week, pulse runs, public wins.

Survey figures come from the latest *closed* run (`bot.digest.service`, docs/privacy.md).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import ai, clock
from bot.config import Settings
from bot.content import Library
from bot.metrics.measured import MeasuredWeek
from bot.metrics.service import (
    ALL_TEAMS,
    MetricsCache,
    MetricsRow,
    compute_metrics,
    measured_ahead,
    week_measured,
)
from bot.metrics.sql import week_window
from bot.models import PulseRun, Team, Win, WinStatus
from bot.pulses import comments
from bot.pulses.comments import CommentSummary
from bot.wins.blocks import WinSnippet
from bot.wins.counts import dated_shareable_wins

TREND_WEEKS = 8
PUBLIC_SHARES = ("named", "anonymous")


@dataclass(frozen=True)
class RunInfo:
    id: int
    opened_at: datetime
    closed: bool
    closed_at: datetime


@dataclass(frozen=True)
class PublicWin:
    team_id: int | None
    tool: str | None
    text: str
    hours: float


_Shareable = tuple[int, int | None, datetime, WinSnippet]  # (rank by hours, team id, submitted, snippet)


class DigestSource:
    """What every digest of one week is made from, loaded once and shared by all audiences.

    `compute_metrics` runs once per week needed (the trend's eight, and the weeks the closed runs
    opened in), for all teams; each audience then takes its teams' rows.
    """

    def __init__(
        self, session: Session, settings: Settings, library: Library, *, week_monday: date, now: datetime
    ) -> None:
        self.session = session
        self.settings = settings
        self.library = library
        self.week_monday = week_monday
        self.now = clock.to_naive_utc(now)
        self.week = clock.iso_week(week_monday)
        self.teams: dict[int, str] = {
            team_id: name
            for team_id, name in sorted(
                session.execute(select(Team.id, Team.name)), key=lambda p: (p[1].casefold(), p[1])
            )
        }
        self.trend_weeks = [week_monday - timedelta(weeks=n) for n in range(TREND_WEEKS - 1, -1, -1)]
        self.window = (week_window(self.trend_weeks[0], settings.tz)[0], self.end_of(week_monday))
        self._rows: dict[date, dict[str, MetricsRow]] = {}
        self._cache = MetricsCache()
        self._runs = [
            RunInfo(run.id, run.opened_at, not run.is_open(self.now), run.closed_at or run.closes_at)
            for run in session.scalars(
                select(PulseRun)
                .where(PulseRun.opened_at < self.now)
                .order_by(PulseRun.opened_at, PulseRun.id)
            )
        ]
        self._public_wins: list[PublicWin] | None = None
        self._public_by_team: dict[int | None, list[tuple[int, PublicWin]]] | None = None
        self._shareable: list[_Shareable] | None = None
        self._shareable_by_team: dict[int | None, list[_Shareable]] = {}
        self._names: frozenset[str] | None = None
        self._comment_parts: dict[int, dict[int | None, list[str]]] = {}
        self._comment_summaries: dict[tuple[int, int | None, bool], CommentSummary] = {}

    def end_of(self, monday: date) -> datetime:
        return week_window(monday, self.settings.tz)[1]

    def rows(self, monday: date) -> dict[str, MetricsRow]:
        """compute_metrics for the week of `monday`, all teams, by team name (`*` = everyone)."""
        found = self._rows.get(monday)
        if found is None:
            if not self._rows:  # the trend needs each of its weeks: their usage facts in one read
                measured_ahead(self.session, self.trend_weeks, self.settings, self.teams, self._cache)
            rows = compute_metrics(
                self.session, week_monday=monday, settings=self.settings, now=self.now, cache=self._cache
            )
            found = self._rows[monday] = {row.team: row for row in rows}
        return found

    def measured(self, monday: date) -> MeasuredWeek:
        """The week's measured figures per team and tool (for the per-tool lines), all teams."""
        return week_measured(self.session, monday, self.settings, self.teams, self._cache)

    @property
    def weeks_computed(self) -> list[date]:
        """The Mondays of the weeks `compute_metrics` ran for so far (what the digests needed)."""
        return sorted(self._rows)

    def closed_run_before(self, end: datetime) -> RunInfo | None:
        """The latest run opened before `end` that is closed now."""
        closed = [r for r in self._runs if r.closed and r.opened_at < end]
        return closed[-1] if closed else None

    def previous_closed_run(self, run: RunInfo) -> RunInfo | None:
        return self.closed_run_before(run.opened_at)

    @property
    def baseline_run(self) -> RunInfo | None:
        """The first pulse run, once it has closed."""
        return self._runs[0] if self._runs and self._runs[0].closed else None

    @property
    def open_run(self) -> RunInfo | None:
        """The newest run, when it is still open."""
        return self._runs[-1] if self._runs and not self._runs[-1].closed else None

    def opening_week(self, run: RunInfo) -> date:
        local = run.opened_at.replace(tzinfo=UTC).astimezone(self.settings.tz).date()
        return local - timedelta(days=local.weekday())

    def survey_rows(self, run: RunInfo | None) -> dict[str, MetricsRow] | None:
        """The rows whose survey fields describe `run`: those of the week it opened in (None if a later
        run opened that same week, so that week's rows describe another run)."""
        if run is None:
            return None
        rows = self.rows(self.opening_week(run))
        total = rows.get(ALL_TEAMS)
        return rows if total is not None and total.pulse == run.id else None

    def public_wins(self) -> list[PublicWin]:
        """Approved, public wins submitted in the trend's weeks (for the AI use cases)."""
        if self._public_wins is None:
            start, end = self.window
            query = select(Win.team_id, Win.tool, Win.polished, Win.what, Win.hours_per_week).where(
                Win.status == WinStatus.APPROVED,
                Win.share.in_(PUBLIC_SHARES),
                Win.submitted_at >= start,
                Win.submitted_at < end,
            )
            self._public_wins = [
                PublicWin(team, tool, polished or what, float(hours or 0.0))
                for team, tool, polished, what, hours in self.session.connection().execute(query)
            ]
        return self._public_wins

    def public_wins_of(self, team_ids: list[int] | None) -> list[PublicWin]:
        """`public_wins` of these teams (all with None), in the same order."""
        if team_ids is None:
            return self.public_wins()
        if self._public_by_team is None:
            self._public_by_team = defaultdict(list)
            for index, win in enumerate(self.public_wins()):
                self._public_by_team[win.team_id].append((index, win))
        lists = [self._public_by_team.get(team_id, []) for team_id in set(team_ids)]
        return [win for _, win in heapq.merge(*lists, key=lambda item: item[0])]  # in `public_wins` order

    def top_wins(self, team_ids: list[int] | None, limit: int) -> tuple[tuple[WinSnippet, ...], int]:
        """The audience's best public wins of the week, most hours first, topped up with the best of the
        trend's earlier weeks; and how many are the week's. The window's are read once for all audiences."""
        if self._shareable is None:
            start, end = self.window
            found = dated_shareable_wins(self.session, start=start, end=end)  # most hours first
            self._shareable = [
                (rank, team, submitted, snippet) for rank, (team, submitted, snippet) in enumerate(found)
            ]
            self._shareable_by_team = defaultdict(list)
            for item in self._shareable:
                self._shareable_by_team[item[1]].append(item)
        if team_ids is None:
            ordered: Iterable[_Shareable] = self._shareable
        else:
            lists = [self._shareable_by_team.get(team_id, []) for team_id in set(team_ids)]
            ordered = heapq.merge(*lists)  # each in rank order, so the merge is too
        week_start = week_window(self.week_monday, self.settings.tz)[0]
        this_week: list[WinSnippet] = []
        earlier: list[WinSnippet] = []
        for _, _, submitted, snippet in ordered:
            if submitted >= week_start:
                this_week.append(snippet)
                if len(this_week) == limit:
                    break
            elif len(earlier) < limit:
                earlier.append(snippet)
        return tuple(this_week + earlier[: limit - len(this_week)]), len(this_week)

    def comment_summaries(self, run_id: int, team_ids: list[int] | None) -> tuple[CommentSummary, ...]:
        """The audience's parts of the run's comment partition; each part summarised once for all."""
        parts = self._comment_parts.get(run_id)
        if parts is None:
            parts = comments.comment_parts(self.session, run_id, self.settings.min_group_size)
            self._comment_parts[run_id] = parts
        return comments.summaries(
            self.session,
            run_id,
            self.settings,
            only=comments.audience_parts(team_ids),
            team_names=self.teams,
            names=self.name_parts(),
            parts=parts,
            memo=self._comment_summaries,
        )

    def name_parts(self) -> frozenset[str]:
        if self._names is None:
            self._names = ai.roster_name_parts(self.session)
        return self._names
