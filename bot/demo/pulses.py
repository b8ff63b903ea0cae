"""`adoptbot demo`: pulse history every other week, approved wins, and the metrics table for the last week.

The story the numbers tell: readiness grows unevenly from run to run, each team at its own pace; one team
is stuck at a knowledge barrier (people want AI but don't know how to use it for their work); and one
team is too small to show: it never reaches k answers, so its survey figures stay hidden, and so does the
next smallest team's (complementary suppression, see bot.metrics.service). Answers are stored exactly as
the product stores them (keyed hashes, random keys, team captured, the day only, no "pulse" activity).
Bulk inserts only: 10,000 people, 100 teams and 26 weeks take seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import cast

from sqlalchemy import Table, func, insert, select

from bot.clock import to_naive_utc
from bot.content import Question, Survey
from bot.demo.context import DemoContext, DemoTeam
from bot.metrics.format import run_still_open, to_table
from bot.metrics.service import compute_metrics
from bot.models import (
    Activity,
    Base,
    PulseAnswer,
    PulseInvitation,
    PulseResponse,
    PulseRun,
    Win,
    WinStatus,
    random_key,
)
from bot.pulses import service as pulses

_BATCH = 5_000
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
WINS = (
    ("Drafted the quarterly business review deck from my notes", 2.0),
    ("Summarised a 40-page RFP into a one-page brief", 3.0),
    ("Wrote first replies to the support backlog, then edited them", 4.0),
    ("Turned meeting transcripts into action lists", 1.5),
    ("Generated test cases for the billing service", 2.5),
    ("Cleaned up the month-end reconciliation notes", 1.0),
    ("Translated onboarding guides for the Berlin office", 3.5),
    ("Drafted job descriptions from the hiring manager's bullet points", 1.0),
    ("Compared three vendor contracts clause by clause", 2.0),
    ("Wrote the first draft of the release notes", 0.5),
)


@dataclass
class _TeamPulse:
    """How a team answers: a starting level per ADKAR element, a gain per run, a response rate."""

    level: dict[str, float]
    gain: float
    response: float
    cap: int | None = None  # at most this many answers per run (the team too small to show)
    stuck: str | None = None  # an element that does not improve


def _team_profiles(ctx: DemoContext, stages: list[str]) -> tuple[dict[int, _TeamPulse], DemoTeam, DemoTeam]:
    rng = ctx.rng
    k = ctx.settings.min_group_size
    by_size = sorted(ctx.teams, key=lambda t: (len(t.member_ids), t.name))
    small = by_size[0]
    # The largest team: always shown (complementary suppression takes the smallest), so its barrier is seen.
    stuck = by_size[-1]
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


def _run_mondays(ctx: DemoContext) -> list[date]:
    """Every other week, ending with the last complete week (so its metrics describe a fresh run)."""
    weeks = ctx.week_starts
    return [weeks[i] for i in range(len(weeks) - 1, -1, -CADENCE_WEEKS)][::-1]


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
    for index, monday in enumerate(_run_mondays(ctx)):
        counts = _one_run(ctx, survey, profiles, secret, monday, index)
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    ctx.progress(
        f"{len(_run_mondays(ctx))} pulse runs, {totals[0]:,} invitations, {totals[1]:,} answer sheets, "
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
    opened = to_naive_utc(
        datetime.combine(monday + timedelta(days=1), time(settings.nudge_hour), tzinfo=settings.tz)
    )
    closes = opened + timedelta(days=settings.pulse_close_days)
    run_id = ctx.session.execute(
        insert(PulseRun).returning(PulseRun.id),
        [
            {
                "survey_id": survey.id,
                "opened_at": opened,
                "closes_at": closes,
                "closed_at": closes if closes <= ctx.now else None,
                "opened_by": "schedule",
            }
        ],
    ).scalar_one()
    usage_question = next((q for q in survey.questions if q.metric == "usage"), None)
    comment_question = next((q for q in survey.questions if q.kind == "text"), None)
    invitations: list[tuple[object, ...]] = []
    responses: list[tuple[object, ...]] = []
    answers: list[tuple[object, ...]] = []
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
            answered = opened + delay if will_answer and opened + delay < min(closes, ctx.now) else None
            reminders = sum(1 for d in settings.pulse_reminder_days if answered is None or delay.days >= d)
            day = pulses.answer_day(answered, settings) if answered is not None else None
            invitations.append((run_id, person_id, team.id, opened, day, reminders))
            if day is None:
                continue
            answered_here += 1
            response_id = random_key()
            key = pulses.respondent_key(secret, run_id, person_id)
            responses.append((response_id, run_id, key, team.id, pulses.answer_day(opened, settings)))
            sheet = _sheet(rng, survey, profile, index, usage_question, comment_question)
            answers.extend((random_key(), response_id, *row) for row in sheet)
    _bulk_insert(ctx, PulseInvitation, INVITATION_COLUMNS, invitations)
    # In the order of their random keys, as a database's own index would list them.
    _bulk_insert(ctx, PulseResponse, RESPONSE_COLUMNS, sorted(responses, key=lambda r: str(r[0])))
    _bulk_insert(ctx, PulseAnswer, ANSWER_COLUMNS, sorted(answers, key=lambda a: str(a[0])), dates=False)
    return len(invitations), len(responses), len(answers)


INVITATION_COLUMNS = ("run_id", "person_id", "team_id", "invited_at", "answered_at", "reminders_sent")
RESPONSE_COLUMNS = ("id", "run_id", "respondent", "team_id", "submitted_at")
ANSWER_COLUMNS = ("id", "response_id", "question_id", "stage", "metric", "value", "text")
ACTIVITY_COLUMNS = ("person_id", "team_id", "kind", "occurred_at")
WIN_COLUMNS = (
    "author_id",
    "team_id",
    "what",
    "hours_per_week",
    "share",
    "status",
    "submitted_at",
    "reviewed_at",
    "shared_at",
)


def _bulk_insert(
    ctx: DemoContext,
    model: type[Base],
    columns: tuple[str, ...],
    rows: list[tuple[object, ...]],
    *,
    dates: bool = True,
) -> None:
    """The bulk of the history, as fast as each database takes it: COPY on PostgreSQL; on SQLite a plain
    DB-API executemany of tuples when there are no dates (SQLAlchemy formats SQLite's dates), else Core."""
    connection = ctx.session.connection()
    table = model.__tablename__
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    for start in range(0, len(rows), _BATCH):
        batch = rows[start : start + _BATCH]
        if dates:
            ctx.session.execute(
                insert(cast(Table, model.__table__)), [dict(zip(columns, r, strict=True)) for r in batch]
            )
        else:
            marks = ", ".join("?" for _ in columns)
            connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)


