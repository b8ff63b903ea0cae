"""`adoptbot demo`: pulse history every other week, and the metrics table for the report week.

The story the numbers tell: readiness grows unevenly from run to run, each team at its own pace; one team
is stuck at a knowledge barrier (people want AI but don't know how to use it for their work; its Copilot
licences sit idle, see bot.demo.usage); and one team is too small to show: it never reaches k answers, so
its survey figures stay hidden, and so does the next smallest team's (complementary suppression, see
bot.metrics.service). Answers are stored exactly as the product stores them (keyed hashes, random keys,
team captured, the day only, no "pulse" activity). Every run has closed by the demo's now, so the report
week's figures are final: `adoptbot metrics` shows the same on any later day.
Bulk inserts only: 10,000 people, 100 teams and 26 weeks take seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert

from bot.clock import iso_week, to_naive_utc
from bot.content import Question, Survey
from bot.demo.bulk import RowStream, random_keys
from bot.demo.context import DemoContext, DemoTeam
from bot.metrics.format import to_table
from bot.metrics.service import compute_metrics
from bot.models import PulseAnswer, PulseInvitation, PulseResponse, PulseRun
from bot.pulses import service as pulses

CADENCE_WEEKS = 2
COMMENTS = (
    "More hands-on training for our own tools would help.",
    "I need examples for my role, not generic prompts.",
    "Not sure what customer data I may paste in; clearer rules please.",
    "The approved assistant is slow to get access to.",
    "Saving real time on first drafts, keep the nudges coming.",
    "Clearer rules on customer data would help.",
    "More hands-on training, please.",
    "Examples for my role would make it click.",
    "Our team lead uses it a lot, which helps.",
    "Hard to find time to practise during busy weeks.",
)


@dataclass
class _TeamPulse:
    """How a team answers: a starting level per ADKAR element, a gain per run, a response rate."""

    level: dict[str, float]
    gain: float
    response: float
    cap: int | None = None  # at most this many answers per run (the team too small to show)
    stuck: str | None = None  # an element that does not improve


def _by_size(teams: list[DemoTeam]) -> list[DemoTeam]:
    return sorted(teams, key=lambda t: (len(t.member_ids), t.name))


def stuck_team(teams: list[DemoTeam]) -> DemoTeam:
    """The team stuck at the knowledge barrier: the largest, always shown (complementary suppression
    takes the smallest), so its barrier is seen."""
    return _by_size(teams)[-1]


def _team_profiles(ctx: DemoContext, stages: list[str]) -> tuple[dict[int, _TeamPulse], DemoTeam, DemoTeam]:
    rng = ctx.rng
    k = ctx.settings.min_group_size
    small = _by_size(ctx.teams)[0]
    stuck = stuck_team(ctx.teams)
    profiles: dict[int, _TeamPulse] = {}
    for team in ctx.teams:
        profiles[team.id] = _TeamPulse(
            level={stage: rng.uniform(2.3, 3.3) for stage in stages},
            gain=0.0 if rng.random() < 0.15 else rng.uniform(0.03, 0.14),
            response=rng.uniform(0.45, 0.8),
        )
    profiles[small.id].cap = max(0, k - 1)
    profile = profiles[stuck.id]
    profile.stuck = "knowledge"
    profile.level = {stage: rng.uniform(3.1, 3.6) for stage in stages}
    profile.level["knowledge"] = 1.9
    profile.gain = max(profile.gain, 0.08)
    return profiles, small, stuck


def _scale(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 0.75))))


def _usage(rng: random.Random, question: Question, adoption: float) -> int:
    """Option index: 0 = never; the keener the team, the further along the options."""
    if rng.random() > adoption:
        return 0
    top = len(question.options) - 1
    return max(1, min(top, 1 + int(rng.random() * top * adoption + 0.3)))


def _run_times(ctx: DemoContext, monday: date) -> tuple[datetime, datetime]:
    """When the run of the week of `monday` opens (Tuesday at the nudge hour) and closes, naive UTC."""
    settings = ctx.settings
    opened = to_naive_utc(
        datetime.combine(monday + timedelta(days=1), time(settings.nudge_hour), tzinfo=settings.tz)
    )
    return opened, opened + timedelta(days=settings.pulse_close_days)


def _run_mondays(ctx: DemoContext) -> list[date]:
    """Every other week, ending with the last week whose run has closed by the demo's now (with runs open
    7 days: the week before the report week). So the report week's latest run is closed, never open."""
    weeks = ctx.week_starts
    closed = [i for i, monday in enumerate(weeks) if _run_times(ctx, monday)[1] <= ctx.now]
    if not closed:
        return []
    return [weeks[i] for i in range(closed[-1], -1, -CADENCE_WEEKS)][::-1]


