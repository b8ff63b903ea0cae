"""Enterprise Grid: each person's Slack workspace, and teams an identity provider deleted

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00

`people.slack_workspace_id`: the Slack workspace (team id `T...`) a person was last seen in, so the outbox
sends to them with that workspace's token when the app is installed workspace by workspace in a Grid
organisation. `teams.retired_at`: when SCIM deleted the group; the team keeps its history for past
figures but is no longer offered or listed. Both nullable; nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN: on SQLite a batch copy of `people` would drop the old table, and with
    # foreign keys on that would empty or null the rows that point at people.
    op.add_column("people", sa.Column("slack_workspace_id", sa.String(length=32), nullable=True))
    op.add_column("teams", sa.Column("retired_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place (no table copy, so no foreign key sees `people` go).
    op.drop_column("teams", "retired_at")
    op.drop_column("people", "slack_workspace_id")
