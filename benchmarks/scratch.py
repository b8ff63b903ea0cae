"""What several benchmarks share: a throwaway database, and the fake Slack server in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent


def create_postgres_database(server_url: str) -> tuple[str, str]:
    """Create an empty database on `server_url`'s server; return (its URL, its name)."""
    admin_url = make_url(normalise_database_url(server_url))
    name = f"adoptbot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.set(database=name).render_as_string(hide_password=False), name


def drop_database(server_url: str, name: str) -> None:
    admin = create_engine(make_url(normalise_database_url(server_url)), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """Yield the URL of a new, empty database on `server_url`'s server; drop it afterwards."""
    url, name = create_postgres_database(server_url)
    try:
        yield url
    finally:
        drop_database(server_url, name)


def fresh_database(pg: str | None, folder: Path) -> tuple[str, str | None]:
    """(url, name of a PostgreSQL database to drop afterwards): SQLite in `folder` unless `pg` is given."""
    if pg is None:
        return f"sqlite:///{folder / 'bench.db'}", None
    return create_postgres_database(pg)


def start_fake_slack(rate: float, latency: float = 0.0) -> tuple[subprocess.Popen[str], str]:
    """The fake Slack Web API in a subprocess, chat.postMessage limited to `rate` a second; (process, URL)."""
    command = [sys.executable, "-m", "tests.support.fake_slack", "--rate-limit", f"chat.postMessage={rate:g}"]
    if latency:
        command += ["--delay", f"chat.postMessage={latency:g}"]
    fake = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None
    return fake, fake.stdout.readline().strip()


def fetch(url: str) -> dict[str, object]:
    """GET a JSON object (the fake Slack's /_fake/ endpoints)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        data = json.loads(response.read())
    assert isinstance(data, dict)
    return data
