"""`adoptbot db upgrade`: Alembic migrations, safe to run twice and from several machines at once."""

from __future__ import annotations

import ast
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, make_url, text

from bot.errors import UsageError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every Adoptbot instance sharing the database.
_PG_LOCK_ID = 0x61646F7074  # "adopt"


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _head_from_files() -> str | None:
    """The head revision read from the migration files themselves (their `revision` and `down_revision`),
    without loading Alembic: what a read-only command checks against (`head_revision` agrees, tested)."""
    revisions: dict[str, object] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        names = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ) and node.targets[0].id in ("revision", "down_revision"):
                names[node.targets[0].id] = ast.literal_eval(node.value)
        if isinstance(names.get("revision"), str):
            revisions[str(names["revision"])] = names.get("down_revision")
    heads = set(revisions) - {down for down in revisions.values() if isinstance(down, str)}
    return heads.pop() if len(heads) == 1 else None


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None: not an Adoptbot database yet).

    On PostgreSQL read straight from `alembic_version` (one small query: importing Alembic costs a
    report a fifth of a second); elsewhere through Alembic.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            if connection.scalar(text("SELECT to_regclass('alembic_version')")) is None:
                return None
            found = connection.scalars(text("SELECT version_num FROM alembic_version")).all()
            if len(found) <= 1:
                return found[0] if found else None
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision; return (before, after).

    On PostgreSQL a session advisory lock makes concurrent upgrades wait for each other, so two
    machines releasing at once apply each migration once. On SQLite the migration's own write
    transaction (BEGIN IMMEDIATE, see bot.db) does the same.
    """
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    config = alembic_config()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
            connection.commit()
        try:
            before = MigrationContext.configure(connection).get_current_revision()
            connection.rollback()
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
            after = MigrationContext.configure(connection).get_current_revision()
            connection.rollback()
        finally:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
                connection.commit()
    return before, after


SQLITE_HEADER = b"SQLite format 3\x00"


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
        return None
    return Path(parsed.database)


def refuse_foreign_file(path: Path) -> None:
    """UsageError when `path` exists but is no SQLite database (a CSV given as `--db`, say), before SQLite
    is asked to open it: it would fail with a bare "file is not a database", or worse, write to it."""
    if path.is_dir():
        raise UsageError(f"{path} is a folder, not an Adoptbot database.")
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as error:
        raise UsageError(f"cannot read {path} ({error.strerror or error}).") from None
    if header and header != SQLITE_HEADER:
        raise UsageError(f"{path} is not an Adoptbot database (it is not an SQLite file).")


def _sqlite_revision(path: Path) -> str | None:
    """The schema revision of an existing SQLite file, read without SQLAlchemy's engine (whose connect
    hook switches the file to WAL mode): a command that only reads leaves the file as it found it."""
    refuse_foreign_file(path)
    connection = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None  # no alembic_version table: some other SQLite file, or an empty one
    except sqlite3.DatabaseError:
        raise UsageError(f"{path} is not an Adoptbot database (it is not an SQLite file).") from None
    finally:
        connection.close()
    return str(row[0]) if row else None


def require_current_schema(url: str, engine: Callable[[], Engine]) -> None:
    """For commands that only read: UsageError unless `url` holds an Adoptbot database at the newest
    revision. Never creates the database nor migrates it (`engine` is only called for a server database).

    A mistyped `--db` path must not leave an empty database behind, and a report must not change the
    schema under an installation that upgrades on its own schedule (`adoptbot db upgrade`).
    """
    path = sqlite_path(url)
    if path is not None:
        where = str(path)
        if not path.exists():
            raise UsageError(f"no Adoptbot database at {where} (check --db or DATABASE_URL).")
        revision = _sqlite_revision(path)
    else:
        where = make_url(url).render_as_string(hide_password=True)
        revision = current_revision(engine())
    if revision is None:
        raise UsageError(f"no Adoptbot database at {where} (check --db or DATABASE_URL).")
    if revision == _head_from_files():
        return
    from alembic.script import ScriptDirectory

    head = head_revision()
    if revision == head:
        return
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if revision in known:
        raise UsageError(
            f"the database at {where} needs an upgrade first: run `adoptbot db upgrade` (it is at "
            f"revision {revision}, this version of Adoptbot needs {head})."
        )
    raise UsageError(
        f"the database at {where} was made by a newer Adoptbot (revision {revision}); upgrade Adoptbot."
    )
