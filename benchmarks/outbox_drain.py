"""Outbox drain benchmark: 2,000 DMs to 2,000 people through a fake Slack that allows 50 messages a second.

    .venv/bin/python benchmarks/outbox_drain.py                      # SQLite, one process
    .venv/bin/python benchmarks/outbox_drain.py --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/outbox_drain.py --processes 2        # two `adoptbot tick` at once
    .venv/bin/python benchmarks/outbox_drain.py --latency 0.15       # Slack answering in 150 ms

The fake Slack runs in its own process (`python -m tests.support.fake_slack`) with
`rate_limit("chat.postMessage", per_second=50)`: beyond 50 a second it answers 429 + Retry-After.
ADOPTBOT_SEND_RATE is 50. Reported: wall time against the floor (messages / rate; goal <= 1.1x),
duplicates and losses counted from what the fake received (goal 0 and 0), and the 429s it sent.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch import fake_slack_server, fetch, scratch_database  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bot import outbox  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.db import create_db_engine, session_scope  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import OutboxMessage  # noqa: E402
from bot.slack.client import make_web_client  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=50.0, help="fake Slack's limit and ADOPTBOT_SEND_RATE")
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL server to create a scratch database on")
    parser.add_argument("--processes", type=int, default=1, help="drain with N `adoptbot tick` processes")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the fake takes to answer a post")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="adoptbot-bench-"))
    with scratch_database(args.pg, folder) as url, fake_slack_server(args.rate, args.latency) as api_url:
        engine = create_db_engine(url)
        upgrade(engine)
        keys = [f"bench:{i}" for i in range(args.messages)]
        with session_scope(engine) as session:
            for i, key in enumerate(keys):
                outbox.enqueue(
                    session, key=key, kind="bench", channel=f"U{i:06d}", text=f"Tip of the day #{i}"
                )
        settings = dataclasses.replace(
            Settings(),
            database_url=url,
            slack_bot_token="xoxb-bench",
            slack_api_url=api_url,
            send_rate=args.rate,
        )
        started, started_wall = time.monotonic(), time.time()
        if args.processes <= 1:
            report = outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)
            summary = f"drain: {report}"
        else:
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ADOPTBOT_", "DATABASE_"))
            }
            env |= {
                "SLACK_BOT_TOKEN": "xoxb-bench",
                "SLACK_API_URL": api_url,
                "ADOPTBOT_SEND_RATE": str(args.rate),
            }
            runs = [
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "tick", "--db", url],
                    cwd=folder,
                    env=env,
                    text=True,
                    stdout=subprocess.PIPE,
                )
                for _ in range(args.processes)
            ]
            summary = "ticks: " + " | ".join(run.communicate()[0].strip() for run in runs)
        wall = time.monotonic() - started

        root = api_url.removesuffix("api/")
        posted: list[dict[str, Any]] = fetch(root + "_fake/messages")["messages"]  # type: ignore[assignment]
        received = Counter(
            str(((m.get("metadata") or {}).get("event_payload") or {}).get("key")) for m in posted
        )
        stamps = sorted(float(m["ts"]) for m in posted)
        stats = fetch(root + "_fake/stats")
        duplicates = sum(n - 1 for n in received.values() if n > 1)
        lost = sum(1 for key in keys if received[key] == 0)
        with session_scope(engine, readonly=True) as session:
            states = dict(
                session.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all()
            )
        engine.dispose()
        floor = args.messages / args.rate
        rejected = (stats.get("rejected") or {}).get("chat.postMessage", 0)  # type: ignore[union-attr]
        database = "PostgreSQL" if args.pg else "SQLite"
        print(
            f"{args.messages} DMs, {args.processes} process(es), {database}, send_rate {args.rate:g}/s, "
            f"fake Slack limit {args.rate:g}/s, reply latency {args.latency * 1000:.0f} ms"
        )
        print(summary)
        print(f"wall {wall:.1f} s, floor {floor:.1f} s, ratio {wall / floor:.3f}x (goal <= 1.1x)")
        if len(stamps) > 1:
            span = stamps[-1] - stamps[0]
            print(
                f"first post {stamps[0] - started_wall:.2f} s after the start; posts spanned {span:.1f} s "
                f"= {span / ((len(stamps) - 1) / args.rate):.3f}x the pacing floor"
            )
        print(f"duplicates {duplicates}, lost {lost}, 429s received {rejected}, outbox states {states}")
        return 0 if duplicates == 0 and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
