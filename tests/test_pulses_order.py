"""A curious database administrator with a full copy cannot tell who answered the pulse when, nor in which
order: answering writes the answer sheet and nothing else, keys are random, and only the day is kept."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, select, text

from bot import clock
from bot.config import Settings
from bot.db import session_scope
from bot.metrics.service import compute_metrics
from bot.models import (
    Activity,
    Base,
    OutboxMessage,
    Person,
    PulseAnswer,
    PulseInvitation,
    PulseResponse,
    PulseRun,
)
from bot.pulses import confirm as pulse_confirm
from bot.pulses import service as pulses
from tests.support.factories import add_people, user_ids
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, library
from tests.test_pulses import JOINED, answer, raw
from tests.test_pulses import settings as service_settings
from tests.test_pulses_slack import _click, _open_and_send, _settings, _sheet, _submit

OPENED = datetime(2026, 10, 5, 8, 0)  # Monday
ORDER = [5, 2, 7, 0, 3, 6, 1, 4]  # who answers first, second, ...: not the roster's order
KEY = re.compile(r"^[0-9a-f]{32}$")


def _copy(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, as a database copy holds it (rows rendered as text, sorted)."""
    tables: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = connection.execute(table.select()).all()
            tables[table.name] = sorted(json.dumps(list(row), default=str) for row in rows)
    return tables


def _datetimes(engine: Engine) -> list[tuple[str, str, datetime]]:
    """(table, column, value) for every date-and-time value stored anywhere."""
    found = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(table.select()).mappings():
                found.extend(
                    (table.name, column, value)
                    for column, value in row.items()
                    if isinstance(value, datetime)
                )
    return found


