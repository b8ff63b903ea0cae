"""Per-team adoption metrics for an ISO week, with the anonymity rules applied (docs/metrics.md).

The numbers come from a handful of GROUP BY statements (`bot.metrics.sql`); this module only divides,
rounds (rates to 3 places, scores to 2, half up) and decides which survey figures may be shown, for each
run and over every team before any `--team` filter (docs/privacy.md, "Survey figures and k"):
1. a team with fewer than k respondents shows no survey figure (`suppressed`); `*` likewise;
2. while `*` minus the shown teams leaves 1 to k-1 respondents hidden, the smallest shown team is hidden too;
3. rules 1 and 2 again per figure, counting who answered that ADKAR element or the usage question;
   `readiness` and `barrier` need every answered element shown;
4. `readiness_change` needs readiness shown in both runs;
5. a run still open shows no survey figure at all.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import clock
from bot.config import Settings
from bot.content import ADKAR_STAGES
from bot.db import alongside, is_readonly
from bot.errors import UsageError
from bot.heap import bulk_work
from bot.metrics import sql as metrics_sql
from bot.metrics.measured import MeasuredWeek, measured_week, measured_weeks, say_do_gap
from bot.metrics.rules import ratio, round_half_up, visible_groups
from bot.metrics.sql import SurveyTally, TeamKey
from bot.metrics.tallies import run_tallies
from bot.models import PulseRun, Team

ALL_TEAMS = "*"
BARRIER_THRESHOLD = 3  # an element scoring above this is not a barrier


@dataclass
class MetricsRow:
    """One row of `adoptbot metrics` (docs/metrics.md); fields are the public JSON/CSV names, in order."""

    week: str
    team: str
    members: int
    reached: int
    engaged: int
    active_28d: int | None
    active_28d_rate: float | None
    nudges_sent: int
    nudges_tried: int
    tried_rate: float | None
    pulse: int | None
    invited: int | None
    respondents: int | None
    response_rate: float | None
    suppressed: bool
    awareness: float | None
    desire: float | None
    knowledge: float | None
    ability: float | None
    reinforcement: float | None
    readiness: float | None
    barrier: str | None
    usage_rate: float | None
    wins: int
    hours_saved: float
    readiness_change: float | None
    licensed: int | None
    measured_active: int | None
    measured_rate: float | None
    idle_licences: int | None
    say_do_gap: float | None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FIELDS}  # every field a scalar: no deep copy


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(MetricsRow))


@dataclass(frozen=True)
class SurveyScores:
    """The survey figures of one group in one run, before suppression."""

    stages: dict[str, float]  # rounded means of the elements that were asked
    readiness: float | None
    barrier: str | None
    usage_rate: float | None


FIGURES: tuple[str, ...] = (*ADKAR_STAGES, "usage")  # the figures k is counted for, one by one


def scores(tally: SurveyTally, shown: Collection[str] | None = None) -> SurveyScores:
    """Means per ADKAR element (pooled over its questions), readiness, barrier and usage for one tally.

    `shown` (default: all) names the figures (ADKAR elements, "usage") that may be shown; a hidden
    element's mean is left out, and readiness and barrier are left out too unless every element that was
    answered is shown (each is a function of all of them, so it would carry the hidden one).
    """
    answered = [stage for stage in ADKAR_STAGES if tally.stage_count.get(stage)]
    stages = {
        stage: round_half_up(Fraction(tally.stage_sum[stage], tally.stage_count[stage]), 2)
        for stage in answered
        if shown is None or stage in shown
    }
    readiness: float | None = None
    barrier: str | None = None
    if stages and len(stages) == len(answered):
        readiness = round_half_up(sum((Fraction(v) for v in stages.values()), Fraction(0)) / len(stages), 2)
        # Decided on the shown (rounded) values so the table reads consistently; ADKAR order breaks ties.
        lowest = min(stages, key=lambda s: (stages[s], ADKAR_STAGES.index(s)))
        barrier = lowest if stages[lowest] <= BARRIER_THRESHOLD else None
    usage = ratio(tally.usage_used, tally.usage_answers, 3) if shown is None or "usage" in shown else None
    return SurveyScores(stages, readiness, barrier, usage)


@dataclass
class _RunView:
    """One run's tallies per team and overall, with the suppression decisions applied."""

    run_id: int
    tallies: dict[TeamKey, SurveyTally]
    total: SurveyTally
    shown: set[int]  # teams whose row shows survey figures (rules 1 and 2 on respondents)
    total_shown: bool
    figures: dict[TeamKey, set[str]]  # per shown team (None = `*`): the figures that may be shown (rule 3)

    def scores_for(self, team: int | None) -> SurveyScores | None:
        """Scores for a team (None = the `*` row), or None when they must not be shown; a figure hidden
        by rule 3 is None in them."""
        if team is None:
            return scores(self.total, self.figures.get(None, set())) if self.total_shown else None
        if team not in self.shown:
            return None
        return scores(self.tallies.get(team, SurveyTally()), self.figures.get(team, set()))


