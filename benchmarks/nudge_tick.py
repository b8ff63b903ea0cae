"""Benchmark: one tick's nudge work among 50,000 people, 10,000 of them due, on SQLite and PostgreSQL.

Target: at most 1 s per tick, excluding Slack. Measures `bot.nudges.service.deliver_due` in its own
transaction, as the `nudges` job runs it: find who is due (time zones at the slot hour, holidays, pause,
away, start week, this week's count), read their nudge history, the teams' ADKAR barriers from the latest
pulse, choose each person's nudge, insert the deliveries and queue 10,000 outbox messages, commit.
Sending them to Slack is the outbox's paced work and is not part of it.

The organisation: 50,000 active people in 250 teams and the bundled library's roles; 10,000 in zones at
10:xx on Tuesday 24 November 2026 09:10 UTC (Europe/Berlin, Paris, Madrid, Rome, Amsterdam), the rest in
eight other zones; `--history-weeks` weeks of nudge history (default 4: 400,000 deliveries) and a closed
pulse run with every person's answers (250,000 answers), so the queries read realistic tables.

    .venv/bin/python benchmarks/nudge_tick.py [--people 50000] [--due 10000] [--pg postgresql://...]

PostgreSQL: `--pg URL` or TEST_DATABASE_URL; a scratch database is created on that server and dropped.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from scratch import postgres_database
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from bot import outbox
from bot.config import Settings
from bot.content import ADKAR_STAGES, Library, load_library
from bot.db import create_db_engine, session_factory, session_scope
from bot.migrate import upgrade
from bot.models import NudgeDelivery, OutboxMessage, Person, PulseAnswer, PulseResponse, PulseRun, Team
from bot.nudges import schedule as nudge_schedule
from bot.nudges.service import deliver_due, plan_nudges

TARGET_SECONDS = 1.0
NOW = datetime(2026, 11, 24, 9, 10)  # Tuesday: 10:10 in Central Europe
DUE_ZONES = ("Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam")
OTHER_ZONES = (
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Africa/Lagos",  # UTC+1 too, but no slot today: a holiday there (see the library below)
)
TEAMS = 250
BATCH = 10_000


def with_holiday(library: Library) -> Library:
    """The bundled library plus a Lagos holiday on the benchmark's Tuesday (holidays are checked too)."""
    from dataclasses import replace

    from bot.content import Holiday

    lagos = Holiday(NOW.date(), "Benchmark holiday", ("Africa/Lagos",))
    return replace(library, holidays=(*library.holidays, lagos))


def this_monday(moment: datetime) -> date:
    return moment.date() - timedelta(days=moment.weekday())


