"""What several benchmarks share: a throwaway database, and the fake Slack server in a subprocess."""

from __future__ import annotations

import argparse
import json
import os
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


def add_organisation_arguments(parser: argparse.ArgumentParser) -> None:
    """The size of the demo organisation a benchmark seeds, and where (metrics and digest benchmarks)."""
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument(
        "--sqlite", metavar="PATH", help="seed this (new) SQLite file instead of a temporary one"
    )
    parser.add_argument(
        "--pg",
        metavar="URL",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL server to create a scratch database on (default: TEST_DATABASE_URL)",
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")


@contextmanager
def scratch_database(pg: str | None, folder: Path) -> Iterator[str]:
    """The URL of an empty database: SQLite in `folder`, or a new one on `pg`'s server, dropped afterwards."""
    if pg is None:
        yield f"sqlite:///{folder / 'bench.db'}"
    else:
        with postgres_database(pg) as url:
            yield url


@contextmanager
def fake_slack_server(rate: float, latency: float = 0.0) -> Iterator[str]:
    """The fake Slack Web API in a subprocess, chat.postMessage limited to `rate` a second; yields its URL
    and stops it afterwards."""
    command = [sys.executable, "-m", "tests.support.fake_slack", "--rate-limit", f"chat.postMessage={rate:g}"]
    if latency:
        command += ["--delay", f"chat.postMessage={latency:g}"]
    fake = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert fake.stdout is not None and fake.stdin is not None
    try:
        yield fake.stdout.readline().strip()
    finally:
        fake.stdin.close()  # the fake exits when its stdin closes
        fake.wait(timeout=30)


def fetch(url: str) -> dict[str, object]:
    """GET a JSON object (the fake Slack's /_fake/ endpoints)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        data = json.loads(response.read())
    assert isinstance(data, dict)
    return data
