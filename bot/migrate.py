"""`adoptbot db upgrade`: Alembic migrations, safe to run twice and from several machines at once."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every Adoptbot instance sharing the database.
_PG_LOCK_ID = 0x61646F7074  # "adopt"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to the newest revision; return (before, after).

    On PostgreSQL a session advisory lock makes concurrent upgrades wait for each other, so two
    machines releasing at once apply each migration once. On SQLite the migration's own write
    transaction (BEGIN IMMEDIATE, see bot.db) does the same.
    """
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
