"""pulse answers in no order: random keys, the day of answering only, no per-answer trace

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00

Before this, the order of the answer sheets (integer ids) followed the order people answered in, and so
did the seconds in `pulse_invitations.answered_at`, in `activity` rows of kind "pulse" and in the outbox's
"answered" edits: joining them linked every person to their answers. This revision
- rebuilds pulse_responses and pulse_answers with random 32-hex keys (answers re-pointed), written in the
  order of those keys, WITHOUT ROWID on SQLite;
- keeps only the day (UTC, as `submitted_at` did) of `pulse_invitations.answered_at`, and sets every
  sheet's `submitted_at` to the day its run opened (a day per sheet, matched with the invitations' days,
  singled out a team's only answerer of a day);
- deletes the "pulse" activity rows (no longer counted as engaged) and the "answered" edits already sent;
  those still waiting are queued again in person order with day-only times;
- forgets the per-channel send times (they held the moment of the last message to each person).
On PostgreSQL, pulse_invitations is rewritten in its key order (CLUSTER), so neither the order of its
rows on disk nor the transaction ids on them say who answered when.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from alembic import op

from bot.clock import utcnow

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_RESPONSES = "_pulse_responses_0004"
_ANSWERS = "_pulse_answers_0004"


def _random_key(dialect: str) -> str:
    if dialect == "postgresql":
        return "replace(gen_random_uuid()::text, '-', '')"
    return "lower(hex(randomblob(16)))"


def _day(dialect: str, column: str) -> str:
    """SQL for the UTC day of naive-UTC `column`, as a DateTime at 00:00."""
    if dialect == "postgresql":
        return f"date_trunc('day', {column})"
    return f"date({column}) || ' 00:00:00.000000'"  # SQLAlchemy's text form of a DateTime on SQLite


def _create_tables(key: sa.types.TypeEngine[Any], *, without_rowid: bool) -> None:
    options = {"sqlite_with_rowid": False} if without_rowid else {}
    op.create_table(
        "pulse_responses",
        sa.Column("id", key, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("respondent", sa.String(length=64), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pulse_runs.id"],
            name=op.f("fk_pulse_responses_run_id_pulse_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_pulse_responses_team_id_teams")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_responses")),
        sa.UniqueConstraint("run_id", "respondent", name=op.f("uq_pulse_responses_run_id_respondent")),
        **options,
    )
    op.create_index("ix_pulse_resp_run_team", "pulse_responses", ["run_id", "team_id"], unique=False)
    op.create_table(
        "pulse_answers",
        sa.Column("id", key, nullable=False),
        sa.Column("response_id", key, nullable=False),
        sa.Column("question_id", sa.String(length=80), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=True),
        sa.Column("metric", sa.String(length=16), nullable=True),
        sa.Column("value", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["pulse_responses.id"],
            name=op.f("fk_pulse_answers_response_id_pulse_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_answers")),
        sa.UniqueConstraint(
            "response_id", "question_id", name=op.f("uq_pulse_answers_response_id_question_id")
        ),
        **options,
    )


def _rebuild(
    new_response_id: str, new_answer_id: str, submitted: str, order: str, key: sa.types.TypeEngine[Any]
) -> None:
    """Copy both tables aside with new keys, recreate them, and write the rows back in `order`."""
    op.execute(
        f"CREATE TABLE {_RESPONSES} AS SELECT {new_response_id} AS new_id, id AS old_id, "
        f"run_id, respondent, team_id, {submitted} AS submitted_at FROM pulse_responses"
    )
    op.execute(
        f"CREATE TABLE {_ANSWERS} AS SELECT {new_answer_id} AS new_id, r.new_id AS response_id, "
        "a.question_id, a.stage, a.metric, a.value, a.text "
        f"FROM pulse_answers a JOIN {_RESPONSES} r ON r.old_id = a.response_id"
    )
    op.drop_table("pulse_answers")
    op.drop_table("pulse_responses")
    _create_tables(key, without_rowid=isinstance(key, sa.String))
    op.execute(
        "INSERT INTO pulse_responses (id, run_id, respondent, team_id, submitted_at) "
        f"SELECT new_id, run_id, respondent, team_id, submitted_at FROM {_RESPONSES} ORDER BY {order}"
    )
    op.execute(
        "INSERT INTO pulse_answers (id, response_id, question_id, stage, metric, value, text) "
        f"SELECT new_id, response_id, question_id, stage, metric, value, text FROM {_ANSWERS} "
        f"ORDER BY {order}"
    )
    op.drop_table(_ANSWERS)
    op.drop_table(_RESPONSES)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    key = _random_key(dialect)
    run_day = (
        f"(SELECT {_day(dialect, 'opened_at')} FROM pulse_runs WHERE pulse_runs.id = pulse_responses.run_id)"
    )
    _rebuild(key, key, run_day, "new_id", sa.String(length=32))
    op.execute(
        f"UPDATE pulse_invitations SET answered_at = {_day(dialect, 'answered_at')} "
        "WHERE answered_at IS NOT NULL"
    )
    op.execute("DELETE FROM activity WHERE kind = 'pulse'")
    _requeue_answered_edits()
    op.execute("DELETE FROM channel_pace WHERE channel <> '*'")
    if dialect == "postgresql":
        op.execute("CLUSTER pulse_invitations USING pk_pulse_invitations")


def _requeue_answered_edits() -> None:
    """Sent "answered" edits go; waiting ones come back with new ids in person order and the day only."""
    waiting = "_outbox_answered_0004"
    op.execute(
        f"CREATE TABLE {waiting} AS SELECT key, kind, method, channel, person_id, payload, update_of "
        "FROM outbox WHERE kind = 'pulse_answered' AND state IN ('pending', 'sending')"
    )
    op.execute("DELETE FROM outbox WHERE kind = 'pulse_answered'")
    today = sa.bindparam("today", datetime.combine(utcnow().date(), time(0)), type_=sa.DateTime())
    op.execute(
        sa.text(
            "INSERT INTO outbox (key, kind, method, channel, person_id, payload, update_of, state, "
            "attempts, not_before, created_at) "
            "SELECT key, kind, method, channel, person_id, payload, update_of, 'pending', 0, :today, :today "
            f"FROM {waiting} ORDER BY person_id, key"
        ).bindparams(today)
    )
    op.drop_table(waiting)


def downgrade() -> None:
    # Integer keys again, numbered in the order of the random keys (which says nothing of who answered).
    numbered = "ROW_NUMBER() OVER (ORDER BY id)"
    _rebuild(numbered, numbered, "submitted_at", "new_id", sa.Integer())