def seed(
    engine: Engine, library: Library, people: int, due: int, history_weeks: int, rng: random.Random
) -> None:
    roles = sorted(r for r in library.roles if library.nudges_for(r))
    ladders = {role: sorted(library.nudges_for(role), key=lambda n: (n.level, n.id)) for role in roles}
    history = [
        this_monday(NOW) - timedelta(weeks=w) + timedelta(days=d)
        for w in range(history_weeks, 0, -1)
        for d in (1, 3)
    ]
    # Each person's level as the ticks that sent their history left it: the level of the last nudge.
    levels = {role: ladder[min(len(history), len(ladder) - 1) - 1].level for role, ladder in ladders.items()}
    # Explicit ids and Core inserts: the seeding is not what is measured, so it takes the fastest path.
    team_ids = list(range(1, TEAMS + 1))
    person_ids = list(range(1, people + 1))
    with session_scope(engine) as session:
        session.execute(
            Team.__table__.insert(),
            [{"id": t, "name": f"Team {t:03d}", "created_at": datetime(2026, 1, 1)} for t in team_ids],
        )
        rows = []
        for i in range(people):
            zone = DUE_ZONES[i % len(DUE_ZONES)] if i < due else OTHER_ZONES[i % len(OTHER_ZONES)]
            rows.append(
                {
                    "id": person_ids[i],
                    "slack_user_id": f"U{i:09d}",
                    "email": f"person{i}@example.com",
                    "name": f"Person {i}",
                    "team_id": team_ids[i % TEAMS],
                    "role": roles[i % len(roles)],
                    "timezone": zone if i % 7 == 0 else None,
                    "slack_timezone": zone,
                    "is_active": True,
                    "is_change_manager": False,
                    "leads_all": False,
                    "nudge_level": levels[roles[i % len(roles)]] if history else 1,
                    "started_on": date(2026, 9, 7) if i % 2 else None,  # the rest: derived from created_at
                    "created_at": datetime(2026, 9, 1, 12),
                    "updated_at": datetime(2026, 9, 1, 12),
                }
            )
        for start in range(0, len(rows), BATCH):
            session.execute(Person.__table__.insert(), rows[start : start + BATCH])
    slots = history
    deliveries = []
    for index, person_id in enumerate(person_ids):
        role = roles[index % len(roles)]
        for nudge, slot in zip(ladders[role][: len(ladders[role]) - 1], slots, strict=False):
            status = "tried" if rng.random() < 0.3 else "sent"
            sent = datetime.combine(slot, datetime.min.time()) + timedelta(hours=9)
            deliveries.append(
                {
                    "person_id": person_id,
                    "team_id": team_ids[index % TEAMS],
                    "nudge_id": nudge.id,
                    "role": role,
                    "level": nudge.level,
                    "stage": nudge.stage,
                    "slot": slot.isoformat(),
                    "outbox_key": f"nudge:{person_id}:{slot.isoformat()}",
                    "created_at": sent,
                    "sent_at": sent,
                    "status": status,
                    "tried_at": sent if status == "tried" else None,
                }
            )
    with session_scope(engine) as session:
        for start in range(0, len(deliveries), BATCH):
            session.execute(NudgeDelivery.__table__.insert(), deliveries[start : start + BATCH])
        run_id = 1
        session.execute(
            PulseRun.__table__.insert(),
            [
                {
                    "id": run_id,
                    "survey_id": "adkar",
                    "opened_at": datetime(2026, 11, 9),
                    "closes_at": datetime(2026, 11, 16),
                    "closed_at": datetime(2026, 11, 16),
                    "opened_by": "benchmark",
                }
            ],
        )
        response_ids = list(range(1, people + 1))
        responses = [
            {
                "id": response_ids[i],
                "run_id": run_id,
                "respondent": uuid.uuid4().hex,
                "team_id": team_ids[i % TEAMS],
                "submitted_at": datetime(2026, 11, 10),
            }
            for i in range(people)
        ]
        for start in range(0, len(responses), BATCH):
            session.execute(PulseResponse.__table__.insert(), responses[start : start + BATCH])
        answers = [
            {
                "response_id": rid,
                "run_id": run_id,
                "question_id": stage,
                "stage": stage,
                "value": rng.randint(1, 5),
            }
            for rid in response_ids
            for stage in ADKAR_STAGES
        ]
        for start in range(0, len(answers), BATCH):
            session.execute(PulseAnswer.__table__.insert(), answers[start : start + BATCH])
    print(f"  seeded {people:,} people, {len(deliveries):,} past deliveries, {len(answers):,} pulse answers")


@dataclass
class Timing:
    who: float  # who is due: the set-based query (with each due person's history)
    plan: float  # who is due and which nudge each gets (adds team barriers and the choice)
    tick: float  # the whole job: the plan, 10,000 deliveries inserted, 10,000 messages queued, commit
    enqueue: float  # of which queueing in the outbox
    queued: int


