"""usage facts: per person, AI tool and ISO week, whether a vendor's report showed a licence and activity

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 14:00:00

A new table only; nothing existing changes. Filled by `adoptbot usage import`, erased by `adoptbot forget`
(the rows go with the person's: ON DELETE CASCADE, and `forget` deletes them explicitly).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=64), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("licensed", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_usage_facts_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_facts")),
        sa.UniqueConstraint("person_id", "tool", "week", name=op.f("uq_usage_facts_person_id_tool_week")),
    )


def downgrade() -> None:
    op.drop_table("usage_facts")
