"""Upgrading a database that holds pulse answers (0011 and 0012): each answer gets its response's run and
team, and the metrics read the same figures through them as before."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from bot.metrics.sql import survey_tallies
from bot.models import PulseAnswer, PulseRun, Team
from tests.test_migration_0004 import (
    _upgrade_to,
    blank_engine,  # noqa: F401  (the fixture: a database of each kind)
)

OPENED = datetime(2026, 10, 5, 8, 0)


def test_answers_get_their_responses_run_and_team(blank_engine: Engine) -> None:  # noqa: F811
    _upgrade_to(blank_engine, "0010")
    with blank_engine.begin() as connection:
        connection.execute(
            insert(Team),
            [
                {"id": 1, "name": "Sales", "created_at": OPENED},
                {"id": 2, "name": "Ops", "created_at": OPENED},
            ],
        )
        connection.execute(
            insert(PulseRun),
            [
                {"id": run, "survey_id": "adkar", "opened_at": OPENED, "closes_at": datetime(2026, 10, 12, 8)}
                for run in (1, 2)
            ],
        )
        sheets = {"a": (1, 1), "b": (1, 2), "c": (2, 2)}  # sheet -> (run, team)
        for sheet, (run, team) in sheets.items():
            connection.execute(
                text(
                    "INSERT INTO pulse_responses (id, run_id, respondent, team_id, submitted_at) "
                    "VALUES (:id, :run, :respondent, :team, :day)"
                ),
                {"id": sheet, "run": run, "respondent": f"key-{sheet}", "team": team, "day": OPENED},
            )
        answers = [  # (id, sheet, question, stage, value): knowledge is asked twice
            ("1", "a", "k1", "knowledge", 4),
            ("2", "a", "k2", "knowledge", 2),
            ("3", "b", "k1", "knowledge", 5),
            ("4", "b", "d1", "desire", 3),
            ("5", "c", "d1", "desire", 1),
        ]
        for answer_id, sheet, question, stage, value in answers:
            connection.execute(
                text(
                    "INSERT INTO pulse_answers (id, response_id, question_id, stage, value) "
                    "VALUES (:id, :sheet, :question, :stage, :value)"
                ),
                {"id": answer_id, "sheet": sheet, "question": question, "stage": stage, "value": value},
            )

    _upgrade_to(blank_engine, "head")

    with Session(blank_engine) as session:
        stored = {
            answer_id: (run, team)
            for answer_id, run, team in session.execute(
                select(PulseAnswer.id, PulseAnswer.run_id, PulseAnswer.team_id)
            )
        }
        assert stored == {"1": (1, 1), "2": (1, 1), "3": (1, 2), "4": (1, 2), "5": (2, 2)}
        tallies = survey_tallies(session, [1, 2])
    sales, ops = tallies[1][1], tallies[1][2]
    assert (sales.respondents, sales.stage_count["knowledge"], sales.stage_people["knowledge"]) == (1, 2, 1)
    assert sales.stage_sum["knowledge"] == 6
    assert (ops.stage_people["knowledge"], ops.stage_people["desire"], ops.stage_sum["desire"]) == (1, 1, 3)
    assert tallies[2][2].stage_people == {"desire": 1}
