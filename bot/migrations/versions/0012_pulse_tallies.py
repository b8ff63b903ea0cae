"""Survey figures at 100,000 people: settled runs' tallies, each answer's team, the refreshers' columns

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 23:50:00

`pulse_tallies`: a run's survey tallies per team, stored once it has been closed a day (they never change
after that), so later weeks' metrics and digests do not add up its answers again. The scheduler's close
job fills it, for runs closed before this version too.
`pulse_answers.team_id`: the response's team, repeated (like `run_id`), so an open run's answers are
tallied per team without a join; filled in here from the responses.
`ix_nudge_deliveries_history` on PostgreSQL also carries cycle, slot and id, so the end of the library
and its refreshers read the due people's histories from the index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

HISTORY = ("person_id", "nudge_id", "status")


def upgrade() -> None:
    op.create_table(
        "pulse_tallies",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("tallies", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pulse_runs.id"],
            name=op.f("fk_pulse_tallies_run_id_pulse_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_pulse_tallies")),
    )
    # Plain ALTER TABLE ADD COLUMN (pulse_answers is WITHOUT ROWID on SQLite: no batch copy either).
    op.add_column("pulse_answers", sa.Column("team_id", sa.Integer(), nullable=True))
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:  # one join, not a lookup per row
        op.execute(
            "UPDATE pulse_answers SET team_id = r.team_id FROM pulse_responses AS r "
            "WHERE r.id = pulse_answers.response_id AND r.team_id IS NOT NULL"
        )
        op.drop_index("ix_nudge_deliveries_history", table_name="nudge_deliveries")
        op.create_index(
            "ix_nudge_deliveries_history",
            "nudge_deliveries",
            list(HISTORY),
            unique=False,
            postgresql_include=["cycle", "slot", "id"],
        )
    else:
        op.execute(
            "UPDATE pulse_answers SET team_id = (SELECT r.team_id FROM pulse_responses AS r "
            "WHERE r.id = pulse_answers.response_id)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_nudge_deliveries_history", table_name="nudge_deliveries")
        op.create_index("ix_nudge_deliveries_history", "nudge_deliveries", list(HISTORY), unique=False)
    op.drop_column("pulse_answers", "team_id")
    op.drop_table("pulse_tallies")
