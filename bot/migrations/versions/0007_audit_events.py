"""audit events: roster imports and erasures, for the dashboard's Audit page

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 07:00:00

A new table only; nothing existing changes. Wins decided, broadcasts sent and AI calls are already
recorded in their own tables; this one adds what had no record: who applied a roster and who erased a
person. `adoptbot forget` replaces an erased person's Slack ID here with "(erased)".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
