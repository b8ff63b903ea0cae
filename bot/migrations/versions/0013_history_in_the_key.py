"""A person's nudge history from the unique key alone: one index fewer to keep up when a tick inserts

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 07:20:00

Choosing someone's next nudge reads their whole history. `ix_nudge_deliveries_history` held it apart
from the unique (person_id, nudge_id, cycle) key, which indexes the very same rows; every delivery a tick
inserted went into both, each a random page of an index of millions. On PostgreSQL the unique key now
carries `status` and `slot` (INCLUDE) and answers those reads from the index alone; on SQLite, whose
histories are small, the key's own index finds them. Rebuilding the key on PostgreSQL reads the table
once (some seconds for ten million deliveries) and holds its lock while it does.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLE = "nudge_deliveries"
KEY = "uq_nudge_deliveries_person_id_nudge_id_cycle"
KEY_COLUMNS = ["person_id", "nudge_id", "cycle"]
HISTORY = "ix_nudge_deliveries_history"


def upgrade() -> None:
    op.drop_index(HISTORY, table_name=TABLE)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(KEY, TABLE, type_="unique")
        # (Alembic's operation knows only the key's own columns, not the ones it includes.)
        op.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {KEY} "
            f"UNIQUE ({', '.join(KEY_COLUMNS)}) INCLUDE (status, slot)"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.drop_constraint(KEY, TABLE, type_="unique")
        op.create_unique_constraint(KEY, TABLE, KEY_COLUMNS)
    columns = ["person_id", "nudge_id", "status"]
    if postgresql:  # as 0012 left it
        op.create_index(HISTORY, TABLE, columns, unique=False, postgresql_include=["cycle", "slot", "id"])
    else:
        op.create_index(HISTORY, TABLE, columns, unique=False)