def pulse_history(ctx: DemoContext) -> None:
    """Pulse history: a run every other week, answers stored as keyed hashes."""
    if not ctx.library.surveys:
        ctx.progress("no pulse survey in the content library: no pulse history")
        return
    survey: Survey = ctx.library.default_survey()
    stages = sorted({q.stage for q in survey.questions if q.stage}, key=demo_stage_order)
    profiles, small, stuck = _team_profiles(ctx, stages)
    secret = pulses.pulse_secret(ctx.session, ctx.settings)
    totals = [0, 0, 0]
    mondays = _run_mondays(ctx)
    if not mondays:
        ctx.progress(
            f"no pulse history: in {ctx.weeks} week{'s' if ctx.weeks != 1 else ''} no run could close "
            f"(a run takes {ctx.settings.pulse_close_days} days)"
        )
        return
    for index, monday in enumerate(mondays):
        counts = _one_run(ctx, survey, profiles, secret, monday, index)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    ctx.progress(
        f"{len(mondays)} pulse runs, {totals[0]:,} invitations, {totals[1]:,} answer sheets, "
        f"{totals[2]:,} answers; {stuck.name} stuck at knowledge, {small.name} too small to show"
    )


def demo_stage_order(stage: str | None) -> int:
    order = ("awareness", "desire", "knowledge", "ability", "reinforcement")
    return order.index(stage) if stage in order else len(order)


def _one_run(
    ctx: DemoContext,
    survey: Survey,
    profiles: dict[int, _TeamPulse],
    secret: bytes,
    monday: date,
    index: int,
) -> tuple[int, int, int]:
    rng = ctx.rng
    settings = ctx.settings
    opened, closes = _run_times(ctx, monday)
    run_id = ctx.session.execute(
        insert(PulseRun).returning(PulseRun.id),
        [
            {
                "survey_id": survey.id,
                "opened_at": opened,
                "closes_at": closes,
                "closed_at": closes,  # every demo run has closed by now (_run_mondays)
                "opened_by": "schedule",
            }
        ],
    ).scalar_one()
    usage_question = next((q for q in survey.questions if q.metric == "usage"), None)
    comment_question = next((q for q in survey.questions if q.kind == "text"), None)
    streams = (
        RowStream(ctx.session, PulseInvitation, INVITATION_COLUMNS, cells=True),
        RowStream(ctx.session, PulseResponse, RESPONSE_COLUMNS, cells=True),
        RowStream(ctx.session, PulseAnswer, ANSWER_COLUMNS, dates=False, cells=True),
    )
    cells = streams[0]  # how the three streams take a missing value and a date
    null = cells.null
    invited = cells.moment(opened)
    submitted = cells.moment(pulses.answer_day(opened, settings))
    unanswered = (null, len(settings.pulse_reminder_days))  # reminded every time
    outcomes: dict[timedelta, tuple[object, int]] = {}  # an answer's delay -> (its day, reminders sent)
    invitations: list[tuple[object, ...]] = []
    responses: list[tuple[object, ...]] = []
    answers: list[tuple[object, ...]] = []
    keys = random_keys()
    for team in ctx.teams:
        profile = profiles[team.id]
        rate = min(0.92, profile.response + 0.02 * index)
        answered_here = 0
        for person_id in team.member_ids:
            person = ctx.persons[person_id]
            if person.started_on > monday:
                continue
            will_answer = rng.random() < rate and (profile.cap is None or answered_here < profile.cap)
            delay = timedelta(days=rng.choice((0, 0, 0, 1, 1, 2, 3, 4, 5)), hours=rng.randrange(0, 8))
            day, reminders = (
                _outcome(ctx, cells, opened, closes, delay, outcomes) if will_answer else unanswered
            )
            invitations.append((run_id, person_id, team.id, invited, day, reminders))
            if day is null:
                continue
            answered_here += 1
            response_id = next(keys)
            key = pulses.respondent_key(secret, run_id, person_id)
            responses.append((response_id, run_id, key, team.id, submitted))
            sheet = _sheet(rng, survey, profile, index, usage_question, comment_question, null)
            answers.extend((next(keys), response_id, run_id, team.id, *row) for row in sheet)
    # Responses and answers in the order of their random keys, as a database's own index would list them.
    for stream, rows in zip(
        streams, (invitations, sorted(responses, key=_first), sorted(answers, key=_first)), strict=True
    ):
        with stream:
            stream.extend(rows)
    return len(invitations), len(responses), len(answers)


