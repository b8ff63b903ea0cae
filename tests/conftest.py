"""Shared fixtures: a real database per test (SQLite file, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from bot import clock, wiring
from bot.config import normalise_database_url
from bot.db import create_db_engine, dispose_engines
from bot.migrate import upgrade
from bot.models import Base

pytest_plugins = ["tests.support.fixtures"]

PG_URL = os.environ.get("TEST_DATABASE_URL")
PG_SKIP = "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"


@pytest.fixture(autouse=True, scope="session")
def _wired() -> None:
    """The process wired as `adoptbot` wires it (jobs, outbox hooks, demo steps), for the tests that call
    the job runner, the outbox or the demo directly."""
    wiring.wire()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never read the developer's own settings or .env file."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "OPENAI_", "ADOPTBOT_")) or name in {
            "DATABASE_URL",
            "CONTENT_DIR",
            "PORT",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(autouse=True)
def _wall_clock() -> Iterator[None]:
    """Every test starts on the wall clock and leaves it there, whatever it froze."""
    clock.set_now(None)
    yield
    clock.set_now(None)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str]:
    """A database of our own on the TEST_DATABASE_URL server, migrated once, dropped at the end."""
    assert PG_URL
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail(
            "TEST_DATABASE_URL is set but PostgreSQL's driver is not installed: "
            "pip install -e '.[test,postgres]' (or unset TEST_DATABASE_URL to skip the PostgreSQL tests)",
            pytrace=False,
        )
    admin_url = make_url(normalise_database_url(PG_URL))
    name = f"adoptbot_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    dispose_engines()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_db_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty, migrated database of each kind; every test gets its own."""
    if request.param == "sqlite":
        path = tmp_path / "adoptbot.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        dispose_engines()
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    url = request.getfixturevalue("_pg_database")
    yield url
    dispose_engines()
    _truncate_all(url)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session
