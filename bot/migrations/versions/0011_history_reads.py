"""Reading history at 100,000 people: a covering index for nudge histories, each answer's run

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:00:00

`ix_nudge_deliveries_history` (person_id, nudge_id, status): choosing the next nudges reads the due
people's whole histories from the index alone (a person's rows are spread over a year of pages).
`pulse_answers.run_id`: the response's run, repeated and indexed, so a run's answers are found without
reading every run's; filled in here from the responses.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_nudge_deliveries_history", "nudge_deliveries", ["person_id", "nudge_id", "status"], unique=False
    )
    # Plain ALTER TABLE ADD COLUMN (pulse_answers is WITHOUT ROWID on SQLite: no batch copy either).
    op.add_column("pulse_answers", sa.Column("run_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # one join, not a lookup per row
        op.execute(
            "UPDATE pulse_answers SET run_id = pulse_responses.run_id FROM pulse_responses "
            "WHERE pulse_responses.id = pulse_answers.response_id"
        )
    else:
        op.execute(
            "UPDATE pulse_answers SET run_id = (SELECT pulse_responses.run_id FROM pulse_responses "
            "WHERE pulse_responses.id = pulse_answers.response_id)"
        )
    op.create_index("ix_pulse_answers_run_id", "pulse_answers", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_pulse_answers_run_id", table_name="pulse_answers")
    op.drop_column("pulse_answers", "run_id")
    op.drop_index("ix_nudge_deliveries_history", table_name="nudge_deliveries")
