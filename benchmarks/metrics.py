"""Metrics benchmark: `adoptbot metrics --format json` for one week of a 10,000-person organisation.

    .venv/bin/python benchmarks/metrics.py                      # SQLite, and PostgreSQL if TEST_DATABASE_URL
    .venv/bin/python benchmarks/metrics.py --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/metrics.py --members 1000 --teams 20 --weeks 8 --no-pg   # a quick run

Each database is seeded with `adoptbot demo --db URL --members 10000 --teams 100 --weeks 26` (pulses every
other week, nudges, wins, usage reports of two AI tools): a SQLite file in a temporary folder, and a
scratch database created on the PostgreSQL server of `--pg` (default: TEST_DATABASE_URL) and dropped
afterwards (after seeding it is VACUUM ANALYZEd, as autovacuum would do). Then, for the last complete week:

- in-process: `compute_metrics(...)` + JSON, median of 7 runs after one warm-up (engine connected);
- CLI: `python -m bot metrics --db URL --format json` as a subprocess, median wall time of 3 runs (Python
  start, imports, the migration check and the query), and the peak RSS of that process (`wait4` rusage);
- a single hand-written SQL statement computing the same aggregates (members, nudges, engagement, wins,
  invitations, respondents, ADKAR sums and usage for the current and previous run, licences and measured
  activity from the usage reports, per team), median of 7:
  the floor the engine's handful of queries is compared with (ratio = in-process / hand-written).

Goals (issue 5): each time <= 2 s, ratio <= 1.5x, peak RSS <= 300 MB. Exit 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch import add_organisation_arguments, postgres_database  # noqa: E402
from sqlalchemy import Date, DateTime, bindparam, create_engine, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.config import Settings, normalise_database_url  # noqa: E402
from bot.db import create_db_engine  # noqa: E402
from bot.metrics import sql as metrics_sql  # noqa: E402
from bot.metrics.format import to_json  # noqa: E402
from bot.metrics.service import compute_metrics, last_complete_week  # noqa: E402

GOAL_SECONDS = 2.0
GOAL_RATIO = 1.5
GOAL_RSS_MB = 300.0

# One statement, written by hand: everything the metrics need for one week, per team.
HAND_WRITTEN = text(
    """
