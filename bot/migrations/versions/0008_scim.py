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
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("external_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("scim_user_name", sa.String(length=255), nullable=True))
        batch.create_index("ix_people_external_id", ["external_id"], unique=False)
        batch.create_unique_constraint("uq_people_scim_user_name", ["scim_user_name"])


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_constraint("uq_people_scim_user_name", type_="unique")
        batch.drop_index("ix_people_external_id")
        batch.drop_column("scim_user_name")
        batch.drop_column("external_id")