def _sheet(
    rng: random.Random,
    survey: Survey,
    profile: _TeamPulse,
    index: int,
    usage_question: Question | None,
    comment_question: Question | None,
) -> list[tuple[object, ...]]:
    """One person's answers: (question_id, stage, metric, value, text) each."""
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
        rows.append((question.id, question.stage, question.metric, _scale(rng, mean), None))
    if usage_question is not None:
        adoption = min(0.95, 0.35 + profile.gain * index * 1.5)
        rows.append((usage_question.id, None, "usage", _usage(rng, usage_question, adoption), None))
    if comment_question is not None and rng.random() < 0.22:
        rows.append((comment_question.id, None, None, None, rng.choice(COMMENTS)))
    return rows


def win_history(ctx: DemoContext) -> None:
    """Wins: approved stories with the hours they save.

    Skipped when the database already holds wins.
    """
    if ctx.session.scalar(select(func.count()).select_from(Win)):
        return
    rng = ctx.rng
    wins: list[tuple[object, ...]] = []
    activity: list[tuple[object, ...]] = []
    for index, monday in enumerate(ctx.week_starts):
        for team in ctx.teams:
            expected = len(team.member_ids) * (0.005 + 0.001 * index) * rng.uniform(0.3, 1.7)
            count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            for _ in range(count):
                author = rng.choice(team.member_ids)
                what, hours = rng.choice(WINS)
                submitted = to_naive_utc(
                    datetime.combine(
                        monday + timedelta(days=rng.randrange(5)),
                        time(rng.randrange(9, 18)),
                        tzinfo=ctx.settings.tz,
                    )
                )
                status = (
                    WinStatus.APPROVED
                    if rng.random() < 0.85
                    else rng.choice((WinStatus.PENDING, WinStatus.REJECTED))
                )
                reviewed = submitted + timedelta(hours=6)
                wins.append(
                    (
                        author,
                        team.id,
                        what,
                        round(hours * rng.uniform(0.5, 1.5) * 2) / 2,  # to the half hour
                        rng.choice(("named", "named", "anonymous")),
                        status,
                        submitted,
                        reviewed if status != WinStatus.PENDING else None,
                        reviewed if status == WinStatus.APPROVED else None,
                    )
                )
                activity.append((author, team.id, "win", submitted))
    _bulk_insert(ctx, Win, WIN_COLUMNS, wins)
    _bulk_insert(ctx, Activity, ACTIVITY_COLUMNS, activity)
    approved = sum(1 for w in wins if w[5] == WinStatus.APPROVED)
    ctx.progress(f"{len(wins):,} wins shared, {approved:,} approved")


def metrics_table(ctx: DemoContext) -> str:
    """`adoptbot metrics` for the last complete week of the demo's history."""
    week = ctx.end - timedelta(days=7)
    rows = compute_metrics(ctx.session, week_monday=week, settings=ctx.settings, now=ctx.now)
    table = to_table(rows, min_group_size=ctx.settings.min_group_size).rstrip()
    hidden = [r.team for r in rows if r.suppressed and r.team != "*"]
    if run_still_open(rows, ctx.settings.min_group_size):
        note = (
            "\n\nThe week's pulse run is still open, so no survey figure shows yet; the digest below "
            "reports the last closed run."
        )
    elif hidden:
        note = f"\n\nHidden this week: {', '.join(hidden)}."
    else:
        note = "\n\nEvery team had enough answers to show."
    return table + note + " Same figures: adoptbot metrics --format json."