def test_a_database_copy_shows_neither_the_time_nor_the_order_of_answering(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    with session_scope(engine) as session:
        users = user_ids(add_people(session, len(ORDER)))
    run = _open_and_send(engine, settings)  # now: the invitations reach Slack as the outbox sends them
    # Two days later, everybody answers, minutes apart, in an order of their own.
    day = datetime.combine(clock.utcnow().date() + timedelta(days=2), time(0))
    moments = [day + timedelta(hours=9, minutes=7 * i + 3, seconds=11 + i) for i in range(len(ORDER))]
    with SlackAppServer(settings, engine) as server:
        clock.set_now(day + timedelta(hours=8))
        modals = {user: _click(server, fake_slack, user) for user in users}
        before = _copy(engine)
        for who, moment in zip(ORDER, moments, strict=True):
            clock.set_now(moment)
            reply = _submit(
                server, users[who], modals[users[who]], _sheet(4, 4, 3, 3, 4, 4, 1, f"note {who}")
            )
            assert "answers are saved" in json.dumps(reply["view"])
        after = _copy(engine)

    # Answering wrote the answer sheets and nothing else: no invitation, activity, outbox, event or pace
    # row (each names the person, and would carry the moment, an id in sequence, or the transaction).
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"pulse_responses", "pulse_answers"}

    # Keys are random strings, not a sequence; SQLite keeps no hidden rowid either.
    with session_scope(engine, readonly=True) as session:
        responses = list(session.scalars(select(PulseResponse.id)))
        answers = session.execute(select(PulseAnswer.id, PulseAnswer.response_id)).all()
    assert len(responses) == len(ORDER) and len(answers) == len(ORDER) * 8
    assert all(KEY.match(key) for key in responses + [a.id for a in answers])
    assert {a.response_id for a in answers} == set(responses)
    with session_scope(engine, readonly=True) as session:  # no day of their own: their run's day
        opened = session.scalar(select(PulseRun.opened_at).where(PulseRun.id == run))
        days = set(session.scalars(select(PulseResponse.submitted_at)))
    assert opened is not None and days == {datetime.combine(opened.date(), time(0))}
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            found = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
            tables = {str(name): str(sql) for name, sql in found}
        assert tables["pulse_responses"].rstrip().endswith("WITHOUT ROWID")
        assert tables["pulse_answers"].rstrip().endswith("WITHOUT ROWID")

    # The next day's batch marks all of that day's answerers at once, and queues their invitations' edits.
    clock.set_now(day + timedelta(days=1, minutes=1))
    with session_scope(engine) as session:
        queued = pulse_confirm.confirm_answers(
            session, library=library(), settings=settings, now=clock.utcnow()
        )
    assert queued == len(ORDER)
    with session_scope(engine, readonly=True) as session:
        answered = session.scalars(select(PulseInvitation.answered_at).where(PulseInvitation.run_id == run))
        assert set(answered) == {day}
        edits = session.execute(
            select(OutboxMessage.person_id, OutboxMessage.created_at, OutboxMessage.not_before)
            .where(OutboxMessage.kind == pulses.ANSWERED_KIND)
            .order_by(OutboxMessage.id)
        ).all()
        people = dict(session.execute(select(Person.slack_user_id, Person.id)).all())
    assert [e.person_id for e in edits] == sorted(people[u] for u in users)  # roster order, not answer order
    assert len({(e.created_at, e.not_before) for e in edits}) == 1  # one moment for all: the batch's
    if engine.dialect.name == "postgresql":
        # Rows come out of a plain SELECT (and a pg_dump) in the order they sit on disk, each with the id
        # of the transaction that wrote it: after the batch, one transaction for all, written in key order.
        # PostgreSQL fills a page, then may put the next row into room left on an earlier page, so each
        # page holds a run of consecutive keys: written in answering order, a page would mix them.
        with engine.connect() as connection:
            for table in ("pulse_responses", "pulse_answers"):
                rows = connection.execute(text(f"SELECT id, xmin::text, ctid::text AS at FROM {table}")).all()
                assert len({r.xmin for r in rows}) == 1, table
                rank = {key: n for n, key in enumerate(sorted(r.id for r in rows))}
                pages: dict[str, list[int]] = {}
                for row in rows:
                    pages.setdefault(row.at.strip("()").split(",")[0], []).append(rank[row.id])
                for page, ranks in pages.items():
                    assert ranks == list(range(ranks[0], ranks[0] + len(ranks))), (table, page)

    # Nowhere in the database is there a time of day on the day of answering, not even after the batch.
    on_the_day = [
        (table, column, value)
        for table, column, value in _datetimes(engine)
        if value.date() == day.date() and value.time() != time(0)
    ]
    assert on_the_day == []


def test_a_pulse_answer_does_not_count_as_engaged_only_in_the_response_rate(engine: Engine) -> None:
    s = service_settings()
    with session_scope(engine) as session:
        sales = add_people(session, 6, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
        people, team = [p.id for p in sales], sales[0].team_id
    with session_scope(engine) as session:
        run = pulses.open_run(session, library=library(), settings=s, now=OPENED).run_id
    answer(engine, s, run, people[0], raw(4, 4, 4, 4, 4, 4, 1), OPENED + timedelta(hours=2))
    with session_scope(engine) as session:
        # As an older version recorded a pulse answer: an activity row of kind "pulse".
        old = Activity(
            person_id=people[1], team_id=team, kind="pulse", occurred_at=OPENED + timedelta(hours=3)
        )
        # What does count: a nudge tried.
        tried = Activity(
            person_id=people[2], team_id=team, kind="nudge_tried", occurred_at=OPENED + timedelta(hours=4)
        )
        session.add_all([old, tried])
    row = _sales(engine, s)
    assert (row["engaged"], row["respondents"], row["invited"]) == (1, 1, 6)


def _sales(engine: Engine, s: Settings) -> dict[str, Any]:
    with session_scope(engine, readonly=True) as session:
        rows = compute_metrics(session, week_monday=OPENED.date(), settings=s, now=OPENED + timedelta(days=8))
    return next(r.to_dict() for r in rows if r.team == "Sales")