def timed_tick(engine: Engine, settings: Settings, library: Library, *, commit: bool) -> Timing:
    """One tick's nudge work, timed in parts; rolled back unless `commit`.

    `tick` is exactly the `nudges` job's transaction (`deliver_due` and the commit); `who` and `plan` are
    its read-only first steps, timed on their own in read-only transactions.
    """
    roles = [r for r in library.roles if library.nudges_for(r)]
    with session_scope(engine, readonly=True) as session:
        started = time.perf_counter()
        nudge_schedule.due_people(session, settings, NOW, roles=roles, is_holiday=library.is_holiday)
        who = time.perf_counter() - started
    with session_scope(engine, readonly=True) as session:
        started = time.perf_counter()
        plan_nudges(session, settings, library, NOW)
        plan = time.perf_counter() - started
    spent = [0.0]
    real_enqueue, real_enqueue_many = outbox.enqueue, outbox.enqueue_many

    def timed(fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - began

        return wrapper

    session = session_factory(engine)()
    outbox.enqueue, outbox.enqueue_many = timed(real_enqueue), timed(real_enqueue_many)
    try:
        started = time.perf_counter()
        queued = deliver_due(session, settings, library, NOW)
        if commit:
            session.commit()
        else:
            session.rollback()
        tick = time.perf_counter() - started
    finally:
        outbox.enqueue, outbox.enqueue_many = real_enqueue, real_enqueue_many
        session.close()
    return Timing(who, plan, tick, spent[0], queued)


def bulk_outbox_insert(engine: Engine) -> float:
    """For comparison: the tick's outbox rows written again by one bulk INSERT (rolled back)."""
    with session_scope(engine, readonly=True) as session:
        rows = [
            {
                column: getattr(message, column)
                for column in (
                    "kind",
                    "method",
                    "channel",
                    "person_id",
                    "payload",
                    "state",
                    "attempts",
                    "not_before",
                    "created_at",
                )
            }
            | {"key": message.key + ":copy"}
            for message in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "nudge"))
        ]
    session = session_factory(engine)()
    try:
        started = time.perf_counter()
        session.execute(OutboxMessage.__table__.insert(), rows)
        session.flush()
        return time.perf_counter() - started
    finally:
        session.rollback()
        session.close()


def bench(label: str, url: str, library: Library, args: argparse.Namespace) -> None:
    engine = create_db_engine(url)
    try:
        upgrade(engine)
        print(f"{label}:")
        began = time.perf_counter()
        seed(engine, library, args.people, args.due, args.history_weeks, random.Random(7))
        print(f"  (seeding took {time.perf_counter() - began:.1f} s)")
        if url.startswith("postgresql"):
            with engine.begin() as connection:  # statistics, as autovacuum would have them by now
                connection.execute(text("ANALYZE"))
        settings = Settings()
        for attempt in (1, 2):
            t = timed_tick(engine, settings, library, commit=attempt == 2)
            print(
                f"  tick {attempt}{' (committed)' if attempt == 2 else ' (rolled back)'}: "
                f"who is due {t.who:.3f} s; who + which nudge {t.plan:.3f} s "
                f"({t.plan / TARGET_SECONDS:.0%} of the {TARGET_SECONDS:g} s goal); "
                f"whole tick {t.tick:.2f} s ({t.tick / TARGET_SECONDS:.0%}), of which outbox queueing "
                f"{t.enqueue:.2f} s; {t.queued:,} queued"
            )
        with session_scope(engine, readonly=True) as session:
            stored = session.scalar(select(func.count()).select_from(OutboxMessage))
        print(f"  {stored:,} messages in the outbox")
        bulk = bulk_outbox_insert(engine)
        print(f"  for comparison, the same {stored:,} outbox rows in one bulk INSERT: {bulk:.2f} s")
        again = timed_tick(engine, settings, library, commit=True)
        print(f"  the same tick again: {again.tick:.3f} s, {again.queued} queued (nothing twice)")
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--due", type=int, default=10_000)
    parser.add_argument("--history-weeks", type=int, default=4)
    parser.add_argument(
        "--pg",
        metavar="URL",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL server URL (default: TEST_DATABASE_URL); skipped when unset",
    )
    args = parser.parse_args()
    library = with_holiday(load_library())
    print(f"{args.people:,} people, {args.due:,} due at {NOW:%Y-%m-%d %H:%M} UTC; goal {TARGET_SECONDS:g} s")
    with tempfile.TemporaryDirectory(prefix="adoptbot-bench-") as folder:
        bench("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", library, args)
    if args.pg:
        with postgres_database(args.pg) as url:
            bench("PostgreSQL", url, library, args)
    else:
        print("PostgreSQL skipped: pass --pg URL or set TEST_DATABASE_URL.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
