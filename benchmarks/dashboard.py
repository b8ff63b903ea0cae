"""Dashboard benchmark: the server time of every page for a 10,000-person, 100-team organisation.

    .venv/bin/python benchmarks/dashboard.py            # SQLite, and PostgreSQL if TEST_DATABASE_URL
    .venv/bin/python benchmarks/dashboard.py --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/dashboard.py --members 1000 --teams 20 --weeks 8 --no-pg   # a quick run

Each database is seeded with `adoptbot demo --db URL --members 10000 --teams 100 --weeks 26` (as the
metrics and digest benchmarks do). The dashboard's Flask application is then built exactly as `adoptbot
serve` mounts it and asked for each page through Werkzeug's test client, signed in as a change manager
(and, for the overview, as a leader of one team): no network and no browser, so what is timed is the
server's work for the request, from routing to the rendered HTML. First the warm-up `adoptbot serve` runs
in the background when a worker starts (the week's figures of the overview) is timed; then each page is
asked once (the first request) and RUNS times more; the median of those is the figure.

Goal (issue 17): every page <= 300 ms server time. The ratio printed is median / 300 ms. Exit 1 if a page
misses it. The machine's load average is printed before and after.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from metrics import analyze, postgres_database, seed, sqlite_database  # noqa: E402
from scratch import add_organisation_arguments  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bot.clock import utcnow  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.content import load_library  # noqa: E402
from bot.db import create_db_engine, session_scope  # noqa: E402
from bot.models import Person, Team, TeamLead  # noqa: E402

GOAL_SECONDS = 0.3
RUNS = 5


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} CPUs"


def client_for(app: Any, user_id: str) -> Any:
    """A test client whose signed session cookie names `user_id`, signed in now."""
    client = app.test_client()
    with client.session_transaction() as session:
        session.update(uid=user_id, iat=int(utcnow().timestamp()), csrf="benchmark")
    return client


def measure(backend: str, url: str) -> list[tuple[str, float, float]]:
    from bot.dashboard.app import create_app
    from bot.slack.app import build_app
    from bot.slack.runtime import runtime_of
    from bot.wiring import register_listeners
    from tests.support.fake_slack import FakeSlack

    fake = FakeSlack()  # building the Bolt app asks Slack's auth.test once; nothing else reaches it
    settings = dataclasses.replace(
        Settings(),
        slack_api_url=fake.url,
        database_url=url,
        slack_bot_token="xoxb-benchmark",
        slack_signing_secret="benchmark",
        slack_client_id="1.2",
        slack_client_secret="benchmark",
        public_url="https://adoptbot.example.com",
        session_secret="s" * 40,
    )
    engine = create_db_engine(url)
    bolt = build_app(settings, engine, load_library(), listeners=register_listeners, send_replies=False)
    from bot.slack import web

    began = time.perf_counter()
    for thread in web.warm(
        runtime_of(bolt)
    ):  # what `adoptbot serve` starts in each worker, in the background
        thread.join()
    warm_up = time.perf_counter() - began
    app = create_app(runtime_of(bolt))
    app.config["SESSION_COOKIE_PATH"] = "/"  # the test client asks for the pages without the /dashboard mount
    with session_scope(engine, readonly=True) as db:
        manager = db.scalars(select(Person.slack_user_id).where(Person.is_change_manager)).first()
        leader = db.scalars(
            select(Person.slack_user_id)
            .join(TeamLead, TeamLead.person_id == Person.id)
            .where(Person.is_change_manager.is_(False), Person.leads_all.is_(False))
        ).first()
        team_id = db.scalars(select(Team.id).order_by(Team.id)).first()
        someone = db.scalars(select(Person.name).order_by(Person.id.desc())).first() or "a"
    assert manager and leader
    pages = [
        ("overview", manager, "/"),
        ("overview (leader)", leader, "/"),
        ("team", manager, f"/team/{team_id}"),
        ("wins", manager, "/wins"),
        ("pulses", manager, "/pulses"),
        ("broadcasts", manager, "/broadcasts"),
        ("people", manager, "/people"),
        ("people search", manager, f"/people?q={someone.split()[0]}"),
        ("content", manager, "/content"),
        ("exports", manager, "/exports"),
        ("metrics.csv", manager, "/exports/metrics.csv"),
        ("audit", manager, "/audit"),
        ("my progress", manager, "/me"),
    ]
    results = []
    for name, user_id, path in pages:
        client = client_for(app, user_id)
        began = time.perf_counter()
        response = client.get(path)
        first = time.perf_counter() - began
        assert response.status_code == 200, f"{path}: {response.status_code}"
        times = []
        for _ in range(RUNS):
            began = time.perf_counter()
            response = client.get(path)
            times.append(time.perf_counter() - began)
            assert response.status_code == 200
        results.append((name, first, statistics.median(times)))
    engine.dispose()
    fake.stop()
    print(f"\n{backend}: warm-up when a worker starts (in the background) {warm_up:.1f} s")
    print(f"  {'page':<20}{'first':>9}{'median':>9}{'ratio':>8}")
    for name, first, median in results:
        mark = "" if median <= GOAL_SECONDS else "  MISSED"
        print(
            f"  {name:<20}{first * 1000:>7.0f}ms{median * 1000:>7.0f}ms{median / GOAL_SECONDS:>7.2f}x{mark}"
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_organisation_arguments(parser)
    args = parser.parse_args()
    print(f"before: {load()}")
    size = f"{args.members:,} people, {args.teams} teams, {args.weeks} weeks"
    print(f"{size}; goal {GOAL_SECONDS * 1000:.0f} ms a page")
    found: list[tuple[str, float, float]] = []
    with sqlite_database(args.sqlite) as url:
        seconds = seed(url, args.members, args.teams, args.weeks)
        print(f"SQLite seeded in {seconds:.0f} s")
        found += measure("SQLite", url)
    if args.pg and not args.no_pg:
        with postgres_database(args.pg) as url:
            seconds = seed(url, args.members, args.teams, args.weeks)
            analyze(url)
            print(f"PostgreSQL seeded in {seconds:.0f} s")
            found += measure("PostgreSQL", url)
    else:
        print("PostgreSQL skipped: pass --pg URL or set TEST_DATABASE_URL", file=sys.stderr)
    print(f"after: {load()}")
    return 0 if all(median <= GOAL_SECONDS for _, _, median in found) else 1


if __name__ == "__main__":
    sys.exit(main())
