"""Broadcast benchmark: one broadcast to 10,000 people through a fake Slack that allows 50 messages a second.

    .venv/bin/python benchmarks/broadcast.py                         # SQLite
    .venv/bin/python benchmarks/broadcast.py --pg postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/broadcast.py --people 1000           # a quick run

What is timed is what a change manager waits for after pressing Send: `broadcasts.confirm` (resolve the
audience, insert the recipients and 10,000 outbox messages, queue the status DM) and then the outbox
draining it all, paced (`outbox.drain`, as `adoptbot tick` and the server's worker run it), with the status
DM edited as it goes by the on_sent hook. The fake Slack runs in its own process
(`python -m tests.support.fake_slack --rate-limit chat.postMessage=50`: beyond 50 a second it answers
429 + Retry-After); ADOPTBOT_SEND_RATE is 50. The organisation also holds 1% inactive and 1% unreachable
people in the audience, who must be skipped and counted.

Reported: wall time against the floor (people reached / rate; goal <= 1.1x), duplicates and losses counted
by outbox key from what the fake received (goal 0 and 0), the 429s it sent, the status DM's final text and
how many times it was edited.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from scratch import fake_slack_server, fetch, scratch_database  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bot import outbox  # noqa: E402
from bot.broadcasts import service as broadcasts  # noqa: E402
from bot.clock import utcnow  # noqa: E402
from bot.config import Settings  # noqa: E402
from bot.content import load_library  # noqa: E402
from bot.db import create_db_engine, session_scope  # noqa: E402
from bot.migrate import upgrade  # noqa: E402
from bot.models import BroadcastRecipient, OutboxMessage, Person, Team  # noqa: E402
from bot.slack.client import make_web_client  # noqa: E402

SENDER = "UBENCHCM1"
TEAMS = 50


def seed(url: str, people: int) -> int:
    """`people` reachable people in TEAMS teams, plus 1% inactive and 1% unreachable; the draft's id."""
    engine = create_db_engine(url)
    upgrade(engine)
    skipped = max(1, people // 100)
    with session_scope(engine) as session:
        team_ids = list(
            session.scalars(
                insert(Team).returning(Team.id, sort_by_parameter_order=True),
                [{"name": f"Team {i:02d}", "created_at": datetime(2026, 1, 1)} for i in range(TEAMS)],
            )
        )
        rows = [
            {
                "slack_user_id": f"U{i:08d}",
                "name": f"Person {i}",
                "team_id": team_ids[i % TEAMS],
                "role": "operations",
                "is_active": not people <= i < people + skipped,
                "unreachable_reason": "cannot_dm_bot" if i >= people + skipped else None,
                "is_change_manager": False,
                "leads_all": False,
                "nudge_level": 1,
                "created_at": datetime(2026, 1, 1),
                "updated_at": datetime(2026, 1, 1),
            }
            for i in range(people + 2 * skipped)
        ]
        for start in range(0, len(rows), 5000):
            session.execute(insert(Person), rows[start : start + 5000])
        draft = broadcasts.Draft(
            text="*Our AI policy is live.* Read it before Friday, and press Got it so we know it landed.",
            audience=broadcasts.Audience(everyone=True),
            channel=None,
            send_at=None,
            ask_ack=True,
            reminder_days=None,
        )
        made = broadcasts.save_draft(
            session, draft, sender=None, sender_user=SENDER, timezone="Europe/Paris", library=load_library()
        )
        broadcast_id = made.id
    engine.dispose()
    return broadcast_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=50.0, help="fake Slack's limit and ADOPTBOT_SEND_RATE")
    parser.add_argument("--pg", metavar="URL", help="PostgreSQL server to create a scratch database on")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="adoptbot-bench-"))
    with scratch_database(args.pg, folder) as url, fake_slack_server(args.rate) as api_url:
        root = api_url.removesuffix("api/")
        broadcast_id = seed(url, args.people)
        engine = create_db_engine(url)
        settings = dataclasses.replace(
            Settings(),
            database_url=url,
            slack_bot_token="xoxb-bench",
            slack_api_url=api_url,
            send_rate=args.rate,
        )
        client = make_web_client(settings, retry_rate_limits=False)
        outbox.drain(engine, client, settings)  # the preview DM, sent before anyone presses Send
        library = load_library()

        started, started_at = time.monotonic(), utcnow()
        with session_scope(engine) as session:
            assert broadcasts.confirm(session, broadcast_id, now=utcnow(), library=library) is not None
        fanned_out = time.monotonic() - started
        report = outbox.drain(engine, client, settings)
        wall = time.monotonic() - started

        messages = fetch(root + "_fake/messages")["messages"]
        assert isinstance(messages, list)
        received = Counter(
            str(((m.get("metadata") or {}).get("event_payload") or {}).get("key")) for m in messages
        )
        with session_scope(engine, readonly=True) as session:
            keys = list(
                session.scalars(
                    select(BroadcastRecipient.outbox_key).where(
                        BroadcastRecipient.broadcast_id == broadcast_id
                    )
                )
            )
            last_dm = session.scalar(
                select(func.max(OutboxMessage.sent_at)).where(OutboxMessage.kind == broadcasts.KIND)
            )
            states = dict(
                session.execute(
                    select(OutboxMessage.state, func.count())
                    .where(OutboxMessage.kind == broadcasts.KIND)
                    .group_by(OutboxMessage.state)
                ).all()
            )
        engine.dispose()
        duplicates = sum(n - 1 for key, n in received.items() if key.startswith("broadcast") and n > 1)
        lost = sum(1 for key in keys if received[key] == 0)
        status_key = broadcasts.status_key(broadcast_id)
        [status] = [m for m in messages if _key(m) == status_key]
        stats = fetch(root + "_fake/stats")
        rejected = _counter(stats, "rejected").get("chat.postMessage", 0)
        floor = len(keys) / args.rate
        database = "PostgreSQL" if args.pg else "SQLite"
        print(
            f"broadcast to {len(keys)} people ({database}), send_rate {args.rate:g}/s, fake Slack limit "
            f"{args.rate:g}/s; {args.people // 100 * 2} inactive or unreachable in the audience"
        )
        print(f"fan-out (Send -> {len(keys)} DMs queued): {fanned_out:.2f} s; drain: {report}")
        last = (last_dm - started_at).total_seconds() if last_dm else float("nan")
        print(
            f"last DM recorded sent {last:.1f} s after Send; the final status edit and the drain's end follow"
        )
        print(f"wall {wall:.1f} s, floor {floor:.1f} s, ratio {wall / floor:.3f}x (goal <= 1.1x)")
        print(f"duplicates {duplicates}, lost {lost}, 429s received {rejected}, DM states {states}")
        updates = _counter(stats, "ok_calls").get("chat.update", 0)
        print(f"status DM says {status['text']!r}; chat.update calls (status and preview): {updates}")
        return 0 if duplicates == 0 and lost == 0 else 1


def _counter(stats: dict[str, object], name: str) -> dict[str, int]:
    found = stats.get(name)
    return {str(k): int(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _key(message: dict[str, object]) -> str:
    metadata = message.get("metadata") or {}
    assert isinstance(metadata, dict)
    return str((metadata.get("event_payload") or {}).get("key"))


if __name__ == "__main__":
    sys.exit(main())
