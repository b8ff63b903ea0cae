"""The set-based queries behind `adoptbot metrics`: one GROUP BY per source table, no per-person work.

Every function here returns small dictionaries keyed by team id (`None` = people without a team), built
from a single SQL statement written with SQLAlchemy Core, so it runs unchanged on SQLite and PostgreSQL.
Sums and counts only (no AVG: PostgreSQL returns NUMERIC for it); the caller divides exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, String, and_, case, cast, func, literal_column, null, or_, select, union_all
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session

from bot.clock import to_naive_utc
from bot.models import (
    Activity,
    NudgeDelivery,
    Person,
    PulseAnswer,
    PulseInvitation,
    PulseResponse,
    PulseRun,
    Win,
    WinStatus,
)

TeamKey = int | None
TOTAL = "total"  # marks the organisation-wide row in UNION ALL results


def week_window(monday: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) in the organisation's time zone, as naive UTC."""
    start = datetime.combine(monday, time(0), tzinfo=tz)
    end = datetime.combine(date.fromordinal(monday.toordinal() + 7), time(0), tzinfo=tz)
    return to_naive_utc(start), to_naive_utc(end)


@dataclass
class NudgeCounts:
    sent: int = 0
    reached: int = 0
    tried: int = 0


@dataclass
class WinCounts:
    wins: int = 0
    hours: float = 0.0


@dataclass
class SurveyTally:
    """What one group answered in one run: sums and counts, never individual answers."""

    respondents: int = 0
    stage_sum: dict[str, int] = field(default_factory=dict)
    stage_count: dict[str, int] = field(default_factory=dict)  # answers (an element may have 2 questions)
    stage_people: dict[str, int] = field(default_factory=dict)  # respondents who answered the element
    usage_answers: int = 0  # one usage question: also the respondents who answered it
    usage_used: int = 0

    def add(self, other: SurveyTally) -> None:
        self.respondents += other.respondents
        for mine, theirs in (
            (self.stage_sum, other.stage_sum),
            (self.stage_count, other.stage_count),
            (self.stage_people, other.stage_people),
        ):
            for stage, value in theirs.items():
                mine[stage] = mine.get(stage, 0) + value
        self.usage_answers += other.usage_answers
        self.usage_used += other.usage_used

    def people_behind(self, figure: str) -> int:
        """How many respondents answered what `figure` (an ADKAR element, or "usage") is built from."""
        return self.usage_answers if figure == "usage" else self.stage_people.get(figure, 0)


def member_filter(end: datetime) -> Any:
    """Who counts as a member at `end` (see `members`): active and not erased, or erased at or after
    `end`; and on the roster before it."""
    return and_(
        or_(and_(Person.is_active.is_(True), Person.erased_at.is_(None)), Person.erased_at >= end),
        Person.created_at < end,
    )


def members(session: Session, end: datetime) -> dict[TeamKey, int]:
    """Active people per team who had joined before `end` (current team: the roster keeps no history).

    Someone erased (`adoptbot forget`) after `end` counts as they stood when erased: their anonymous record
    keeps the team, is inactive, and was never a member if inactive then (`created_at` = `erased_at`).
    """
    stmt = select(Person.team_id, func.count()).where(member_filter(end)).group_by(Person.team_id)
    return {team: int(count) for team, count in session.execute(stmt)}


def nudges(
    session: Session, start: datetime, end: datetime
) -> tuple[dict[TeamKey, NudgeCounts], NudgeCounts]:
    """Deliveries in the window per team (team captured on the delivery), and the organisation's total.

    The total is its own aggregate because a person who moved team mid-week counts once, not twice.
    """
    in_week = and_(NudgeDelivery.sent_at >= start, NudgeDelivery.sent_at < end)
    tried = func.sum(case((NudgeDelivery.status == "tried", 1), else_=0))
    per_team = (
        select(
            literal_column("'team'", String).label("scope"),
            NudgeDelivery.team_id,
            func.count().label("sent"),
            func.count(func.distinct(NudgeDelivery.person_id)).label("reached"),
            tried.label("tried"),
        )
        .where(in_week)
        .group_by(NudgeDelivery.team_id)
    )
    overall = select(
        literal_column("'total'", String).label("scope"),
        cast(null(), Integer).label("team_id"),
        func.count().label("sent"),
        func.count(func.distinct(NudgeDelivery.person_id)).label("reached"),
        tried.label("tried"),
    ).where(in_week)
    teams: dict[TeamKey, NudgeCounts] = {}
    total = NudgeCounts()
    result: Result[Any] = session.execute(union_all(per_team, overall))
    for row in result:
        counts = NudgeCounts(int(row.sent or 0), int(row.reached or 0), int(row.tried or 0))
        if row.scope == TOTAL:
            total = counts
        else:
            teams[row.team_id] = counts
    return teams, total


# The activity kinds that count as engagement: doing something with the programme, not just answering it.
# Written by bot.nudges.service ("Tried it"), bot.wins.service (a win submitted) and bot.broadcasts.acks
# ("Got it"). Not engagement: a pulse answer (rows of kind "pulse" from older versions; it counts in the
# response rate), "Not for me", "Remind me later" and the helpful / not helpful rating of a nudge.
ENGAGED_KINDS: tuple[str, ...] = ("nudge_tried", "win", "ack")
ACTIVE_WEEKS = 4  # `active_28d`: the four ISO weeks (28 days) ending with week W


