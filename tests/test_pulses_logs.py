"""What reaches the logs when saving a pulse answer fails: the failure's kind, never the answers or who."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine, func, select, text

from bot.config import Settings
from bot.db import session_scope
from bot.models import PulseResponse
from tests.support.factories import add_people, user_ids
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer
from tests.test_pulses_slack import _click, _open_and_send, _settings, _sheet, _submit

COMMENT = "Zebra-quartz: my manager mocks anyone who uses AI"


@contextmanager
def answers_refused(engine: Engine) -> Iterator[None]:
    """The database refuses every stored answer, as a broken disk or a bad migration would.

    PostgreSQL's refusal quotes the whole failing row (scores and comment) in its message, SQLite's names
    the statement; both reach the exception SQLAlchemy raises, with its parameters unless hidden.
    """
    if engine.dialect.name == "postgresql":
        create = "ALTER TABLE pulse_answers ADD CONSTRAINT ck_refused CHECK (question_id = '')"
        drop = "ALTER TABLE pulse_answers DROP CONSTRAINT ck_refused"
    else:
        create = (
            "CREATE TRIGGER refused BEFORE INSERT ON pulse_answers "
            "BEGIN SELECT RAISE(ABORT, 'constraint failed: answers refused'); END"
        )
        drop = "DROP TRIGGER refused"
    with engine.begin() as connection:
        connection.execute(text(create))
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(text(drop))


def test_a_database_error_while_saving_answers_logs_no_score_no_comment_and_no_person(
    engine: Engine,
    slack_settings: Settings,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = _settings(slack_settings)
    with session_scope(engine) as session:
        [user] = user_ids(add_people(session, 1))
    _open_and_send(engine, settings)
    caplog.set_level(logging.INFO)
    with SlackAppServer(settings, engine) as server:
        modal = _click(server, fake_slack, user)
        with answers_refused(engine):
            answer = _submit(server, user, modal, _sheet(4, 2, 5, 1, 3, 5, 3, COMMENT))

    # The person is told, politely, in the modal they submitted.
    assert answer["response_action"] == "update"
    assert "Sorry, something went wrong — please try again." in json.dumps(answer["view"], ensure_ascii=False)
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(PulseResponse)) == 0

    # The log says what kind of request failed and how, and nothing of what was answered or by whom.
    logged = "\n".join(
        [record.getMessage() for record in caplog.records] + [caplog.text]  # messages and tracebacks
    )
    failure = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("view_submission" in line and "IntegrityError" in line for line in failure), failure
    for secret in (
        user,
        "Zebra-quartz",
        "mocks anyone",
        "awareness-why",  # the answers' parameters name their questions
        "parameters:",
        "Failing row",
    ):
        assert secret not in logged, f"{secret!r} reached the log"