def _first(row: tuple[object, ...]) -> str:
    return str(row[0])


def _outcome(
    ctx: DemoContext,
    cells: RowStream,
    opened: datetime,
    closes: datetime,
    delay: timedelta,
    known: dict[timedelta, tuple[object, int]],
) -> tuple[object, int]:
    """For an answer `delay` after the run opened: the day it counts for (null if the run had closed)
    and how many reminders went out before it (one of a few dozen delays: worked out once each)."""
    found = known.get(delay)
    if found is None:
        settings = ctx.settings
        answered = opened + delay
        if answered >= closes:
            found = (cells.null, len(settings.pulse_reminder_days))
        else:
            reminders = sum(1 for d in settings.pulse_reminder_days if delay.days >= d)
            found = (cells.moment(pulses.answer_day(answered, settings)), reminders)
        known[delay] = found
    return found


INVITATION_COLUMNS = ("run_id", "person_id", "team_id", "invited_at", "answered_at", "reminders_sent")
RESPONSE_COLUMNS = ("id", "run_id", "respondent", "team_id", "submitted_at")
ANSWER_COLUMNS = ("id", "response_id", "run_id", "team_id", "question_id", "stage", "metric", "value", "text")


def _sheet(
    rng: random.Random,
    survey: Survey,
    profile: _TeamPulse,
    index: int,
    usage_question: Question | None,
    comment_question: Question | None,
    null: object = None,
) -> list[tuple[object, ...]]:
    """One person's answers: (question_id, stage, metric, value, text) each, `null` where one is missing."""
    mood = rng.gauss(0, 0.35)  # some people answer everything a little higher or lower
    rows: list[tuple[object, ...]] = []
    for question in survey.questions:
        if question.kind != "scale":
            continue
        if question.stage:
            gain = 0.0 if question.stage == profile.stuck else profile.gain * index
            mean = min(4.7, profile.level.get(question.stage, 3.0) + gain) + mood
        else:
            mean = 3.2 + mood
        rows.append((question.id, question.stage or null, question.metric or null, _scale(rng, mean), null))
    if usage_question is not None:
        # The stuck team tried AI once or twice, no more: half say they used it, and that does not grow.
        adoption = 0.5 if profile.stuck else min(0.95, 0.35 + profile.gain * index * 1.5)
        rows.append((usage_question.id, null, "usage", _usage(rng, usage_question, adoption), null))
    if comment_question is not None and rng.random() < 0.22:
        rows.append((comment_question.id, null, null, null, rng.choice(COMMENTS)))
    return rows


def metrics_table(ctx: DemoContext) -> str:
    """`adoptbot metrics` for the report week (the last complete week of the demo's history)."""
    rows = compute_metrics(ctx.session, week_monday=ctx.report_week, settings=ctx.settings, now=ctx.now)
    table = to_table(rows, min_group_size=ctx.settings.min_group_size).rstrip()
    hidden = [r.team for r in rows if r.suppressed and r.team != "*"]
    if rows[-1].pulse is None:
        note = "\n\nNo pulse run has closed within the demo's history, so no survey figure shows."
    elif hidden:
        note = f"\n\nHidden this week: {', '.join(hidden)}."
    else:
        note = "\n\nEvery team had enough answers to show."
    return table + note + f" Same figures: adoptbot metrics --week {iso_week(ctx.report_week)} --format json."
