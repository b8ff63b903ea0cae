"""people: the roster's tools and locale, Slack's locale; nudge deliveries: a cycle for refreshers

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 16:00:00

New nullable columns on people (nothing set for anyone yet). `nudge_deliveries.cycle` is 0 for every
existing row, and the one-delivery-per-person-and-nudge key becomes per person, nudge and cycle, so a
person who has had every nudge can get the ones they tried once more as refreshers (cycle 1). SQLite
copies the table to change the key (batch mode); PostgreSQL alters it in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("tools", sa.String(length=500), nullable=True))
        batch.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("slack_locale", sa.String(length=16), nullable=True))
    with op.batch_alter_table("nudge_deliveries") as batch:
        batch.add_column(sa.Column("cycle", sa.Integer(), server_default="0", nullable=False))
        batch.drop_constraint("uq_nudge_deliveries_person_id_nudge_id", type_="unique")
        batch.create_unique_constraint(
            "uq_nudge_deliveries_person_id_nudge_id_cycle", ["person_id", "nudge_id", "cycle"]
        )


def downgrade() -> None:
    op.execute("DELETE FROM nudge_deliveries WHERE cycle > 0")
    with op.batch_alter_table("nudge_deliveries") as batch:
        batch.drop_constraint("uq_nudge_deliveries_person_id_nudge_id_cycle", type_="unique")
        batch.create_unique_constraint("uq_nudge_deliveries_person_id_nudge_id", ["person_id", "nudge_id"])
        batch.drop_column("cycle")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("slack_locale")
        batch.drop_column("locale")
        batch.drop_column("tools")
