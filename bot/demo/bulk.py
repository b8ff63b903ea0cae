"""Writing the demo's history fast: millions of rows on PostgreSQL, tens of thousands on SQLite.

`RowStream` takes rows as a step makes them. On PostgreSQL it feeds one COPY as it goes, in CSV chunks
written by the csv module (in C; psycopg's `write_row` formats each value in Python, several times slower),
through psycopg's queued writer, so the server stores a chunk while Python makes the next one: the two
run side by side instead of one after the other. Elsewhere the rows are kept and inserted at the end, in
batches. `bulk_insert` is the same for rows already made.

Formatting the cells is most of a stream's cost, and `str()` of a date or time the largest part. A step
that makes millions of rows opens its stream with `cells=True` and writes a missing value as
`stream.null` and a date or time as `stream.moment(value)`: on COPY that is the text COPY reads (each
distinct moment formatted once), elsewhere the value itself, so the rows go out as they are.

`indexes_after` goes around the steps on PostgreSQL: the history tables of the fresh database take their
rows with no key, index or foreign key to keep up (a key of random text, as a pulse answer's, costs the
most: each row lands on a random page of it), and get them back at the end, built in one pass each and
checked once (exactly as they were defined: read from the catalog).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from types import TracebackType
from typing import Any, cast

from sqlalchemy import Table, insert, text
from sqlalchemy.orm import Session

from bot.models import Base

# The tables the demo fills with millions of rows (the organisation's own tables stay as they are).
HISTORY_TABLES = ("nudge_deliveries", "activity", "pulse_invitations", "pulse_responses", "pulse_answers")
CHUNK = 50_000  # rows per CSV chunk sent to COPY
BATCH = 5_000  # rows per INSERT batch elsewhere
NULL = "\\N"  # COPY's NULL marker (unquoted); no demo text is exactly this


class RowStream:
    """Rows of `columns` for `model`'s table, written while they are made (see the module docstring).

    `dates=False`: no date or time columns, so SQLite takes plain DB-API tuples (SQLAlchemy formats
    SQLite's dates otherwise). `cells=True`: the rows hold `null` and `moment()` cells already (see the
    module docstring), so on COPY they are written as they are."""

    def __init__(
        self,
        session: Session,
        model: type[Base],
        columns: tuple[str, ...],
        *,
        dates: bool = True,
        cells: bool = False,
    ) -> None:
        self.session = session
        self.model = model
        self.columns = columns
        self.dates = dates
        self.copying = session.get_bind().dialect.name == "postgresql"
        self.cells = cells and self.copying  # the rows hold COPY's text for dates and missing values
        self.null: str | None = NULL if self.cells else None
        self._moments: dict[date, str] = {}
        self.count = 0
        self._rows: list[tuple[object, ...]] = []
        self._copy: Any = None
        self._copy_cm: Any = None

    def moment(self, value: date) -> date | str:
        """A date or time (naive UTC) as this stream writes it: COPY's text with `cells=True`."""
        if not self.cells:
            return value
        text = self._moments.get(value)
        if text is None:
            text = self._moments[value] = str(value)
        return text

    def __enter__(self) -> RowStream:
        connection = self.session.connection()
        if self.copying:
            from psycopg.copy import QueuedLibpqWriter

            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            statement = (
                f"COPY {self.model.__tablename__} ({', '.join(self.columns)}) "
                f"FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"
            )
            self._copy_cm = cursor.copy(statement, writer=QueuedLibpqWriter(cursor))
            self._copy = self._copy_cm.__enter__()
        return self

    def add(self, row: tuple[object, ...]) -> None:
        self._rows.append(row)
        self.count += 1
        if self._copy is not None and len(self._rows) >= CHUNK:
            self._send()

    def extend(self, rows: Iterable[tuple[object, ...]]) -> None:
        before = len(self._rows)
        self._rows.extend(rows)
        self.count += len(self._rows) - before
        if self._copy is not None and len(self._rows) >= CHUNK:
            self._send()

    def _send(self) -> None:
        for start in range(0, len(self._rows), CHUNK):
            buffer = io.StringIO()
            rows: Iterable[tuple[object, ...]] = self._rows[start : start + CHUNK]
            if not self.cells:
                rows = (tuple(NULL if value is None else value for value in row) for row in rows)
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            self._copy.write(buffer.getvalue())
        self._rows = []

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._copy_cm is not None:
            if kind is None and self._rows:
                self._send()
            self._copy_cm.__exit__(kind, error, tb)  # waits for the server to have stored it all
            return
        if kind is None:
            _insert(self.session, self.model, self.columns, self._rows, dates=self.dates)


