"""Upgrading a database that already holds pulse answers: random keys, the day only, no per-answer trace."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, time
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from bot.config import normalise_database_url
from bot.db import create_db_engine
from bot.migrate import alembic_config, upgrade
from bot.models import (
    Activity,
    Base,
    ChannelPace,
    OutboxMessage,
    Person,
    PulseInvitation,
    PulseRun,
    Team,
)
from tests.conftest import PG_SKIP, PG_URL

KEY = re.compile(r"^[0-9a-f]{32}$")
OPENED = datetime(2026, 10, 5, 8, 0)
ANSWERED = {  # person -> when they answered, to the second, as the old version stored it
    1: datetime(2026, 10, 6, 9, 13, 27),
    2: datetime(2026, 10, 6, 11, 2, 5),
    3: datetime(2026, 10, 7, 15, 44, 10),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind, not migrated."""
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    admin_url = make_url(normalise_database_url(PG_URL))
    name = f"adoptbot_0004_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_db_engine(admin_url.set(database=name).render_as_string(hide_password=False))
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _upgrade_to(engine: Engine, revision: str) -> None:
    _migrate(engine, command.upgrade, revision)


def _downgrade_to(engine: Engine, revision: str) -> None:
    _migrate(engine, command.downgrade, revision)


def _migrate(engine: Engine, step: Callable[[Config, str], None], revision: str) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        step(config, revision)
        connection.commit()


def _seed_as_before(engine: Engine) -> None:
    """A run answered by three of four people, stored as revisions before 0004 stored it: sheets and answers
    numbered in the order people answered, seconds everywhere."""
    with engine.begin() as connection:
        connection.execute(insert(Team), [{"id": 1, "name": "Sales", "created_at": OPENED}])
        connection.execute(
            insert(Person),
            [
                {"id": n, "slack_user_id": f"U{n}", "team_id": 1, "created_at": OPENED, "updated_at": OPENED}
                for n in range(1, 5)
            ],
        )
        connection.execute(
            insert(PulseRun),
            [{"id": 1, "survey_id": "adkar", "opened_at": OPENED, "closes_at": datetime(2026, 10, 12, 8)}],
        )
        connection.execute(
            insert(PulseInvitation),
            [
                {
                    "run_id": 1,
                    "person_id": n,
                    "team_id": 1,
                    "invited_at": OPENED,
                    "answered_at": ANSWERED.get(n),
                }
                for n in range(1, 5)
            ],
        )
        for n, at in ANSWERED.items():
            day = datetime.combine(at.date(), time(0))
            connection.execute(
                text(
                    "INSERT INTO pulse_responses (id, run_id, respondent, team_id, submitted_at) "
                    "VALUES (:id, 1, :respondent, 1, :day)"
                ),
                {"id": n, "respondent": f"sheet-of-{n}", "day": day},
            )
        answers = [(1, 1, 1), (2, 1, 2), (3, 2, 3), (4, 2, 4), (5, 3, 5)]
        for answer_id, response_id, value in answers:
            connection.execute(
                text(
                    "INSERT INTO pulse_answers (id, response_id, question_id, value) VALUES (:id, :r, :q, :v)"
                ),
                {"id": answer_id, "r": response_id, "q": f"q{value % 2}", "v": value},
            )
        connection.execute(
            text("INSERT INTO pulse_answers (id, response_id, question_id, text) VALUES (6, 3, 'c', 'third')")
        )
        connection.execute(
            insert(Activity),
            [{"person_id": n, "team_id": 1, "kind": "pulse", "occurred_at": at} for n, at in ANSWERED.items()]
            + [{"person_id": 4, "team_id": 1, "kind": "nudge_tried", "occurred_at": OPENED}],
        )
        invites = [
            {"key": f"pulse-invite:1:{n}", "kind": "pulse_invite", "channel": f"U{n}", "person_id": n}
            for n in range(1, 5)
        ]
        for row in invites:
            row.update(payload={"text": "Pulse"}, state="sent", not_before=OPENED, created_at=OPENED)
        answered = [
            {
                "key": f"pulse-answered:1:{n}",
                "kind": "pulse_answered",
                "method": "chat.update",
                "channel": f"U{n}",
                "person_id": n,
                "payload": {"text": "Answered ✓"},
                "update_of": f"pulse-invite:1:{n}",
                "state": "pending" if n == 3 else "sent",
                "not_before": at,
                "created_at": at,
                "sent_at": None if n == 3 else at,
            }
            for n, at in ANSWERED.items()
        ]
        connection.execute(insert(OutboxMessage), invites + answered)
        connection.execute(
            insert(ChannelPace),
            [{"channel": "*", "next_at": ANSWERED[3]}, {"channel": "DU3", "next_at": ANSWERED[3]}],
        )


def test_upgrading_a_database_with_answers_gives_them_random_keys_and_keeps_only_the_day(
    blank_engine: Engine,
) -> None:
    engine = blank_engine
    _upgrade_to(engine, "0003")
    _seed_as_before(engine)

    upgrade(engine)

    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        sheets = dict(connection.execute(text("SELECT id, respondent FROM pulse_responses")).all())
        days = set(connection.scalars(text("SELECT submitted_at FROM pulse_responses")))
        answers = connection.execute(text("SELECT id, response_id, value, text FROM pulse_answers")).all()
        answered = dict(
            connection.execute(select(PulseInvitation.person_id, PulseInvitation.answered_at)).all()
        )
        kinds = connection.scalars(select(Activity.kind)).all()
        edits = connection.execute(
            select(
                OutboxMessage.key, OutboxMessage.state, OutboxMessage.created_at, OutboxMessage.not_before
            ).where(OutboxMessage.kind == "pulse_answered")
        ).all()
        paces = connection.scalars(select(ChannelPace.channel)).all()
        if engine.dialect.name == "sqlite":
            found = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
            tables = {str(name): str(sql) for name, sql in found}
            assert tables["pulse_responses"].rstrip().endswith("WITHOUT ROWID")
            assert tables["pulse_answers"].rstrip().endswith("WITHOUT ROWID")

    # Random keys, and every answer still belongs to the sheet it was given on.
    assert all(KEY.match(key) for key in [*sheets, *(a.id for a in answers)])
    given = {sheets[a.response_id]: set() for a in answers}
    for a in answers:
        given[sheets[a.response_id]].add(a.value if a.text is None else a.text)
    assert given == {"sheet-of-1": {1, 2}, "sheet-of-2": {3, 4}, "sheet-of-3": {5, "third"}}
    # A sheet keeps the day its run opened, not its own; an invitation the day of answering only; no
    # "pulse" activity; the sent "answered" edits are gone and the one
    # still waiting is queued again without its time.
    assert answered == {
        1: datetime(2026, 10, 6),
        2: datetime(2026, 10, 6),
        3: datetime(2026, 10, 7),
        4: None,
    }
    assert {str(day)[:19] for day in days} == {"2026-10-05 00:00:00"}
    assert kinds == ["nudge_tried"]
    [edit] = edits
    assert (edit.key, edit.state) == ("pulse-answered:1:3", "pending")
    assert edit.created_at.time() == time(0) and edit.not_before.time() == time(0)
    assert paces == ["*"]
