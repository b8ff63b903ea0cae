"""Digest benchmark: composing every leader's weekly digest for a 10,000-person, 100-team organisation.

    .venv/bin/python benchmarks/digest.py                      # SQLite, and PostgreSQL if TEST_DATABASE_URL
    .venv/bin/python benchmarks/digest.py --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/digest.py --members 1000 --teams 20 --weeks 8 --no-pg   # a quick run

Each database is seeded with `adoptbot demo --db URL --members 10000 --teams 100 --weeks 26` (a SQLite
file in a temporary folder; a scratch database on the PostgreSQL server of `--pg`, default
TEST_DATABASE_URL, VACUUM ANALYZEd after seeding and dropped afterwards). Then, for the last complete week
and no Slack time at all:

- compose: what the weekly job does before anything is queued, for every leader (100 team leads and the
  sponsor who leads all teams) and the org-wide digest: `DigestSource` + `compose` (metrics for the 8
  weeks of the trend and the closed runs' weeks, wins, tools, comment summaries, the template narrative),
  then the Block Kit message and the CSV of each. Median of 3 runs, each in a fresh session.
- floor: the `compute_metrics` calls alone that the digests need (one per week): the part no digest
  can avoid; ratio = compose / floor.
- charts: drawing the PNG of each distinct trend (leaders of the same teams share one), reported apart:
  it runs when digests are queued, spread over the leaders' time zones.

Goal (issue 8): compose <= 5 s on each database. Exit 1 if missed. The machine's load average is printed
before and after, since other work on a shared machine moves these figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from metrics import analyze, postgres_database, seed, sqlite_database  # noqa: E402
from scratch import add_organisation_arguments  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.content import load_library  # noqa: E402
from bot.db import create_db_engine  # noqa: E402
from bot.digest import delivery as digest_delivery  # noqa: E402
from bot.digest.blocks import chart_title, digest_message  # noqa: E402
from bot.digest.chart import render_trend  # noqa: E402
from bot.digest.service import ORGANISATION, DigestSource, compose_many  # noqa: E402
from bot.metrics.format import to_csv  # noqa: E402
from bot.metrics.service import compute_metrics, last_complete_week  # noqa: E402

GOAL_SECONDS = 5.0
RUNS = 3


@dataclass
class Result:
    backend: str
    seed_seconds: float
    compose: float
    floor: float
    weeks: int
    digests: int
    blocks_max: int
    charts: int
    chart_seconds: float

    @property
    def ratio(self) -> float:
        return self.compose / self.floor if self.floor else float("inf")

    def goal_met(self) -> bool:
        return self.compose <= GOAL_SECONDS


def measure(backend: str, url: str, seed_seconds: float) -> Result:
    settings = digest_delivery.without_ai(Settings())
    library = load_library()
    engine = create_db_engine(url).execution_options(readonly=True)
    monday = last_complete_week(settings)
    found: dict[str, object] = {}

    def compose_all() -> None:
        from bot.clock import utcnow

        with Session(engine) as session:
            leaders = digest_delivery.leaders(session, settings)
            source = DigestSource(session, settings, library, week_monday=monday, now=utcnow())
            audiences = [ORGANISATION, *(leader.audience for leader in leaders)]
            digests = compose_many(source, audiences, ai_narrative=False)
            sizes = []
            for digest in digests:
                _, blocks = digest_message(digest, command=settings.command)
                to_csv(digest.csv_rows)
                sizes.append(len(blocks))
            found.update(digests=digests, weeks=source.weeks_computed, sizes=sizes)

    def floor() -> None:
        with Session(engine) as session:
            for week in found["weeks"]:  # type: ignore[attr-defined]
                compute_metrics(session, week_monday=week, settings=settings)

    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        compose_all()
        times.append(time.perf_counter() - began)
    floors = []
    for _ in range(RUNS):
        began = time.perf_counter()
        floor()
        floors.append(time.perf_counter() - began)
    digests = found["digests"]
    assert isinstance(digests, list)
    trends = {d.trend: d for d in digests if d.trend.weeks}
    began = time.perf_counter()
    for digest in trends.values():
        render_trend(digest.trend, title=chart_title(digest))
    chart_seconds = time.perf_counter() - began
    engine.dispose()
    sizes = found["sizes"]
    assert isinstance(sizes, list)
    return Result(
        backend=backend,
        seed_seconds=seed_seconds,
        compose=statistics.median(times),
        floor=statistics.median(floors),
        weeks=len(found["weeks"]),  # type: ignore[arg-type]
        digests=len(digests),
        blocks_max=max(sizes),
        charts=len(trends),
        chart_seconds=chart_seconds,
    )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def report(results: list[Result], members: int, teams: int, weeks: int) -> None:
    print(
        f"\nEvery leader's digest for one week: {members:,} people, {teams} teams, {weeks} weeks of history"
    )
    print(f"{'':<11}{'seed':>8}{'compose':>10}{'floor':>9}{'ratio':>8}  digests  weeks  max blocks  charts")
    for r in results:
        print(
            f"{r.backend:<11}{r.seed_seconds:>7.1f}s{r.compose:>9.2f}s{r.floor:>8.2f}s{r.ratio:>7.2f}x"
            f"  {r.digests:>7}  {r.weeks:>5}  {r.blocks_max:>10}  {r.charts} in {r.chart_seconds:.1f}s"
        )
    if len(results) == 2 and results[0].compose:
        print(f"PostgreSQL / SQLite compose time: {results[1].compose / results[0].compose:.2f}x")
    print(f"goal: compose <= {GOAL_SECONDS:g} s (no Slack time; charts are drawn when digests are queued)")
    for r in results:
        print(f"{r.backend}: {'goal met' if r.goal_met() else 'GOAL MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_organisation_arguments(parser)
    args = parser.parse_args()
    print(f"before: {load()}")
    results: list[Result] = []
    with sqlite_database(args.sqlite) as url:
        seconds = seed(url, args.members, args.teams, args.weeks)
        results.append(measure("SQLite", url, seconds))
    if args.pg and not args.no_pg:
        with postgres_database(args.pg) as url:
            seconds = seed(url, args.members, args.teams, args.weeks)
            analyze(url)
            results.append(measure("PostgreSQL", url, seconds))
    else:
        print("PostgreSQL skipped: pass --pg URL or set TEST_DATABASE_URL", file=sys.stderr)
    report(results, args.members, args.teams, args.weeks)
    print(f"after: {load()}")
    return 0 if all(r.goal_met() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
