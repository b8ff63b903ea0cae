"""The Alembic migrations and the models describe the same schema, on both databases."""

from __future__ import annotations

import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from bot.migrate import current_revision, head_revision, upgrade
from bot.models import Base


def test_migrated_schema_matches_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def test_upgrade_twice_is_a_no_op(engine: Engine) -> None:
    assert upgrade(engine) == (head_revision(), head_revision())
    assert current_revision(engine) == head_revision()


def test_db_upgrade_command_on_a_fresh_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade", "--db", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert first.returncode == 0, first.stderr
    assert "upgraded from empty" in first.stdout
    second = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade", "--db", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert second.returncode == 0 and "up to date" in second.stdout
    from bot.db import create_db_engine

    engine = create_db_engine(url)
    assert {"people", "teams", "outbox"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_the_head_read_from_the_migration_files_is_alembics() -> None:
    """Read-only commands check the schema against the files' head without loading Alembic."""
    from bot.migrate import _head_from_files

    assert _head_from_files() == head_revision()