def _run_view(
    run_id: int, per_team: dict[TeamKey, SurveyTally], teams: Mapping[int, str], k: int
) -> _RunView:
    total = SurveyTally()
    for tally in per_team.values():
        total.add(tally)
    respondents = {team: tally.respondents for team, tally in per_team.items()}
    shown, total_shown = visible_groups(respondents, teams.keys(), teams, k)
    figures: dict[TeamKey, set[str]] = {team: set() for team in shown}
    figures[None] = set()
    for figure in FIGURES:
        behind = {team: tally.people_behind(figure) for team, tally in per_team.items()}
        with_figure, total_with = visible_groups(behind, teams.keys(), teams, k, eligible=shown)
        for team in with_figure:
            figures[team].add(figure)
        if total_with:
            figures[None].add(figure)
    return _RunView(run_id, per_team, total, shown, total_shown, figures)


@dataclass
class MetricsCache:
    """What several `compute_metrics` calls on one session may share (the digests compute eight weeks
    and more at once): each pulse run's tallies, read once however many weeks show the run, and each
    week's measured usage. For one session's view of the data: a new moment needs a new cache."""

    tallies: dict[int, dict[TeamKey, SurveyTally]] = field(default_factory=dict)
    measured: dict[date, MeasuredWeek] = field(default_factory=dict)


def _run_views(
    session: Session,
    run_ids: Sequence[int],
    teams: Mapping[int, str],
    k: int,
    cache: MetricsCache | None = None,
) -> list[_RunView]:
    if cache is None:
        tallies = run_tallies(session, run_ids)
    else:
        missing = [run_id for run_id in run_ids if run_id not in cache.tallies]
        if missing:
            cache.tallies.update(run_tallies(session, missing))
        tallies = cache.tallies
    return [_run_view(run_id, tallies.get(run_id, {}), teams, k) for run_id in run_ids]


def week_measured(
    session: Session,
    week_monday: date,
    settings: Settings,
    teams: Mapping[int, str],
    cache: MetricsCache | None,
) -> MeasuredWeek:
    """`measured_week` for the ISO week of `week_monday`, through `cache` when given."""
    found = cache.measured.get(week_monday) if cache is not None else None
    if found is None:
        _, end = metrics_sql.week_window(week_monday, settings.tz)
        found = measured_week(session, week_monday, end, teams, settings.min_group_size)
        if cache is not None:
            cache.measured[week_monday] = found
    return found


def measured_ahead(
    session: Session,
    mondays: Sequence[date],
    settings: Settings,
    teams: Mapping[int, str],
    cache: MetricsCache,
) -> None:
    """Read the measured figures of several weeks into `cache` at once (`measured_weeks`)."""
    wanted = {
        monday: metrics_sql.week_window(monday, settings.tz)[1]
        for monday in mondays
        if monday not in cache.measured
    }
    cache.measured.update(measured_weeks(session, wanted, teams, settings.min_group_size))


def last_complete_week(settings: Settings, now: datetime | None = None) -> date:
    """Monday of the last ISO week that has fully ended in the organisation's time zone."""
    moment = (now or clock.utcnow()).replace(tzinfo=UTC).astimezone(settings.tz)
    today = moment.date()
    return today - timedelta(days=today.weekday() + 7)


def _teams(session: Session) -> dict[int, str]:
    """Team id -> name, ordered by name the same way on every database (collations differ)."""
    pairs = sorted(session.execute(select(Team.id, Team.name)), key=lambda p: (p[1].casefold(), p[1]))
    return dict(pairs)


