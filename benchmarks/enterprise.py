"""Enterprise scale: 100,000 people, 1,000 teams and 52 weeks of history on PostgreSQL.

    .venv/bin/python benchmarks/enterprise.py   # seeds a scratch database on TEST_DATABASE_URL's server
    .venv/bin/python benchmarks/enterprise.py --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/enterprise.py --db postgresql://.../seeded   # measure a seeded database
    .venv/bin/python benchmarks/enterprise.py --members 10000 --teams 100 --weeks 8   # a quick run
    .venv/bin/python benchmarks/enterprise.py --db URL --steps metrics,tick   # some steps only

The database is seeded with `adoptbot demo --db URL --members 100000 --teams 1000 --weeks 52` (timed: the
first figure), then VACUUM ANALYZEd, as autovacuum would soon do, and CHECKPOINTed (so that no step's
figure includes writing to disk what the seeding or another step's setup left in memory). Each step then
runs on it, in order:

- metrics: `python -m bot metrics --db URL --format json` for the last complete week, as a subprocess:
  median wall time of 3 runs, and the peak RSS of that process (`wait4`'s rusage). Goals 2 s, 500 MB.
- digests: every leader's digest composed as the weekly job does before queueing (metrics for the trend's
  weeks, wins, tools, comment summaries, narrative, Block Kit and CSV). The demo makes each team's first
  member its lead and a sponsor who leads all; this benchmark adds heads of ten teams each to reach
  1,100 leaders (1,000 teams: 1,000 leads, 99 heads, the sponsor), plus the org-wide digest. Goal 15 s.
- nudge tick: the nudges job as the scheduler runs it (`deliver_due` and its commits: who is due, their
  history, the teams' barriers, choosing, inserting the deliveries, queueing the outbox messages; on
  PostgreSQL two halves of the due people at once, each in a transaction of its own) at Tuesday 10:10 in
  Europe/Berlin of the current week, with 20,000 active people (a fifth) moved to Europe/Berlin and the
  rest to zones where it is not the nudge hour: 20,000 due. The median of 3 ticks, each after the last
  one's deliveries and messages are deleted again and the database VACUUM ANALYZEd and CHECKPOINTed.
  Goal 3 s.
- roster import: the people exported as a roster CSV (Slack ID, email, name, team, role, time zone,
  leads, change manager) with a tenth given another role, read and imported as `adoptbot roster import`
  does, in one transaction. Goal 20 s.

The database is changed by these steps (leaders added, time zones moved, a tick's deliveries, the
import); a scratch database is dropped at the end, one given with `--db` is kept. Ack latency at this
size: `benchmarks/ack_latency.py --db URL` against the same database. Exit 1 if a goal is missed.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch import create_postgres_database, drop_database  # noqa: E402
from sqlalchemy import create_engine, delete, func, select, text, update  # noqa: E402
from sqlalchemy.exc import DBAPIError  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot import clock  # noqa: E402
from bot.clock import to_naive_utc  # noqa: E402
from bot.config import Settings, normalise_database_url  # noqa: E402
from bot.content import load_library  # noqa: E402
from bot.db import create_db_engine, session_scope  # noqa: E402
from bot.digest import delivery as digest_delivery  # noqa: E402
from bot.digest.blocks import digest_message  # noqa: E402
from bot.digest.service import ORGANISATION, DigestSource, compose_many  # noqa: E402
from bot.metrics.format import to_csv  # noqa: E402
from bot.metrics.service import last_complete_week  # noqa: E402
from bot.models import NudgeDelivery, OutboxMessage, Person, Team, TeamLead  # noqa: E402
from bot.nudges.service import deliver_due  # noqa: E402
from bot.people.roster import ROSTER_COLUMNS, import_roster, read_roster  # noqa: E402

GOALS = {"seed": 600.0, "metrics": 2.0, "metrics RSS (MB)": 500.0, "digests": 15.0, "nudge tick": 3.0}
GOALS["roster import"] = 20.0
STEPS = ("metrics", "digests", "tick", "roster")
DUE = 20_000
DUE_ZONE = "Europe/Berlin"
OTHER_ZONES = ("America/Los_Angeles", "America/New_York", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney")
HEADS_TEAMS = 10  # teams each added head leads
TICK_RUNS = 3  # the tick's figure is their median


def timed(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return time.perf_counter() - began


def seed(url: str, members: int, teams: int, weeks: int) -> float:
    command = [sys.executable, "-m", "bot", "demo", "--db", url]
    command += ["--members", str(members), "--teams", str(teams), "--weeks", str(weeks)]
    with tempfile.TemporaryDirectory(prefix="adoptbot-bench-") as out:
        began = time.perf_counter()
        done = subprocess.run([*command, "--out", out], cwd=ROOT, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"seeding failed: {done.stderr.strip().splitlines()[-1:]}")
    for line in done.stderr.splitlines():
        if line.startswith("demo:") and "(" in line:
            print(f"    {line}")
    return seconds


def analyze(url: str) -> None:
    engine = create_engine(normalise_database_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
        try:  # what the setup and the vacuum wrote goes to disk now, not during the next step's timing
            connection.execute(text("CHECKPOINT"))
        except DBAPIError:
            print("    (CHECKPOINT needs a superuser or pg_checkpoint: the next figure may include it)")
    engine.dispose()


def metrics_cli(url: str, week: str) -> tuple[float, float, int]:
    """(wall seconds, peak RSS in MB, rows) of one `adoptbot metrics` subprocess."""
    command = [sys.executable, "-m", "bot", "metrics", "--db", url, "--week", week, "--format", "json"]
    with tempfile.TemporaryFile() as out:
        began = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        assert process.stderr is not None
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"adoptbot metrics failed: {process.stderr.read().decode().strip()}")
        process.stderr.close()
        out.seek(0)
        rows = json.loads(out.read())
    return wall, usage.ru_maxrss / 1024, len(rows)


def add_heads(url: str) -> int:
    """Heads of ten teams each, up to 1,100 leaders for 1,000 teams; return how many people lead."""
    engine = create_db_engine(url)
    with session_scope(engine) as session:
        teams = list(session.scalars(select(Team.id).order_by(Team.id)))
        leading = set(session.scalars(select(TeamLead.person_id))) | set(
            session.scalars(select(Person.id).where(Person.leads_all))
        )
        several = select(TeamLead.person_id).group_by(TeamLead.person_id).having(func.count() > 1).subquery()
        already = session.scalar(select(func.count()).select_from(several)) or 0
        wanted = max(0, len(teams) // HEADS_TEAMS - 1 - already)  # none more on a database measured before
        heads = list(
            session.scalars(
                select(Person.id)
                .where(Person.is_active, Person.id.not_in(leading))
                .order_by(Person.id)
                .limit(wanted)
            )
        )
        for index, person_id in enumerate(heads):
            chunk = teams[index * HEADS_TEAMS : (index + 1) * HEADS_TEAMS]
            session.add_all(TeamLead(person_id=person_id, team_id=team) for team in chunk)
        session.flush()
        total = len(set(session.scalars(select(TeamLead.person_id))) | leading)
    engine.dispose()
    return total


def digests(url: str, settings: Settings) -> tuple[float, int]:
    library = load_library()
    engine = create_db_engine(url).execution_options(readonly=True)
    monday = last_complete_week(settings)
    made: list[int] = []

    def compose_all() -> None:
        from bot.clock import utcnow

        with Session(engine) as session:
            leaders = digest_delivery.leaders(session, settings)
            source = DigestSource(session, settings, library, week_monday=monday, now=utcnow())
            composed = compose_many(source, [ORGANISATION, *(leader.audience for leader in leaders)])
            for digest in composed:
                digest_message(digest, command=settings.command)
                to_csv(digest.csv_rows)
            made.append(len(composed))

    seconds = statistics.median(timed(compose_all) for _ in range(2))
    engine.dispose()
    return seconds, made[-1]


def nudge_tick(url: str, settings: Settings) -> tuple[float, int, int]:
    """(seconds, people due, messages queued) of one nudges job at Tuesday 10:10 Berlin this week."""
    library = load_library()
    engine = create_db_engine(url)
    today = clock.local_today(ZoneInfo(DUE_ZONE))
    tuesday = today - timedelta(days=today.weekday()) + timedelta(days=1)
    now = to_naive_utc(
        datetime(tuesday.year, tuesday.month, tuesday.day, settings.nudge_hour, 10, tzinfo=ZoneInfo(DUE_ZONE))
    )
    rng = random.Random(7)
    with session_scope(engine) as session:
        active = list(session.scalars(select(Person.id).where(Person.is_active).order_by(Person.id)))
        due = set(rng.sample(active, min(DUE, len(active))))
        session.execute(update(Person).values(timezone=OTHER_ZONES[0], paused_until=None, away_until=None))
        for zone_index, zone in enumerate(OTHER_ZONES):
            others = [p for i, p in enumerate(active) if p not in due and i % len(OTHER_ZONES) == zone_index]
            for start in range(0, len(others), 10_000):
                chunk = others[start : start + 10_000]
                session.execute(update(Person).where(Person.id.in_(chunk)).values(timezone=zone))
        ordered = sorted(due)
        for start in range(0, len(ordered), 10_000):
            chunk = ordered[start : start + 10_000]
            session.execute(update(Person).where(Person.id.in_(chunk)).values(timezone=DUE_ZONE))
    runs: list[float] = []
    for _ in range(TICK_RUNS):
        with session_scope(engine) as session:
            # a tick measured before: its work is undone, so this one does it again (every message it
            # queued, end-of-library notes included, was created at its frozen `now`)
            session.execute(delete(OutboxMessage).where(OutboxMessage.created_at == now))
            session.execute(delete(NudgeDelivery).where(NudgeDelivery.slot == tuesday.isoformat()))
        analyze(url)
        before = _outbox_count(engine)
        with clock.frozen_at(now):
            began = time.perf_counter()
            with session_scope(engine) as session:
                deliver_due(session, settings, library, now, use_ai=False, apart=True)  # as the job does
            runs.append(time.perf_counter() - began)
        queued = _outbox_count(engine) - before
    engine.dispose()
    print(f"    nudge tick runs: {', '.join(f'{seconds:.2f}' for seconds in runs)} s")
    return statistics.median(runs), len(due), queued


def _outbox_count(engine: object) -> int:
    with session_scope(engine, readonly=True) as session:  # type: ignore[arg-type]
        return int(session.scalar(select(func.count()).select_from(OutboxMessage)) or 0)


def roster_import(url: str) -> tuple[float, str]:
    library = load_library()
    roles = sorted(library.roles)
    engine = create_db_engine(url)
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="adoptbot-bench-") as folder:
        path = Path(folder) / "roster.csv"
        with session_scope(engine, readonly=True) as session, path.open("w", newline="") as handle:
            led: dict[int, list[str]] = {}
            names = {tid: name for tid, name in session.execute(select(Team.id, Team.name))}
            for person_id, team_id in session.execute(select(TeamLead.person_id, TeamLead.team_id)):
                led.setdefault(person_id, []).append(names[team_id])
            writer = csv.writer(handle)
            writer.writerow(ROSTER_COLUMNS)
            query = select(Person).where(
                Person.is_active, Person.team_id.is_not(None), Person.role.is_not(None)
            )
            for person in session.scalars(query.execution_options(yield_per=5000)):
                role = person.role
                if rng.random() < 0.1:
                    role = roles[(roles.index(role) + 1) % len(roles)] if role in roles else roles[0]
                leads = "*" if person.leads_all else ";".join(led.get(person.id, []))
                writer.writerow(
                    [
                        person.slack_user_id or "",
                        person.email or "",
                        person.name,
                        names[person.team_id],  # type: ignore[index]
                        role,
                        person.timezone or "",
                        leads,
                        "true" if person.is_change_manager else "false",
                    ]
                )
        began = time.perf_counter()
        parsed = read_roster(path, roles)
        with session_scope(engine) as session:
            report = import_roster(session, parsed)
        seconds = time.perf_counter() - began
    engine.dispose()
    return seconds, report.summary()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pg", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL server URL")
    parser.add_argument("--db", help="an already seeded database: measure it, do not seed")
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--teams", type=int, default=1_000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help=f"which steps to measure, comma-separated ({','.join(STEPS)})",
    )
    args = parser.parse_args()
    steps = set(args.steps.split(","))
    if steps - set(STEPS):
        raise SystemExit(f"unknown step: {', '.join(sorted(steps - set(STEPS)))} (one of {', '.join(STEPS)})")
    if not args.db and not args.pg:
        raise SystemExit("give --pg URL (or set TEST_DATABASE_URL), or --db URL of a seeded database")
    settings = digest_delivery.without_ai(Settings())
    figures: dict[str, float] = {}
    scratch = None
    url = args.db
    if url is None:
        url, scratch = create_postgres_database(args.pg)
    try:
        if scratch is not None:
            print(f"seeding {args.members:,} people, {args.teams:,} teams, {args.weeks} weeks ...")
            figures["seed"] = seed(url, args.members, args.teams, args.weeks)
            print(f"seed            {figures['seed']:8.1f} s")
        analyze(url)
        week = "{}-W{:02d}".format(*last_complete_week(settings).isocalendar()[:2])
        if "metrics" in steps:
            runs = [metrics_cli(url, week) for _ in range(3)]
            figures["metrics"] = statistics.median(r[0] for r in runs)
            figures["metrics RSS (MB)"] = max(r[1] for r in runs)
            rss = figures["metrics RSS (MB)"]
            print(
                f"metrics         {figures['metrics']:8.2f} s   peak RSS {rss:.0f} MB "
                f"({runs[0][2]} rows, week {week})"
            )
        if "digests" in steps:
            leaders = add_heads(url)
            figures["digests"], composed = digests(url, settings)
            print(
                f"digests         {figures['digests']:8.2f} s   "
                f"{composed:,} digests ({leaders:,} leaders + org-wide)"
            )
        if "tick" in steps:
            figures["nudge tick"], due, queued = nudge_tick(url, settings)
            print(f"nudge tick      {figures['nudge tick']:8.2f} s   {due:,} due, {queued:,} messages queued")
        if "roster" in steps:
            figures["roster import"], summary = roster_import(url)
            print(f"roster import   {figures['roster import']:8.2f} s   {summary}")
    finally:
        if scratch is not None:
            drop_database(args.pg, scratch)
    print("\n| step | figure | goal | ratio |\n|---|---|---|---|")
    missed = []
    for name, value in figures.items():
        goal = GOALS[name]
        unit = "MB" if "MB" in name else "s"
        print(f"| {name} | {value:.2f} {unit} | {goal:g} {unit} | {value / goal:.2f}x |")
        if value > goal:
            missed.append(name)
    if missed:
        print(f"\nmissed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
