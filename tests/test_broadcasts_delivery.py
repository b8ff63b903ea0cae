"""Delivering a broadcast: who is in the audience, exactly once per person through 429 storms, a `kill -9` of
the sending process and two instances at once, and the sender's live status with acknowledgement counts."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import Engine, func, select

from bot.broadcasts import service as broadcasts
from bot.broadcasts.service import Audience, Draft
from bot.clock import utcnow
from bot.config import Settings
from bot.db import session_scope
from bot.models import Activity, Broadcast, BroadcastRecipient, OutboxMessage, Person, Team
from bot.outbox import drain
from bot.slack.client import make_web_client
from tests.support.factories import add_people, user_ids
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import library

SENDER = "UMGR0001"


def compose(engine: Engine, audience: Audience, *, ask_ack: bool = False, text: str = "Big news") -> int:
    with session_scope(engine) as session:
        draft = Draft(text, audience, None, None, ask_ack, None)
        made = broadcasts.save_draft(
            session, draft, sender=None, sender_user=SENDER, timezone="Europe/Paris", library=library()
        )
        return made.id


def send(engine: Engine, broadcast_id: int) -> None:
    with session_scope(engine) as session:
        assert broadcasts.confirm(session, broadcast_id, now=utcnow(), library=library()) is not None


def team_ids(engine: Engine, *names: str) -> tuple[int, ...]:
    with session_scope(engine, readonly=True) as session:
        return tuple(session.scalars(select(Team.id).where(Team.name.in_(names)).order_by(Team.id)))


def delivered(fake: FakeSlack) -> Counter[str]:
    """How many messages Slack holds per broadcast outbox key (from the message metadata)."""
    return Counter(
        str(m.payload["key"])
        for m in fake.messages()
        if str(m.payload.get("key", "")).startswith("broadcast:")
    )


def status_text(fake: FakeSlack) -> str:
    [message] = [
        m for m in fake.messages(SENDER) if str(m.payload.get("key")).startswith("broadcast-status:")
    ]
    return message.block_text()


def expected_keys(engine: Engine, broadcast_id: int) -> Counter[str]:
    with session_scope(engine, readonly=True) as session:
        keys = session.scalars(
            select(BroadcastRecipient.outbox_key).where(BroadcastRecipient.broadcast_id == broadcast_id)
        )
        return Counter(dict.fromkeys(keys, 1))


def test_the_audience_is_teams_or_roles_without_inactive_unreachable_or_erased_people(engine: Engine) -> None:
    with session_scope(engine) as session:
        sales = user_ids(add_people(session, 3, team="Sales", role="sales"))
        sales_engineers = user_ids(add_people(session, 2, team="Sales", role="engineering", prefix="W"))
        platform = user_ids(add_people(session, 2, team="Platform", role="engineering"))
        add_people(session, 2, team="Support", role="support")

        def person(user: str) -> Person:
            return session.scalars(select(Person).where(Person.slack_user_id == user)).one()

        person(sales[0]).is_active = False
        person(platform[0]).unreachable_reason = "user_not_found"
        person(sales[1]).erased_at = utcnow()
        session.add(Person(slack_user_id=None, name="no slack", role="engineering"))
    audience = Audience(teams=team_ids(engine, "Sales"), roles=("engineering",))
    with session_scope(engine, readonly=True) as session:
        size = broadcasts.audience_size(session, audience)
    # Reached: one salesperson, the two sales engineers (in both, counted once), one platform engineer.
    # Skipped: the inactive one, the unreachable one and the one without Slack; the erased one is gone.
    assert (size.reach, size.skipped) == (4, 3)

    broadcast_id = compose(engine, audience)
    send(engine, broadcast_id)
    with session_scope(engine, readonly=True) as session:
        got = set(
            session.scalars(
                select(Person.slack_user_id)
                .join(BroadcastRecipient, BroadcastRecipient.person_id == Person.id)
                .where(BroadcastRecipient.broadcast_id == broadcast_id)
            )
        )
        sent = session.get(Broadcast, broadcast_id)
        assert sent is not None and (sent.recipient_count, sent.excluded_count) == (4, 3)
    assert got == {sales[2], *sales_engineers, platform[1]}
    everyone = Audience(everyone=True)
    with session_scope(engine, readonly=True) as session:
        assert broadcasts.audience_size(session, everyone) == broadcasts.AudienceSize(reach=6, skipped=3)


def test_fanning_out_again_queues_nothing_twice(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_people(session, 30, team="Ops", role="operations")
    broadcast_id = compose(engine, Audience(everyone=True))
    send(engine, broadcast_id)
    with session_scope(engine) as session:
        add_people(session, 2, team="Late", role="sales")  # joined after it was sent: a re-run adds only them
        again = session.get(Broadcast, broadcast_id)
        assert again is not None
        queued = broadcasts.fan_out(session, again, now=utcnow(), library=library())
    assert queued == 2
    with session_scope(engine, readonly=True) as session:
        keys = session.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == broadcasts.KIND)).all()
        assert len(keys) == len(set(keys)) == 32
        assert session.scalar(select(func.count()).select_from(BroadcastRecipient)) == 32
        status = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == broadcasts.STATUS_KIND)
        )
        assert status == 1


def test_two_instances_ticking_at_the_scheduled_minute_fan_out_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_people(session, 200, team="Ops", role="operations")
    broadcast_id = compose(engine, Audience(everyone=True))
    with session_scope(engine) as session:
        draft = session.get(Broadcast, broadcast_id)
        assert draft is not None
        draft.scheduled_for = utcnow().replace(second=0, microsecond=0) + broadcasts.STATUS_EVERY * 60
    send(engine, broadcast_id)
    due = utcnow() + broadcasts.STATUS_EVERY * 60
    results: list[int] = []
    start = threading.Barrier(2)

    def instance() -> None:
        start.wait()
        with session_scope(engine) as session:
            results.append(broadcasts.send_due(session, now=due, library=library()))

    threads = [threading.Thread(target=instance) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [0, 200]
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(BroadcastRecipient)) == 200


def test_a_429_storm_still_reaches_each_person_exactly_once_and_the_status_says_so(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(slack_settings, send_rate=150.0)
    with session_scope(engine) as session:
        add_people(session, 240, team="Ops", role="operations")
        gone = user_ids(add_people(session, 3, team="Gone", prefix="X", role="operations"))
        for user in gone:
            session.scalars(select(Person).where(Person.slack_user_id == user)).one().is_active = False
    fake_slack.rate_limit("chat.postMessage", per_second=60)  # well below what we try to send
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1, times=5)
    broadcast_id = compose(engine, Audience(everyone=True))
    send(engine, broadcast_id)

    report = drain(engine, make_web_client(settings, retry_rate_limits=False), settings)

    assert report.rate_limited > 0
    assert delivered(fake_slack) == expected_keys(engine, broadcast_id)
    assert len(delivered(fake_slack)) == 240
    assert "Delivered to all 240 · 3 unreachable" in status_text(fake_slack)
    with session_scope(engine, readonly=True) as session:
        sent = session.get(Broadcast, broadcast_id)
        assert sent is not None and sent.status == "sent" and sent.finished_at is not None


def test_the_status_message_shows_progress_while_the_broadcast_goes_out(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(slack_settings, send_rate=25.0)  # 200 DMs take 8 s
    with session_scope(engine) as session:
        add_people(session, 200, team="Ops", role="operations")
    broadcast_id = compose(engine, Audience(everyone=True), ask_ack=True)
    client = make_web_client(settings)
    drain(engine, client, settings)  # the preview, before anyone presses Send
    send(engine, broadcast_id)
    started = time.monotonic()
    drain(engine, client, settings)
    took = time.monotonic() - started

    [status] = [
        m for m in fake_slack.messages(SENDER) if m.payload.get("key") == f"broadcast-status:{broadcast_id}"
    ]
    shown = [str(version["text"]) for version in status.history] + [status.text]
    assert shown[0] == f"Broadcast #{broadcast_id}: Delivered 0 of 200 · 0 acknowledged"
    assert shown[-1] == f"Broadcast #{broadcast_id}: Delivered to all 200 · 0 acknowledged"
    during = [int(t.split("Delivered ")[1].split(" of")[0]) for t in shown[1:-1]]
    assert during and all(0 < n < 200 for n in during)  # edited in place as it went
    # at most one edit per 5 s while sending (a slow machine takes longer than 8 s, so it may show more)
    assert len(shown) <= 2 + took / broadcasts.STATUS_EVERY.total_seconds()


def tick_process(db_url: str, fake: FakeSlack, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ADOPTBOT_", "DATABASE_"))}
    env |= {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": fake.url, "ADOPTBOT_SEND_RATE": "100"}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "tick", "--db", db_url],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_kill_9_of_the_sending_process_then_a_restart_reaches_each_person_exactly_once(
    db_url: str, engine: Engine, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        add_people(session, 300, team="Ops", role="operations")
    broadcast_id = compose(engine, Audience(everyone=True))
    send(engine, broadcast_id)
    fake_slack.delay("chat.postMessage", 0.03)  # replies trail the posts: some are in flight at the kill

    first = tick_process(db_url, fake_slack, tmp_path)
    deadline = time.monotonic() + 30
    while len(delivered(fake_slack)) < 80 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    assert 80 <= sum(delivered(fake_slack).values()) < 300

    second = tick_process(db_url, fake_slack, tmp_path)
    _, err = second.communicate(timeout=90)

    assert second.returncode == 0, err
    assert delivered(fake_slack) == expected_keys(engine, broadcast_id)
    assert len(delivered(fake_slack)) == 300
    assert "Delivered to all 300" in status_text(fake_slack)


def test_acknowledgements_show_in_the_status_soon_and_at_most_every_few_seconds(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(slack_settings, send_rate=200.0)
    with session_scope(engine) as session:
        users = user_ids(add_people(session, 6, team="Ops", role="operations"))
    broadcast_id = compose(engine, Audience(everyone=True), ask_ack=True)
    send(engine, broadcast_id)
    client = make_web_client(settings)
    drain(engine, client, settings)
    assert "Delivered to all 6 · 0 acknowledged" in status_text(fake_slack)
    with session_scope(engine) as session:  # a minute after the last status update
        found = session.get(Broadcast, broadcast_id)
        assert found is not None and found.status_at is not None
        found.status_at -= broadcasts.STATUS_EVERY * 12
    updates_before = len(fake_slack.calls_to("chat.update"))

    for user in users[:4]:  # four people press "Got it" within a second
        with session_scope(engine) as session:
            person = session.scalars(select(Person).where(Person.slack_user_id == user)).one()
            assert broadcasts.acknowledge(
                session, broadcast_id=broadcast_id, person=person, now=utcnow(), settings=settings
            )
            assert not broadcasts.acknowledge(  # the second press changes nothing
                session, broadcast_id=broadcast_id, person=person, now=utcnow(), settings=settings
            )
    drain(engine, client, settings)
    assert "Delivered to all 6 · 1 acknowledged" in status_text(fake_slack)  # the first one, at once
    time.sleep(broadcasts.STATUS_EVERY.total_seconds())
    drain(engine, client, settings)

    assert "Delivered to all 6 · 4 acknowledged" in status_text(fake_slack)
    status_edits = [
        c
        for c in fake_slack.calls_to("chat.update")[updates_before:]
        if "acknowledged" in str(c.params.get("text"))
    ]
    assert len(status_edits) == 2  # one at once, one five seconds later with the newest count
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Activity).where(Activity.kind == "ack")) == 4