WITH runs AS (
    SELECT id, ROW_NUMBER() OVER (ORDER BY opened_at DESC, id DESC) AS n
    FROM pulse_runs WHERE opened_at < :end
),
members AS (
    SELECT team_id, COUNT(*) AS members
    FROM people WHERE is_active = :yes AND created_at < :end GROUP BY team_id
),
nudges AS (
    SELECT team_id, COUNT(*) AS sent, COUNT(DISTINCT person_id) AS reached,
           SUM(CASE WHEN status = 'tried' THEN 1 ELSE 0 END) AS tried
    FROM nudge_deliveries WHERE sent_at >= :start AND sent_at < :end GROUP BY team_id
),
engaged AS (
    SELECT team_id, COUNT(DISTINCT CASE WHEN occurred_at >= :start THEN person_id END) AS engaged,
           COUNT(DISTINCT person_id) AS active
    FROM activity
    WHERE occurred_at >= :active_start AND occurred_at < :end AND kind IN ('nudge_tried', 'win', 'ack')
    GROUP BY team_id
),
won AS (
    SELECT team_id, COUNT(*) AS wins, SUM(hours_per_week) AS hours
    FROM wins WHERE status = 'approved' AND submitted_at >= :start AND submitted_at < :end GROUP BY team_id
),
invited AS (
    SELECT i.team_id, COUNT(*) AS invited
    FROM pulse_invitations i JOIN runs ON runs.id = i.run_id AND runs.n = 1 GROUP BY i.team_id
),
respondents AS (
    SELECT r.team_id,
           SUM(CASE WHEN runs.n = 1 THEN 1 ELSE 0 END) AS now_n,
           SUM(CASE WHEN runs.n = 2 THEN 1 ELSE 0 END) AS prev_n
    FROM pulse_responses r JOIN runs ON runs.id = r.run_id AND runs.n <= 2 GROUP BY r.team_id
),
answers AS (
    SELECT r.team_id,
           SUM(CASE WHEN runs.n = 1 AND a.stage = 'awareness' THEN a.value END) AS a_s,
           COUNT(CASE WHEN runs.n = 1 AND a.stage = 'awareness' THEN a.value END) AS a_c,
           SUM(CASE WHEN runs.n = 1 AND a.stage = 'desire' THEN a.value END) AS d_s,
           COUNT(CASE WHEN runs.n = 1 AND a.stage = 'desire' THEN a.value END) AS d_c,
           SUM(CASE WHEN runs.n = 1 AND a.stage = 'knowledge' THEN a.value END) AS k_s,
           COUNT(CASE WHEN runs.n = 1 AND a.stage = 'knowledge' THEN a.value END) AS k_c,
           SUM(CASE WHEN runs.n = 1 AND a.stage = 'ability' THEN a.value END) AS ab_s,
           COUNT(CASE WHEN runs.n = 1 AND a.stage = 'ability' THEN a.value END) AS ab_c,
           SUM(CASE WHEN runs.n = 1 AND a.stage = 'reinforcement' THEN a.value END) AS r_s,
           COUNT(CASE WHEN runs.n = 1 AND a.stage = 'reinforcement' THEN a.value END) AS r_c,
           COUNT(CASE WHEN runs.n = 1 AND a.metric = 'usage' THEN a.value END) AS u_c,
           SUM(CASE WHEN runs.n = 1 AND a.metric = 'usage' AND a.value > 0 THEN 1 ELSE 0 END) AS u_used,
           SUM(CASE WHEN runs.n = 2 AND a.stage IS NOT NULL THEN a.value END) AS prev_s,
           COUNT(CASE WHEN runs.n = 2 AND a.stage IS NOT NULL THEN a.value END) AS prev_c
    FROM pulse_answers a
    JOIN pulse_responses r ON r.id = a.response_id
    JOIN runs ON runs.id = r.run_id AND runs.n <= 2
    WHERE a.value IS NOT NULL AND (a.stage IS NOT NULL OR a.metric = 'usage')
    GROUP BY r.team_id
),
usage AS (
    SELECT f.person_id, p.team_id, f.tool,
           MAX(CASE WHEN f.week = :week AND f.active = :yes THEN 1 ELSE 0 END) AS active_now,
           MAX(CASE WHEN f.active = :yes THEN 1 ELSE 0 END) AS active_recently
    FROM usage_facts f JOIN people p ON p.id = f.person_id
    WHERE f.week >= :first_week AND f.week <= :week AND p.is_active = :yes AND p.created_at < :end
    GROUP BY f.person_id, p.team_id, f.tool
    HAVING MAX(CASE WHEN f.week = :week AND f.licensed = :yes THEN 1 ELSE 0 END) = 1
),
measured AS (
    SELECT team_id, COUNT(DISTINCT person_id) AS licensed,
           COUNT(DISTINCT CASE WHEN active_now = 1 THEN person_id END) AS measured_active,
           SUM(1 - active_recently) AS idle
    FROM usage GROUP BY team_id
)
SELECT t.id, t.name, members.members, nudges.sent, nudges.reached, nudges.tried, engaged.engaged,
       engaged.active,
       won.wins, won.hours, invited.invited, respondents.now_n, respondents.prev_n,
       answers.a_s, answers.a_c, answers.d_s, answers.d_c, answers.k_s, answers.k_c,
       answers.ab_s, answers.ab_c, answers.r_s, answers.r_c, answers.u_c, answers.u_used,
       answers.prev_s, answers.prev_c, measured.licensed, measured.measured_active, measured.idle
