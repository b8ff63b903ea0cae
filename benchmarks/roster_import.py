"""Benchmark: `adoptbot roster import` of 10,000 people in 100 teams, on SQLite and PostgreSQL.

Target: well under 10 s per import. Measures the path the CLI takes (read and check the file, match
against the database, write in one transaction), for a first import into an empty database and for a
re-import of the same people with a tenth of them changed (the update path).

    .venv/bin/python benchmarks/roster_import.py [--people 10000] [--teams 100] [--pg postgresql://...]

PostgreSQL: `--pg URL` or TEST_DATABASE_URL; a scratch database is created on that server and dropped.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from scratch import postgres_database
from sqlalchemy import func, select

from bot.content import load_library
from bot.db import create_db_engine, session_scope
from bot.migrate import upgrade
from bot.models import Person
from bot.people.roster import ROSTER_COLUMNS, import_roster, read_roster

TARGET_SECONDS = 10.0
ZONES = (
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Sao_Paulo",
    "",
)


def write_roster(path: Path, people: int, teams: int, roles: list[str], *, changed: float, seed: int) -> None:
    """A roster like an HR export: most people with Slack IDs, some by email only, a leader per team."""
    rng = random.Random(seed)
    change = random.Random(seed + 1)
    team_names = [f"Team {i:03d}" for i in range(teams)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(ROSTER_COLUMNS)
        for i in range(people):
            team = i % teams
            role = rng.choice(roles)
            if change.random() < changed:
                role = roles[(roles.index(role) + 1) % len(roles)]
            slack_id = f"U{i:08d}" if i % 10 else ""
            leads = team_names[team] if i < teams else ("*" if i in (teams, teams + 1) else "")
            writer.writerow(
                [
                    slack_id,
                    f"person{i}@example.com",
                    f"Person {i}",
                    team_names[team],
                    role,
                    rng.choice(ZONES),
                    leads,
                    "true" if i % 997 == 0 else "false",
                ]
            )


def timed_import(url: str, path: Path, roles: list[str]) -> tuple[float, str]:
    engine = create_db_engine(url)
    try:
        started = time.perf_counter()
        parsed = read_roster(path, roles)
        with session_scope(engine) as session:
            report = import_roster(session, parsed)
        elapsed = time.perf_counter() - started
        with session_scope(engine, readonly=True) as session:
            total = session.scalar(select(func.count()).select_from(Person))
        return elapsed, f"{report.summary()}; {total:,} people in the database"
    finally:
        engine.dispose()


def bench(label: str, url: str, first: Path, second: Path, roles: list[str]) -> list[tuple[str, float]]:
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    results = []
    for step, path in (("import", first), ("re-import", second)):
        seconds, summary = timed_import(url, path, roles)
        results.append((f"{label} {step}", seconds))
        share = seconds / TARGET_SECONDS
        print(f"{label:<10} {step:<9} {seconds:6.2f} s  {share:5.1%} of the 10 s target  ({summary})")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument(
        "--pg",
        metavar="URL",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL server URL (default: TEST_DATABASE_URL); skipped when unset",
    )
    args = parser.parse_args()
    roles = sorted(load_library().roles)
    with tempfile.TemporaryDirectory(prefix="adoptbot-bench-") as folder:
        tmp = Path(folder)
        first, second = tmp / "roster.csv", tmp / "roster-changed.csv"
        write_roster(first, args.people, args.teams, roles, changed=0.0, seed=1)
        write_roster(second, args.people, args.teams, roles, changed=0.1, seed=1)
        print(
            f"{args.people:,} people in {args.teams} teams ({first.stat().st_size / 1e6:.1f} MB CSV); "
            f"re-import changes the role of about 10%."
        )
        bench("SQLite", f"sqlite:///{tmp / 'bench.db'}", first, second, roles)
        if args.pg:
            with postgres_database(args.pg) as url:
                bench("PostgreSQL", url, first, second, roles)
        else:
            print("PostgreSQL skipped: pass --pg URL or set TEST_DATABASE_URL.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
