"""0013: a person's nudge history is read from the unique (person_id, nudge_id, cycle) key, which on
PostgreSQL carries status and slot; the separate history index is gone, and comes back on a downgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from bot.models import Base
from tests.test_migration_0004 import (
    _downgrade_to,
    _upgrade_to,
    blank_engine,  # noqa: F401  (the fixture: a database of each kind)
)

KEY = "uq_nudge_deliveries_person_id_nudge_id_cycle"
HISTORY = "ix_nudge_deliveries_history"


def _schema(engine: Engine) -> tuple[set[str], str | None]:
    """The deliveries' index names, and the unique key's definition on PostgreSQL."""
    indexes = {index["name"] or "" for index in inspect(engine).get_indexes("nudge_deliveries")}
    if engine.dialect.name != "postgresql":
        return indexes, None
    with engine.connect() as connection:
        definition = connection.scalar(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"), {"name": KEY}
        )
    return indexes, definition


def test_the_history_moves_into_the_key_and_back(blank_engine: Engine) -> None:  # noqa: F811
    postgresql = blank_engine.dialect.name == "postgresql"
    _upgrade_to(blank_engine, "0012")
    indexes, key = _schema(blank_engine)
    assert HISTORY in indexes
    assert key in (None, "UNIQUE (person_id, nudge_id, cycle)")

    _upgrade_to(blank_engine, "0013")
    blank_engine.dispose()
    indexes, key = _schema(blank_engine)
    assert HISTORY not in indexes
    if postgresql:
        assert key == "UNIQUE (person_id, nudge_id, cycle) INCLUDE (status, slot)"
    with blank_engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []

    _downgrade_to(blank_engine, "0012")
    blank_engine.dispose()
    indexes, key = _schema(blank_engine)
    assert HISTORY in indexes
    assert key in (None, "UNIQUE (person_id, nudge_id, cycle)")
