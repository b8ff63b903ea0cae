"""`adoptbot tick --now T` sends what its dry run lists; reminders follow only invitations that went out."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot import clock, outbox
from bot.cli import main
from bot.config import Settings
from bot.content import load_library
from bot.db import session_scope
from bot.models import OutboxMessage, Person
from bot.outbox import drain
from bot.pulses import service as pulses
from bot.slack.client import make_web_client
from tests.support.fake_slack import FakeSlack

LIBRARY = load_library()
WEDNESDAY_8_BERLIN = datetime(2026, 10, 7, 6, 0)  # before the invitations' hour (10:00 local)
LATER_THAT_MORNING = "2026-10-07T09:00:00Z"  # 11:00 in Berlin, 05:00 in New York
MONDAY_10_BERLIN = datetime(2026, 10, 5, 8, 0)
ROSTER = """slack_user_id,name,team,role,timezone
UBER1,Ana Berlin,Sales,sales,Europe/Berlin
UBER2,Ben Berlin,Sales,sales,Europe/Berlin
UNYC1,Nia York,Sales,sales,America/New_York
"""


def slack_env(monkeypatch: pytest.MonkeyPatch, fake: FakeSlack) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", fake.url)
    monkeypatch.setenv("ADOPTBOT_SEND_RATE", "50")


def invited_in_slack(fake: FakeSlack, users: list[str]) -> list[str]:
    return [user for user in users if any(m.text.startswith("Pulse survey") for m in fake.posted_to(user))]


def test_tick_now_sends_exactly_the_invitations_its_dry_run_lists(
    db_url: str,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    (tmp_path / "people.csv").write_text(ROSTER)
    slack_env(monkeypatch, fake_slack)
    clock.set_now(WEDNESDAY_8_BERLIN)
    assert main(["roster", "import", str(tmp_path / "people.csv"), "--db", db_url]) == 0
    assert main(["pulse", "start", "--db", db_url]) == 0
    capsys.readouterr()

    assert main(["tick", "--now", LATER_THAT_MORNING, "--dry-run", "--db", db_url]) == 0
    listed = [line.split()[:2] for line in capsys.readouterr().out.splitlines()[:-1]]
    assert main(["tick", "--now", LATER_THAT_MORNING, "--db", db_url]) == 0

    # New York's invitation (10:00 there) is listed and sent too: the clock was set back to that morning,
    # and what is due by the real time, later, goes as well (the outbox times its own retries in real
    # seconds, so it never waits for a clock that stands still).
    assert listed == [["pulse_invite", "UBER1"], ["pulse_invite", "UBER2"], ["pulse_invite", "UNYC1"]]
    assert capsys.readouterr().out.strip() == "queued 0, sent 3, failed 0"
    assert invited_in_slack(fake_slack, ["UBER1", "UBER2", "UNYC1"]) == ["UBER1", "UBER2", "UNYC1"]


def test_a_tick_at_a_later_moment_sends_what_is_due_by_then_as_its_dry_run_lists(
    db_url: str,
    engine: Engine,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack_env(monkeypatch, fake_slack)
    now = clock.utcnow()
    with session_scope(engine) as session:
        for hours in (1, 3):
            outbox.enqueue(
                session,
                key=f"later:{hours}",
                kind="broadcast",
                channel=f"C0IN{hours}H",
                text=f"in {hours} hours",
                not_before=now + timedelta(hours=hours),
            )
    later = (now + timedelta(hours=2)).isoformat()

    assert main(["tick", "--now", later, "--dry-run", "--db", db_url]) == 0
    listed = [line.split()[:2] for line in capsys.readouterr().out.splitlines()[:-1]]
    assert main(["tick", "--now", later, "--db", db_url]) == 0

    assert listed == [["broadcast", "C0IN1H"]]
    assert capsys.readouterr().out.strip() == "queued 0, sent 1, failed 0"
    assert [m.text for m in fake_slack.messages()] == ["in 1 hours"]


def test_no_reminder_reaches_someone_whose_invitation_failed_or_is_still_queued(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(slack_settings, send_rate=50.0, send_max_attempts=1)
    client = make_web_client(settings, retry_rate_limits=False)
    with session_scope(engine) as session:
        people = [Person(slack_user_id=f"U{name}", name=name, timezone="Europe/Berlin") for name in "ABC"]
        session.add_all(people)
        session.flush()
        ids = {person.name: person.id for person in people}
        run = pulses.open_run(session, library=LIBRARY, settings=settings, now=MONDAY_10_BERLIN).run_id

    def send(name: str) -> None:
        drain(engine, client, settings, keys=[pulses.invite_key(run, ids[name])], deadline=time.time() + 30)

    def remind(now: datetime) -> set[str]:
        with session_scope(engine) as session:
            pulses.send_reminders(session, library=LIBRARY, settings=settings, now=now)
        with Session(engine) as session:
            keys = session.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "pulse_reminder"))
            return set(keys)

    fake_slack.fail_next("chat.postMessage", status=500)
    send("B")  # Slack failed it for good
    send("A")
    # C's invitation is still queued.
    assert remind(MONDAY_10_BERLIN + timedelta(days=3)) == {f"pulse-remind:{run}:{ids['A']}:1"}

    send("C")  # C's invitation goes out late: the reminders due from then on follow it
    assert remind(MONDAY_10_BERLIN + timedelta(days=4)) == {
        f"pulse-remind:{run}:{ids['A']}:1",
        f"pulse-remind:{run}:{ids['A']}:2",
        f"pulse-remind:{run}:{ids['C']}:2",
    }
    assert not any(m.text.startswith("Reminder") for m in fake_slack.posted_to("UB"))