@bulk_work()
def compute_metrics(
    session: Session,
    *,
    week_monday: date,
    settings: Settings,
    team_names: list[str] | None = None,
    tool: str | None = None,
    now: datetime | None = None,
    cache: MetricsCache | None = None,
) -> list[MetricsRow]:
    """The metrics for the ISO week starting `week_monday`: one row per team (by name), then `*`.

    `team_names` limits the team rows shown (the `*` row is always the whole organisation); an unknown
    name raises UsageError. Suppression is decided over all teams first (see the module docstring).
    `tool` (a tool id) limits the measured figures to that tool's licences (default: all tools).
    `now` (naive UTC, default the real time) decides whether the week's pulse run is still open.
    `cache` shares run tallies and measured weeks between calls on the same session (`MetricsCache`).
    """
    teams = _teams(session)
    if team_names is not None:
        known = {name.casefold(): team_id for team_id, name in teams.items()}
        unknown = [name for name in team_names if name.casefold() not in known]
        if unknown:
            choices = ", ".join(sorted(teams.values())) or "none"
            raise UsageError(f"unknown team {unknown[0]!r}; known teams: {choices}.")
        wanted = {known[name.casefold()] for name in team_names}
    else:
        wanted = set(teams)
    k = settings.min_group_size
    start, end = metrics_sql.week_window(week_monday, settings.tz)
    week = clock.iso_week(week_monday)

    def read_measured(reader: Session) -> MeasuredWeek:
        return week_measured(reader, week_monday, settings, teams, cache)

    # The week's measured usage (the longest statement) on a connection of its own meanwhile, when this
    # unit of work only reads (one that writes may hold rows another connection would not see yet).
    measured_read = alongside(session, read_measured) if is_readonly(session) else None
    members = metrics_sql.members(session, end)
    nudges, nudges_total = metrics_sql.nudges(session, start, end)
    engaged, engaged_total = metrics_sql.engaged(session, start, end)
    # The four local weeks ending with W (a DST change inside them moves no boundary off a Monday).
    active_start, _ = metrics_sql.week_window(
        week_monday - timedelta(weeks=metrics_sql.ACTIVE_WEEKS - 1), settings.tz
    )
    active, active_total = metrics_sql.engaged(session, active_start, end)
    # active_28d summarises a month of what each person did: shown for teams of at least k members only.
    active_shown, active_total_shown = visible_groups(members, teams.keys(), teams, k)
    wins = metrics_sql.wins(session, start, end)
    run_ids = metrics_sql.latest_runs(session, end)
    views = _run_views(session, run_ids, teams, k, cache)
    current = views[0] if views else None
    current_run = session.get(PulseRun, current.run_id) if current is not None else None
    still_open = current_run is not None and current_run.is_open(now or clock.utcnow())
    previous = views[1] if len(views) > 1 else None
    invited = metrics_sql.invited(session, current.run_id) if current else {}
    measured = measured_read() if measured_read is not None else read_measured(session)

    def row(name: str, team: int | None) -> MetricsRow:
        is_total = team is None
        nudge = nudges_total if is_total else nudges.get(team, metrics_sql.NudgeCounts())
        win = (
            metrics_sql.WinCounts(sum(w.wins for w in wins.values()), sum(w.hours for w in wins.values()))
            if is_total
            else wins.get(team, metrics_sql.WinCounts())
        )
        people = sum(members.values()) if is_total else members.get(team, 0)
        active_people: int | None = active_total if is_total else active.get(team, 0)
        if not (active_total_shown if is_total else team in active_shown):
            active_people = None
        figures = measured.figures(team, tool)
        result = MetricsRow(
            week=week,
            team=name,
            members=people,
            reached=nudge.reached,
            engaged=engaged_total if is_total else engaged.get(team, 0),
            active_28d=active_people,
            active_28d_rate=None if active_people is None else ratio(active_people, people, 3),
            nudges_sent=nudge.sent,
            nudges_tried=nudge.tried,
            tried_rate=ratio(nudge.tried, nudge.sent, 3),
            pulse=None,
            invited=None,
            respondents=None,
            response_rate=None,
            suppressed=False,
            awareness=None,
            desire=None,
            knowledge=None,
            ability=None,
            reinforcement=None,
            readiness=None,
            barrier=None,
            usage_rate=None,
            wins=win.wins,
            hours_saved=round(win.hours, 2),
            readiness_change=None,
            licensed=figures.licensed if figures else None,
            measured_active=figures.measured_active if figures else None,
            measured_rate=figures.measured_rate if figures else None,
            idle_licences=figures.idle_licences if figures else None,
            say_do_gap=None,
        )
        if current is None:
            return result
        tally = current.total if is_total else current.tallies.get(team, SurveyTally())
        result.pulse = current.run_id
        result.invited = sum(invited.values()) if is_total else invited.get(team, 0)
        result.respondents = tally.respondents
        result.response_rate = ratio(tally.respondents, result.invited, 3)
        shown = None if still_open else current.scores_for(team)
        result.suppressed = shown is None
        if shown is None:
            return result
        for stage in ADKAR_STAGES:
            setattr(result, stage, shown.stages.get(stage))
        result.readiness, result.barrier, result.usage_rate = shown.readiness, shown.barrier, shown.usage_rate
        before = previous.scores_for(team) if previous else None
        if before is not None and before.readiness is not None and shown.readiness is not None:
            change = Fraction(str(shown.readiness)) - Fraction(str(before.readiness))
            result.readiness_change = round_half_up(change, 2)
        result.say_do_gap = say_do_gap(result.usage_rate, result.measured_rate)
        return result

    rows = [row(name, team_id) for team_id, name in teams.items() if team_id in wanted]
    rows.append(row(ALL_TEAMS, None))
    return rows


def team_barriers(session: Session, settings: Settings, *, now: datetime | None = None) -> dict[int, str]:
    """The ADKAR barrier of each team in the latest closed pulse run, for teams whose figures may be shown.

    For targeting nudges: a team hidden by the anonymity rules (module docstring) gets no entry, so a
    nudge never reveals a small team's answers. Teams without a barrier (all elements above 3) are absent.
    """
    teams = _teams(session)
    run_ids = metrics_sql.latest_runs(session, now or clock.utcnow(), limit=1, closed=True)
    result: dict[int, str] = {}
    for view in _run_views(session, run_ids, teams, settings.min_group_size):
        for team_id in view.shown:
            shown = view.scores_for(team_id)
            if shown is not None and shown.barrier is not None:
                result[team_id] = shown.barrier
    return result