FROM teams t
LEFT JOIN members ON members.team_id = t.id
LEFT JOIN nudges ON nudges.team_id = t.id
LEFT JOIN engaged ON engaged.team_id = t.id
LEFT JOIN won ON won.team_id = t.id
LEFT JOIN invited ON invited.team_id = t.id
LEFT JOIN respondents ON respondents.team_id = t.id
LEFT JOIN answers ON answers.team_id = t.id
LEFT JOIN measured ON measured.team_id = t.id
ORDER BY t.name
"""
).bindparams(
    bindparam("start", type_=DateTime()),
    bindparam("end", type_=DateTime()),
    bindparam("active_start", type_=DateTime()),
    bindparam("week", type_=Date()),
    bindparam("first_week", type_=Date()),
)


@dataclass
class Result:
    backend: str
    seed_seconds: float
    in_process: float
    cli: float
    cli_rss_mb: float
    hand_written: float
    rows: int
    suppressed: int
    licensed: int  # the `*` row's licensed people: measured figures were computed (0: no usage facts)

    @property
    def ratio(self) -> float:
        return self.in_process / self.hand_written if self.hand_written else float("inf")

    def goals_met(self) -> bool:
        return (
            self.in_process <= GOAL_SECONDS
            and self.cli <= GOAL_SECONDS
            and self.ratio <= GOAL_RATIO
            and self.cli_rss_mb <= GOAL_RSS_MB
        )


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def seed(url: str, members: int, teams: int, weeks: int) -> float:
    command = [
        sys.executable,
        "-m",
        "bot",
        "demo",
        "--db",
        url,
        "--members",
        str(members),
        "--teams",
        str(teams),
        "--weeks",
        str(weeks),
    ]
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"seeding failed: {done.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - began


def run_cli(url: str, week: str) -> tuple[float, float, list[dict[str, Any]]]:
    """(wall seconds, peak RSS in MB, parsed output) of one `adoptbot metrics` subprocess."""
    command = [sys.executable, "-m", "bot", "metrics", "--db", url, "--week", week, "--format", "json"]
    with tempfile.TemporaryFile() as out:
        began = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            assert process.stderr is not None
            raise SystemExit(f"adoptbot metrics failed: {process.stderr.read().decode().strip()}")
        out.seek(0)
        rows = json.loads(out.read())
    if process.stderr is not None:
        process.stderr.close()
    return wall, usage.ru_maxrss / 1024, rows  # Linux: ru_maxrss is in kilobytes


def measure(backend: str, url: str, seed_seconds: float) -> Result:
    settings = Settings()
    monday = last_complete_week(settings)
    week = monday.isocalendar()
    week_name = f"{week[0]}-W{week[1]:02d}"
    engine = create_db_engine(url)
    readonly = engine.execution_options(readonly=True)
    start, end = metrics_sql.week_window(monday, settings.tz)
    active_start, _ = metrics_sql.week_window(
        monday - timedelta(weeks=metrics_sql.ACTIVE_WEEKS - 1), settings.tz
    )

    def in_process() -> str:
        with Session(readonly) as session:
            return to_json(compute_metrics(session, week_monday=monday, settings=settings))

    def hand_written() -> list[Any]:
        with Session(readonly) as session:
            params = {
                "start": start,
                "end": end,
                "active_start": active_start,
                "yes": True,
                "week": monday,
                "first_week": monday - timedelta(weeks=metrics_sql.ACTIVE_WEEKS - 1),
            }
            return list(session.execute(HAND_WRITTEN, params))

    output = json.loads(in_process())  # warm-up: connection, first compile
    floor_rows = hand_written()
    check_same(output, floor_rows)
    engine_time = median_time(in_process, 7)
    floor_time = median_time(hand_written, 7)
    engine.dispose()
    cli_runs = [run_cli(url, week_name) for _ in range(3)]
    assert cli_runs[0][2] == output, "the CLI and the in-process call disagree"
    return Result(
        backend=backend,
        seed_seconds=seed_seconds,
        in_process=engine_time,
        cli=statistics.median(r[0] for r in cli_runs),
        cli_rss_mb=max(r[1] for r in cli_runs),
        hand_written=floor_time,
        rows=len(output),
        suppressed=sum(1 for r in output if r["suppressed"]),
        licensed=next(r["licensed"] or 0 for r in output if r["team"] == "*"),
    )


def check_same(output: list[dict[str, Any]], floor_rows: list[Any]) -> None:
    """The hand-written query must do the same work: spot-check its figures against the engine's."""
    by_team = {r["team"]: r for r in output}
    for row in floor_rows:
        shown = by_team[row.name]
        assert (row.members or 0) == shown["members"], row.name
        assert (row.engaged or 0) == shown["engaged"], row.name
        if shown["active_28d"] is not None:
            assert (row.active or 0) == shown["active_28d"], row.name
        if shown["licensed"] is not None:
            assert (row.licensed, row.measured_active) == (shown["licensed"], shown["measured_active"]), (
                row.name
            )
        assert (row.now_n or 0) == (shown["respondents"] or 0), row.name
        if shown["awareness"] is not None:
            assert abs(row.a_s / row.a_c - shown["awareness"]) < 0.006, row.name


@contextmanager
def sqlite_database(path: str | None) -> Iterator[str]:
    if path:
        yield f"sqlite:///{Path(path).resolve()}"
        return
    with tempfile.TemporaryDirectory(prefix="adoptbot-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'metrics.db'}"


def analyze(url: str) -> None:
    """What autovacuum does soon after a bulk load: fresh planner statistics and a visibility map.

    Measuring in the minute after a million-row insert would time autovacuum and stale estimates, not
    the product; a live installation's tables grow a week at a time and are analysed as they go.
    """
    engine = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def report(results: list[Result], members: int, teams: int, weeks: int) -> None:
    print(f"\nMetrics for one week: {members:,} people, {teams} teams, {weeks} weeks of history")
    print(
        f"{'':<11}{'seed':>9}{'in-process':>12}{'CLI':>9}{'1 SQL':>9}{'ratio':>8}{'CLI RSS':>10}"
        "  rows (hidden)  licensed"
    )
    for r in results:
        print(
            f"{r.backend:<11}{r.seed_seconds:>8.1f}s{r.in_process:>11.3f}s{r.cli:>8.3f}s{r.hand_written:>8.3f}s"
            f"{r.ratio:>7.2f}x{r.cli_rss_mb:>7.0f} MB  {r.rows} ({r.suppressed})  {r.licensed:,}"
        )
    print(
        f"goals: in-process and CLI <= {GOAL_SECONDS:g} s, ratio <= {GOAL_RATIO:g}x, "
        f"peak RSS <= {GOAL_RSS_MB:g} MB"
    )
    for r in results:
        print(f"{r.backend}: {'all goals met' if r.goals_met() else 'GOAL MISSED'}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_organisation_arguments(parser)
    args = parser.parse_args()
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
    return 0 if all(r.goals_met() for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
