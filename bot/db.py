"""Engine and sessions, the same behaviour on SQLite (one machine) and PostgreSQL (several instances)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, Table, create_engine, event, exc, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import utcnow
from bot.config import ConfigError
from bot.models import Base

__all__ = [
    "create_db_engine",
    "get_engine",
    "insert_ignore",
    "session_scope",
    "statement_reader",
    "utcnow",
]

_engines: dict[tuple[int, str], Engine] = {}
_lock = threading.Lock()


def is_sqlite(url_or_engine: str | Engine | Connection) -> bool:
    name = url_or_engine if isinstance(url_or_engine, str) else url_or_engine.dialect.name
    return name.startswith("sqlite")


# SQLite connections are cheap to keep and dear to open (each new one runs the PRAGMAs below): keep as
# many as a busy server uses at once (gunicorn's threads, Bolt's listener pool, the background work).
# With SQLAlchemy's default (5 kept, 10 more opened and closed again as needed), 16 busy listener threads
# opened and closed a connection every 30 or so requests.
SQLITE_POOL_SIZE = 32
PG_CONNECT_TIMEOUT = 5  # seconds; `?connect_timeout=N` in DATABASE_URL overrides it

# PostgreSQL's driver is an extra: a plain `pip install adoptbot` runs on SQLite only.
POSTGRES_DRIVER_MISSING = (
    "PostgreSQL needs its driver, which is not installed: pip install 'adoptbot[postgres]'"
)


def create_db_engine(url: str) -> Engine:
    """A new engine. SQLite gets foreign keys, WAL, a busy timeout and write-locking transactions.

    Both hide the statement's parameters from their exceptions: those are people's answers, comments and
    IDs, and an exception's text ends up in logs.
    """
    if is_sqlite(url):
        parsed = make_url(url)
        in_memory = parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
        pool: dict[str, Any] = (
            {} if in_memory else {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE}
        )
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "check_same_thread": False},
            hide_parameters=True,
            **pool,
        )
        _configure_sqlite(engine)
        return engine
    # libpq waits forever for a server that accepts the connection but never answers (a half-dead host, a
    # blackholing firewall); a bounded connect lets /healthz say 503 and a request fail in one sentence.
    timeout = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": PG_CONNECT_TIMEOUT}
    try:
        engine = create_engine(url, pool_size=10, max_overflow=10, connect_args=timeout, hide_parameters=True)
    except ModuleNotFoundError as error:
        if error.name != "psycopg" and not (error.name or "").startswith("psycopg."):
            raise
        raise ConfigError(POSTGRES_DRIVER_MISSING) from None
    _ping_when_idle(engine)
    return engine


# A pooled PostgreSQL connection idle for longer than this is pinged before it is handed out again.
PING_AFTER_IDLE_SECONDS = 1.0
_LAST_USED = "adoptbot_last_used"  # in a pooled connection's `info`: time.monotonic() when last handed back


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pessimistic disconnect handling, without its round trip on every checkout.

    `pool_pre_ping` pings the server each time a connection leaves the pool: one more round trip on every
    Slack request, which must be acked fast. Here a connection is pinged only when it has been idle for
    more than `PING_AFTER_IDLE_SECONDS` (a restarted or failed-over database, a firewall that dropped the
    idle socket); one that fails is replaced by a new one before anyone uses it (SQLAlchemy's
    `DisconnectionError` recipe). A busy server reuses its connections within milliseconds and pings none.
    A database that goes away less than that long after a connection's last use fails the one statement
    that meets it; SQLAlchemy then discards the pool's other connections, and the next request reconnects.
    """

    @event.listens_for(engine, "connect")
    def _connected(_dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError("the database connection was lost while it was idle") from error


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (SQLAlchemy's recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A deferred transaction that reads and then writes fails at once with "database is locked" when
        # another connection wrote meanwhile; taking the write lock up front makes it wait its turn instead.
        # Read-only work (reports) opts out with the `readonly` execution option; single-statement reads
        # (`statement_reader`) need no transaction at all.
        options = conn.get_execution_options()
        if options.get(_STATEMENT_READS):
            return
        statement = "BEGIN" if options.get("readonly") else "BEGIN IMMEDIATE"
        # Straight to the driver: every unit of work begins here, and SQLAlchemy's statement machinery
        # (exec_driver_sql) costs more than the BEGIN itself. Errors are wrapped as SQLAlchemy's would be.
        driver = conn.connection.driver_connection
        assert driver is not None  # a connection that is beginning a transaction is checked out
        try:
            driver.execute(statement)
        except sqlite3.Error as error:
            raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error


_STATEMENT_READS = "adoptbot_statement_reads"


def statement_reader(engine: Engine) -> Engine:
    """`engine` for reads that need no transaction around them: each statement sees the database as it
    is when the statement runs, and nothing is begun or committed around it.

    For the requests Slack waits on (`/adopt help`, menus) that read one or two independent facts. On
    SQLite this saves the BEGIN and COMMIT, each a call into the library that lets other threads take
    Python's lock (see benchmarks/ack_latency.py); on PostgreSQL, their round trips (AUTOCOMMIT). Never
    for writes, nor for reads that must agree with each other: use a session for those.
    """
    if is_sqlite(engine):
        return engine.execution_options(readonly=True, **{_STATEMENT_READS: True})
    return engine.execution_options(readonly=True, isolation_level="AUTOCOMMIT")


def get_engine(url: str) -> Engine:
    """The engine for `url` in this process (a fresh one after a fork: pools must not cross processes)."""
    key = (os.getpid(), url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = create_db_engine(url)
        return engine


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


_factories: weakref.WeakKeyDictionary[Engine, dict[bool, sessionmaker[Session]]] = weakref.WeakKeyDictionary()


def session_factory(engine: Engine, *, readonly: bool = False) -> sessionmaker[Session]:
    """The session factory for `engine`, built once: a new sessionmaker (and read-only engine view) per
    unit of work costs more CPU than a short request's own query."""
    with _lock:
        per_engine = _factories.setdefault(engine, {})
        factory = per_engine.get(readonly)
        if factory is None:
            bind = engine.execution_options(readonly=True) if readonly else engine
            factory = per_engine[readonly] = sessionmaker(bind=bind, expire_on_commit=False)
        return factory


def is_readonly(session: Session) -> bool:
    """Whether `session` is a read-only unit of work (`session_scope(..., readonly=True)`): one that should
    write nothing, not even a cache (on SQLite its deferred transaction could not take the write lock)."""
    return bool(session.get_bind().get_execution_options().get("readonly"))


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = session_factory(engine, readonly=readonly)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_T = TypeVar("_T")
_ALONGSIDE = ThreadPoolExecutor(max_workers=3, thread_name_prefix="adoptbot-read")  # threads start on use


def alongside(session: Session, read: Callable[[Session], _T]) -> Callable[[], _T]:
    """Run `read` in a read-only session of its own on another thread, so its queries overlap the
    caller's (the database works on both at once); call the result to wait for the answer.

    Like any statement of a READ COMMITTED transaction, `read` sees the data committed when it runs. Where
    the session is not bound to an engine (a test's connection), `read` runs at once in this session.
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        answer = read(session)
        return lambda: answer

    def in_own_session() -> _T:
        with session_scope(bind, readonly=True) as own:
            return read(own)

    return _ALONGSIDE.submit(in_own_session).result


def writes_overlap(session: Session) -> bool:
    """Whether `in_own_transaction` can run work beside this session's (PostgreSQL, bound to an engine)."""
    bind = session.get_bind()
    return isinstance(bind, Engine) and bind.dialect.name == "postgresql"


_OWN_TRANSACTIONS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="adoptbot-write")


def in_own_transaction(session: Session, work: Callable[[Session], _T]) -> Callable[[], _T]:
    """Start `work` in a transaction of its own (committed when it returns, rolled back if it raises) on
    another thread; call the result to wait for its answer (or its error). Only where `writes_overlap`:
    on SQLite (one writer at a time) or for a session not bound to an engine (a test's connection) it
    could only wait for the caller's transaction, so it raises ValueError there.

    The caller's transaction sees none of it until `work` commits: for work split into parts that touch
    different rows, each complete on its own (see `bot.nudges.service.deliver_due`).
    """
    bind = session.get_bind()
    if not isinstance(bind, Engine) or not writes_overlap(session):
        raise ValueError("work beside this session's transaction needs PostgreSQL and an engine")

    def in_own_session() -> _T:
        with session_scope(bind) as own:
            return work(own)

    return _OWN_TRANSACTIONS.submit(in_own_session).result


def insert_ignore(
    session: Session,
    model: type[Base],
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] | None = None,
) -> int:
    """INSERT rows, skipping those that collide with a unique key; return how many were inserted.

    This is how scheduled work stays idempotent across ticks and instances: the database decides.
    """
    if not rows:
        return 0
    table: Table = model.__table__  # type: ignore[assignment]
    dialect = session.get_bind().dialect.name
    stmt: Any
    # Imported here: the PostgreSQL dialect package loads every driver's dialect (tens of ms at startup).
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict)
    else:
        from sqlalchemy.dialects import sqlite

        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
    # RETURNING yields only the rows actually inserted (executemany rowcounts are unreliable).
    stmt = stmt.returning(*table.primary_key.columns)
    result = session.connection().execute(stmt, list(rows))
    return len(result.all())
