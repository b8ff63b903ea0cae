"""Reading history at 100,000 people: a covering index for nudge histories, each answer's run and team

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:00:00

`ix_nudge_deliveries_history` (person_id, nudge_id, status; on PostgreSQL including cycle, slot and id):
choosing the next nudges, the end of the library and its refreshers reads the due people's whole
histories from the index alone (a person's rows are spread over a year of pages).
`pulse_answers.run_id` and `team_id`: the response's run and team, repeated (run_id indexed), so a run's
answers are found without reading every run's and tallied per team without a join; filled in here from
the responses.
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
        "ix_nudge_deliveries_history",
        "nudge_deliveries",
        ["person_id", "nudge_id", "status"],
        unique=False,
        postgresql_include=["cycle", "slot", "id"],
    )
    # Plain ALTER TABLE ADD COLUMN (pulse_answers is WITHOUT ROWID on SQLite: no batch copy either).
    op.add_column("pulse_answers", sa.Column("run_id", sa.Integer(), nullable=True))
    op.add_column("pulse_answers", sa.Column("team_id", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # one join, not a lookup per row
        op.execute(
            "UPDATE pulse_answers SET run_id = r.run_id, team_id = r.team_id FROM pulse_responses AS r "
            "WHERE r.id = pulse_answers.response_id"
        )
    else:
        op.execute(
            "UPDATE pulse_answers SET (run_id, team_id) = (SELECT r.run_id, r.team_id FROM pulse_responses "
            "AS r WHERE r.id = pulse_answers.response_id)"
        )
    op.create_index("ix_pulse_answers_run_id", "pulse_answers", ["run_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_pulse_answers_run_id", table_name="pulse_answers")
    op.drop_column("pulse_answers", "team_id")
    op.drop_column("pulse_answers", "run_id")
    op.drop_index("ix_nudge_deliveries_history", table_name="nudge_deliveries")
