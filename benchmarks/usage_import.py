"""Benchmark: `adoptbot usage import` of 100,000 Microsoft 365 Copilot rows for 50,000 people.

Target: at most 10 s per import on SQLite and PostgreSQL. The file is the Copilot usage report's user
detail with two 28-day reports in it (every person twice): by default last week's and this week's export
(refreshed 7 days apart, overlapping: 5 weeks, 250,000 weekly facts, the overlap merged); `--apart 28`
puts them back to back (8 weeks, 400,000 facts). The second import is of the same file again (nothing
changes: the read-and-compare path). Measures what the CLI does: read and check the
file, match emails against the roster, write in one transaction.

    .venv/bin/python benchmarks/usage_import.py [--people 50000] [--apart 7] [--pg postgresql://...]

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
from datetime import date, timedelta
from pathlib import Path
from typing import Any, cast

from scratch import postgres_database
from sqlalchemy import Table, func, insert, select

from bot.clock import utcnow
from bot.csv_files import decode
from bot.db import create_db_engine, session_scope
from bot.migrate import upgrade
from bot.models import Person, Team, UsageFact
from bot.usage.parsers import parse_usage
from bot.usage.service import import_usage

TARGET_SECONDS = 10.0
HEADER = [
    "Report Refresh Date",
    "Report Period",
    "User Principal Name",
    "Display Name",
    "Last Activity Date",
    "Microsoft Teams Copilot Last Activity Date",
    "Word Copilot Last Activity Date",
    "Excel Copilot Last Activity Date",
    "PowerPoint Copilot Last Activity Date",
    "Outlook Copilot Last Activity Date",
    "OneNote Copilot Last Activity Date",
    "Loop Copilot Last Activity Date",
    "Copilot Chat Last Activity Date",
]
LAST_REFRESH = date(2026, 11, 29)


def write_report(path: Path, people: int, seed: int, apart: int) -> int:
    """The M365 export as the admin center saves it (UTF-8 with BOM): a quarter of people never active."""
    rng = random.Random(seed)
    rows = 0
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for refreshed in (LAST_REFRESH - timedelta(days=apart), LAST_REFRESH):
            for i in range(people):
                apps = ["" for _ in range(8)]
                last = ""
                if rng.random() < 0.75:
                    used = refreshed - timedelta(days=rng.randrange(28))
                    last = used.isoformat()
                    apps[rng.randrange(8)] = last
                writer.writerow(
                    [refreshed.isoformat(), 28, f"Person{i}@Example.com", f"Person {i}", last, *apps]
                )
                rows += 1
    return rows


def seed_people(url: str, people: int) -> None:
    engine = create_db_engine(url)
    upgrade(engine)
    now = utcnow()
    with session_scope(engine) as session:
        team_id = session.scalar(
            insert(cast(Table, Team.__table__))
            .values(name="All", created_at=now)
            .returning(
                Team.__table__.c.id  # type: ignore[attr-defined]
            )
        )
        rows: list[dict[str, Any]] = [
            {
                "slack_user_id": f"U{i:08d}",
                "email": f"person{i}@example.com",
                "name": f"Person {i}",
                "team_id": team_id,
                "role": "sales",
                "is_active": True,
                "is_change_manager": False,
                "leads_all": False,
                "team_source": "roster",
                "nudge_level": 1,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(people)
        ]
        session.execute(insert(cast(Table, Person.__table__)), rows)
    engine.dispose()


def timed_import(url: str, path: Path) -> tuple[float, str]:
    engine = create_db_engine(url)
    try:
        started = time.perf_counter()
        parsed = parse_usage(decode(path.read_bytes(), path.name), "m365-copilot", (), name=path.name)
        with session_scope(engine) as session:
            report = import_usage(session, parsed)
        elapsed = time.perf_counter() - started
        with session_scope(engine, readonly=True) as session:
            total = session.scalar(select(func.count()).select_from(UsageFact))
        return elapsed, f"{report.summary()} {total:,} facts stored"
    finally:
        engine.dispose()


def bench(label: str, url: str, path: Path, people: int) -> None:
    seed_people(url, people)
    for step in ("import", "re-import"):
        seconds, summary = timed_import(url, path)
        share = seconds / TARGET_SECONDS
        print(f"{label:<10} {step:<9} {seconds:6.2f} s  {share:5.1%} of the 10 s target")
        print(f"           {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument(
        "--apart",
        type=int,
        default=7,
        metavar="DAYS",
        help="days between the two reports' refresh dates (default 7: last week's and this week's "
        "28-day export, overlapping; 28: back to back)",
    )
    parser.add_argument(
        "--pg",
        metavar="URL",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL server URL (default: TEST_DATABASE_URL); skipped when unset",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="adoptbot-bench-") as folder:
        tmp = Path(folder)
        path = tmp / "copilot-usage.csv"
        rows = write_report(path, args.people, seed=1, apart=args.apart)
        print(
            f"{rows:,} rows for {args.people:,} people ({path.stat().st_size / 1e6:.1f} MB CSV), "
            f"two 28-day reports refreshed {args.apart} days apart."
        )
        bench("SQLite", f"sqlite:///{tmp / 'bench.db'}", path, args.people)
        if args.pg:
            with postgres_database(args.pg) as url:
                bench("PostgreSQL", url, path, args.people)
        else:
            print("PostgreSQL skipped: pass --pg URL or set TEST_DATABASE_URL.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
