"""Slack's OAuth install: slack_sdk's installation, bot and OAuth-state tables

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 08:00:00

New tables only, with the columns and indexes slack_sdk's SQLAlchemy stores use (`bot.slack.install`).
Empty unless the app is installed through `/slack/install` (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and
SLACK_STATE_SECRET set); the single-token mode never touches them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _installation(*, bot_only: bool) -> list[sa.Column[object]]:
    columns: list[sa.Column[object]] = [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=32), nullable=False),
        sa.Column("app_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
    ]
    if not bot_only:
        columns.append(sa.Column("enterprise_url", sa.String(length=200), nullable=True))
    columns += [
        sa.Column("team_id", sa.String(length=32), nullable=True),
        sa.Column("team_name", sa.String(length=200), nullable=True),
        sa.Column("bot_token", sa.String(length=200), nullable=True),
        sa.Column("bot_id", sa.String(length=32), nullable=True),
        sa.Column("bot_user_id", sa.String(length=32), nullable=True),
        sa.Column("bot_scopes", sa.String(length=1000), nullable=True),
        sa.Column("bot_refresh_token", sa.String(length=200), nullable=True),
        sa.Column("bot_token_expires_at", sa.DateTime(), nullable=True),
    ]
    if not bot_only:
        columns += [
            sa.Column("user_id", sa.String(length=32), nullable=False),
            sa.Column("user_token", sa.String(length=200), nullable=True),
            sa.Column("user_scopes", sa.String(length=1000), nullable=True),
            sa.Column("user_refresh_token", sa.String(length=200), nullable=True),
            sa.Column("user_token_expires_at", sa.DateTime(), nullable=True),
            sa.Column("incoming_webhook_url", sa.String(length=200), nullable=True),
            sa.Column("incoming_webhook_channel", sa.String(length=200), nullable=True),
            sa.Column("incoming_webhook_channel_id", sa.String(length=200), nullable=True),
            sa.Column("incoming_webhook_configuration_url", sa.String(length=200), nullable=True),
        ]
    columns.append(sa.Column("is_enterprise_install", sa.Boolean(), nullable=False))
    if not bot_only:
        columns.append(sa.Column("token_type", sa.String(length=32), nullable=True))
    columns.append(sa.Column("installed_at", sa.DateTime(), nullable=False))
    return columns


def upgrade() -> None:
    op.create_table(
        "slack_installations",
        *_installation(bot_only=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_installations")),
    )
    op.create_index(
        "slack_installations_idx",
        "slack_installations",
        ["client_id", "enterprise_id", "team_id", "user_id", "installed_at"],
    )
    op.create_table(
        "slack_bots",
        *_installation(bot_only=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_bots")),
    )
    op.create_index("slack_bots_idx", "slack_bots", ["client_id", "enterprise_id", "team_id", "installed_at"])
    op.create_table(
        "slack_oauth_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("expire_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_oauth_states")),
    )


def downgrade() -> None:
    op.drop_table("slack_oauth_states")
    op.drop_index("slack_bots_idx", table_name="slack_bots")
    op.drop_table("slack_bots")
    op.drop_index("slack_installations_idx", table_name="slack_installations")
    op.drop_table("slack_installations")
