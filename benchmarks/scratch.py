"""A throwaway PostgreSQL database for a benchmark run, created and dropped around it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import normalise_database_url


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """Yield the URL of a new, empty database on `server_url`'s server; drop it afterwards."""
    admin_url = make_url(normalise_database_url(server_url))
    name = f"adoptbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
