"""Two `adoptbot tick` processes at the same moment, on the same database, send each nudge once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.db import session_scope
from bot.models import NudgeDelivery
from bot.nudges.service import deliver_due
from tests.support.factories import add_person, add_team
from tests.support.fake_slack import FakeSlack
from tests.test_nudges_world import LONG_AGO, deliver, make_library, nudge_keys

PEOPLE = 25

CONTENT = {
    "roles.toml": '[roles.sales]\nname = "Sales"\n',
    "nudges/sales.toml": "".join(
        f'[[nudge]]\nid = "sales-{i}"\nroles = ["sales"]\nlevel = 1\nstage = "knowledge"\n'
        f'title = "Sales nudge {i}"\nbody = "Try drafting a follow-up with AI."\n'
        'try_it = "Paste your call notes and ask for a follow-up email."\nminutes = 5\n\n'
        for i in range(3)
    ),
    "pulses/adkar.toml": 'id = "adkar"\ntitle = "Pulse"\ncadence_weeks = 2\n\n'
    '[[question]]\nid = "q1"\ntext = "I know how to use AI."\nkind = "scale"\nstage = "knowledge"\n',
}


def _content(folder: Path) -> Path:
    for name, text in CONTENT.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_two_ticks_at_once_send_each_nudge_once(
    engine: Engine, db_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        for i in range(PEOPLE):
            add_person(session, f"U{i:08d}", timezone="Europe/Berlin", team=team, created_at=LONG_AGO)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake_slack.url,
        "CONTENT_DIR": str(_content(tmp_path / "content")),
        "ADOPTBOT_SEND_RATE": "100",
    }
    command = [sys.executable, "-m", "bot", "tick", "--now", "2026-11-24T10:10:00+01:00"]
    ticks = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = []
    for tick in ticks:
        out, err = tick.communicate(timeout=120)
        assert tick.returncode == 0, err or out
        outputs.append(out)
    keys = _nudge_keys(fake_slack)
    assert len(keys) == PEOPLE and len(set(keys)) == PEOPLE
    assert all("queued" in out for out in outputs)
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(NudgeDelivery)) == PEOPLE
        unsent = select(func.count()).select_from(NudgeDelivery).where(NudgeDelivery.sent_at.is_(None))
        assert session.scalar(unsent) == 0
    # And a third tick later in the same hour finds nothing to do.
    again = subprocess.run(
        [*command[:-1], "2026-11-24T10:45:00+01:00"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    assert len(_nudge_keys(fake_slack)) == PEOPLE


def _nudge_keys(fake: FakeSlack) -> list[str]:
    """The outbox key of every nudge DM in the fake workspace (a duplicate would appear twice)."""
    keys = [str((m.metadata or {}).get("event_payload", {}).get("key", "")) for m in fake.messages()]
    return [k for k in keys if k.startswith("nudge:")]


def test_a_tick_that_runs_while_another_holds_its_transaction_queues_nothing(engine: Engine) -> None:
    """The database decides: the second tick waits for the first (row lock on PostgreSQL, the write lock on
    SQLite), then finds the slot claimed."""
    with session_scope(engine) as session:
        person = add_person(session, "UBERLIN01", timezone="Europe/Berlin", team=None, created_at=LONG_AGO).id
    library = make_library()
    now = datetime(2026, 11, 24, 9, 10)
    second: list[int] = []
    with session_scope(engine) as first:
        assert deliver_due(first, Settings(), library, now) == 1
        thread = threading.Thread(target=lambda: second.append(deliver(engine, Settings(), library, now)))
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive()  # waiting for the first transaction
    thread.join(timeout=30)
    assert second == [0]
    assert nudge_keys(engine) == [f"nudge:{person}:2026-11-24"]