def random_keys() -> Iterator[str]:
    """Random primary keys like `bot.models.random_key` (32 hex characters from os.urandom), made 4,096 at
    a time: the pulse history needs millions, and one uuid4 each costs more than the row."""
    while True:
        block = os.urandom(16 * 4096).hex()
        for start in range(0, len(block), 32):
            yield block[start : start + 32]


def bulk_insert(
    session: Session,
    model: type[Base],
    columns: tuple[str, ...],
    rows: Iterable[tuple[object, ...]],
    *,
    dates: bool = True,
) -> None:
    """Rows made already, written as `RowStream` writes them."""
    with RowStream(session, model, columns, dates=dates) as stream:
        stream.extend(rows)


def _insert(
    session: Session,
    model: type[Base],
    columns: tuple[str, ...],
    rows: list[tuple[object, ...]],
    *,
    dates: bool,
) -> None:
    table = model.__tablename__
    connection = session.connection()
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        if dates:
            session.execute(
                insert(cast(Table, model.__table__)), [dict(zip(columns, r, strict=True)) for r in batch]
            )
        else:
            marks = ", ".join("?" for _ in columns)
            connection.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)


# A table's foreign keys, or its primary key and unique constraints (not one another table's key relies on).
_CONSTRAINTS = text(
    """
    SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint AS c
    WHERE c.conrelid = CAST(:table AS regclass) AND c.contype = ANY(CAST(:kinds AS "char"[]))
      AND (c.contype = 'f' OR NOT EXISTS (
        SELECT 1 FROM pg_constraint AS f WHERE f.contype = 'f' AND f.conindid = c.conindid))
    ORDER BY c.conname
    """
)
# Its other indexes (not the primary key's, nor a constraint's).
_INDEXES = text(
    """
    SELECT i.relname, pg_get_indexdef(x.indexrelid) FROM pg_index AS x
    JOIN pg_class AS i ON i.oid = x.indexrelid
    WHERE x.indrelid = CAST(:table AS regclass) AND NOT x.indisprimary
      AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conindid = x.indexrelid)
    ORDER BY i.relname
    """
)


@contextmanager
def indexes_after(session: Session, tables: tuple[str, ...] = HISTORY_TABLES) -> Iterator[None]:
    """On PostgreSQL, the empty `tables` lose their keys, secondary indexes, unique and foreign-key
    constraints for the `with` block and get them back, as the catalog defined them, at its end (in the
    same transaction: nothing is committed without them). Their foreign keys go first, so a key only
    they refer to (a pulse response's, which answers refer to) goes too; a key another table refers to
    stays. A table with rows already is left alone."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    empty = [t for t in tables if connection.execute(text(f"SELECT 1 FROM {t} LIMIT 1")).first() is None]
    restore: list[str] = []
    for kinds in ("{f}", "{p,u}"):
        for table in empty:
            for name, definition in connection.execute(_CONSTRAINTS, {"table": table, "kinds": kinds}).all():
                connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
                restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    for table in empty:
        for name, definition in connection.execute(_INDEXES, {"table": table}).all():
            connection.execute(text(f'DROP INDEX "{name}"'))
            restore.insert(0, definition)  # indexes first: the constraints' checks can use them
    yield
    if restore:
        connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
        # Indexes, then keys and unique constraints, then the foreign keys that rely on them.
        for statement in sorted(restore, key=lambda s: ("FOREIGN KEY" in s, "ADD CONSTRAINT" in s)):
            connection.execute(text(statement))
