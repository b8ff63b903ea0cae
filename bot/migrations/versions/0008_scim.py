"""SCIM provisioning: the identity provider's id and userName on people

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 07:30:00

Two nullable columns; nothing existing changes. Filled only by the SCIM endpoints (`bot.scim`);
`adoptbot forget` clears them with the rest of the person.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN and indexes: on SQLite a batch copy of `people` would drop the old table,
    # and with foreign keys on that would empty or null the rows that point at people.
    op.add_column("people", sa.Column("external_id", sa.String(length=255), nullable=True))
    op.add_column("people", sa.Column("scim_user_name", sa.String(length=255), nullable=True))
    op.create_index("ix_people_external_id", "people", ["external_id"], unique=False)
    op.create_index("ix_people_scim_user_name", "people", ["scim_user_name"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_people_scim_user_name", table_name="people")
    op.drop_index("ix_people_external_id", table_name="people")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("scim_user_name")
        batch.drop_column("external_id")
