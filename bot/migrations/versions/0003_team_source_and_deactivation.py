"""people: who set a person's team, and who deactivated them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00

`team_source` of existing rows becomes "roster". Before this revision the role modal let anyone pick any
team, so some of those teams may have been self-chosen; nothing recorded which, and the next
`adoptbot roster import` sets the team of everyone it lists again (as "roster").

`deactivated_by` of existing inactive people who have both a role and a team becomes "roster": the role
modal activated everyone who had both, so such a person was deactivated by a pruning import or by Slack
(which of the two was not recorded). They also lose the rights deactivation now takes (change manager,
leads), which they kept before. Inactive people without a role or a team are newcomers still setting up,
and stay free to do so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(
            sa.Column("team_source", sa.String(length=16), server_default="roster", nullable=False)
        )
        batch.add_column(sa.Column("deactivated_by", sa.String(length=16), nullable=True))
    people = sa.table(
        "people",
        sa.column("id", sa.Integer),
        sa.column("is_active", sa.Boolean),
        sa.column("role", sa.String),
        sa.column("team_id", sa.Integer),
        sa.column("deactivated_by", sa.String),
        sa.column("is_change_manager", sa.Boolean),
        sa.column("leads_all", sa.Boolean),
    )
    team_leads = sa.table("team_leads", sa.column("person_id", sa.Integer))
    deactivated = sa.and_(
        people.c.is_active.is_(False), people.c.role.is_not(None), people.c.team_id.is_not(None)
    )
    op.execute(
        people.update()
        .where(deactivated)
        .values(deactivated_by="roster", is_change_manager=False, leads_all=False)
    )
    op.execute(
        team_leads.delete().where(
            team_leads.c.person_id.in_(sa.select(people.c.id).where(people.c.deactivated_by.is_not(None)))
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("deactivated_by")
        batch.drop_column("team_source")
