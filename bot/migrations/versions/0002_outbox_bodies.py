"""outbox bodies: blocks shared by many queued messages, stored once

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_bodies",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("blocks", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_outbox_bodies")),
    )


def downgrade() -> None:
    op.drop_table("outbox_bodies")
