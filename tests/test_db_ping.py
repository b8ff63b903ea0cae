"""PostgreSQL connections are checked before reuse when they have been idle: a database that dropped an idle
connection (a restart, a failover, a firewall) costs no request an error. A connection used moments ago is
handed out without that round trip, which every Slack request would otherwise pay."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from bot import db


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT pg_backend_pid()")) or 0)


def _drop(engine: Engine, pid: int) -> None:
    """The server ends that connection's process, as a restart or failover would (asked from outside the
    pool, where that connection waits, idle)."""
    outside = create_engine(engine.url, poolclass=NullPool)
    with outside.connect() as other:
        assert other.scalar(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}) is True
    outside.dispose()


@pytest.fixture
def pg(engine: Engine) -> Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("pooled connections are pinged on PostgreSQL (SQLite opens a file, not a socket)")
    return engine


def test_a_connection_the_database_dropped_while_idle_is_replaced_before_use(
    pg: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # every connection in the pool counts as idle
    first = _backend(pg)
    _drop(pg, first)
    assert _backend(pg) != first  # no error: the dead connection was pinged, discarded and replaced


def test_a_connection_used_moments_ago_is_not_pinged(pg: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    first = _backend(pg)
    _drop(pg, first)
    # Handed out as it was (no ping): the statement meets the dropped connection ...
    with pytest.raises(DBAPIError) as raised:
        _backend(pg)
    assert raised.value.connection_invalidated
    assert _backend(pg) != first  # ... and the next one gets a new connection