def engaged(session: Session, start: datetime, end: datetime) -> tuple[dict[TeamKey, int], int]:
    """Distinct people who engaged (`ENGAGED_KINDS`) in the window, per team (as captured) and overall.

    For one week this is `engaged`; for the four weeks ending with it, `active_28d`. The total is its own
    aggregate, so a person who engaged in two teams counts once.
    """
    in_window = and_(
        Activity.occurred_at >= start, Activity.occurred_at < end, Activity.kind.in_(ENGAGED_KINDS)
    )
    people = func.count(func.distinct(Activity.person_id))
    per_team = (
        select(literal_column("'team'", String).label("scope"), Activity.team_id, people.label("n"))
        .where(in_window)
        .group_by(Activity.team_id)
    )
    overall = select(
        literal_column("'total'", String).label("scope"),
        cast(null(), Integer).label("team_id"),
        people.label("n"),
    ).where(in_window)
    teams: dict[TeamKey, int] = {}
    total = 0
    result: Result[Any] = session.execute(union_all(per_team, overall))
    for row in result:
        if row.scope == TOTAL:
            total = int(row.n or 0)
        else:
            teams[row.team_id] = int(row.n or 0)
    return teams, total


def wins(session: Session, start: datetime, end: datetime) -> dict[TeamKey, WinCounts]:
    """Approved wins submitted in the window, and the weekly hours they report, per team."""
    stmt = (
        select(Win.team_id, func.count(), func.sum(Win.hours_per_week))
        .where(Win.status == WinStatus.APPROVED, Win.submitted_at >= start, Win.submitted_at < end)
        .group_by(Win.team_id)
    )
    return {team: WinCounts(int(n), float(hours or 0.0)) for team, n, hours in session.execute(stmt)}


def latest_runs(session: Session, end: datetime, limit: int = 2, *, closed: bool = False) -> list[int]:
    """Ids of the newest pulse runs opened before `end`, newest first (`closed`: those closed by `end`)."""
    stmt = select(PulseRun.id).where(PulseRun.opened_at < end)
    if closed:
        stmt = stmt.where(or_(PulseRun.closed_at.is_not(None), PulseRun.closes_at <= end))
    stmt = stmt.order_by(PulseRun.opened_at.desc(), PulseRun.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def invited(session: Session, run_id: int) -> dict[TeamKey, int]:
    stmt = (
        select(PulseInvitation.team_id, func.count())
        .where(PulseInvitation.run_id == run_id)
        .group_by(PulseInvitation.team_id)
    )
    return {team: int(count) for team, count in session.execute(stmt)}


def survey_tallies(session: Session, run_ids: Sequence[int]) -> dict[int, dict[TeamKey, SurveyTally]]:
    """Per run and team: respondents, ADKAR sums, answer and respondent counts, usage answers.

    The answers carry their response's run and team, so they are tallied without a join, per question
    and without DISTINCT (a hash aggregate: a run's half-million answers in a fraction of a second). A
    sheet answers a question once, so the people behind an element asked in one question are its answers;
    only an element asked in several questions needs its distinct respondents counted, by a third
    statement over that element's answers alone.
    """
    result: dict[int, dict[TeamKey, SurveyTally]] = defaultdict(dict)
    if not run_ids:
        return result
    respondents = (
        select(PulseResponse.run_id, PulseResponse.team_id, func.count())
        .where(PulseResponse.run_id.in_(run_ids))
        .group_by(PulseResponse.run_id, PulseResponse.team_id)
    )
    for run_id, team, count in session.execute(respondents):
        result[run_id][team] = SurveyTally(respondents=int(count))
    answers = (
        select(
            PulseAnswer.run_id,
            PulseAnswer.team_id,
            PulseAnswer.stage,
            PulseAnswer.metric,
            PulseAnswer.question_id,
            func.count(PulseAnswer.value),
            func.sum(PulseAnswer.value),
            func.sum(case((PulseAnswer.value > 0, 1), else_=0)),
        )
        .where(
            PulseAnswer.run_id.in_(run_ids),
            PulseAnswer.value.is_not(None),
            or_(PulseAnswer.stage.is_not(None), PulseAnswer.metric == "usage"),
        )
        .group_by(
            PulseAnswer.run_id,
            PulseAnswer.team_id,
            PulseAnswer.stage,
            PulseAnswer.metric,
            PulseAnswer.question_id,
        )
    )
    questions: dict[tuple[int, str], set[str]] = defaultdict(set)  # (run, element) -> its questions
    for run_id, team, stage, metric, question, count, total, positive in session.execute(answers):
        tally = result[run_id].setdefault(team, SurveyTally())
        if stage is not None:
            questions[(run_id, stage)].add(question)
            tally.stage_sum[stage] = tally.stage_sum.get(stage, 0) + int(total or 0)
            tally.stage_count[stage] = tally.stage_count.get(stage, 0) + int(count)
            tally.stage_people[stage] = tally.stage_people.get(stage, 0) + int(count)  # one question: exact
        if metric == "usage":
            # Choice answers store the option's index: 0 is the first option ("never").
            tally.usage_answers += int(count)
            tally.usage_used += int(positive or 0)
    several = sorted({key for key, asked in questions.items() if len(asked) > 1})
    for run_id, stage in several:
        for tally in result[run_id].values():
            tally.stage_people.pop(stage, None)
        people = (
            select(PulseAnswer.team_id, func.count(func.distinct(PulseAnswer.response_id)))
            .where(PulseAnswer.run_id == run_id, PulseAnswer.stage == stage, PulseAnswer.value.is_not(None))
            .group_by(PulseAnswer.team_id)
        )
        for team, count in session.execute(people):
            result[run_id].setdefault(team, SurveyTally()).stage_people[stage] = int(count)
    return result
