"""The outbox against the fake Slack, through the real slack_sdk client: each message once, paced, retried."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.clock import utcnow
from bot.config import Settings
from bot.db import create_db_engine, session_scope
from bot.models import AppState, ChannelPace, OutboxBody, OutboxMessage, Person
from bot.outbox.drain import worker_id
from bot.outbox.send import Retry, deliver
from bot.outbox.store import Claimed, FilledBlocks
from bot.slack.client import make_web_client
from tests.support.fake_slack import Call, FakeSlack


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, send_rate=50.0, send_max_attempts=4)


@pytest.fixture
def client(settings: Settings) -> WebClient:
    return make_web_client(settings, retry_rate_limits=False)


def queue(engine: Engine, *messages: dict[str, Any]) -> list[str]:
    """Enqueue each message (defaults: kind "test", text = key) in one transaction; return the keys."""
    with session_scope(engine) as session:
        for message in messages:
            fields = {"kind": "test", "text": f"hello {message['key']}"} | message
            assert outbox.enqueue(session, **fields)
    return [m["key"] for m in messages]


def dms(*users: str, prefix: str = "m") -> list[dict[str, Any]]:
    return [{"key": f"{prefix}:{user}", "channel": user} for user in users]


def rows(engine: Engine) -> dict[str, OutboxMessage]:
    with Session(engine) as session:
        return {row.key: row for row in session.scalars(select(OutboxMessage))}


def key_of(call: Call) -> str | None:
    metadata = call.params.get("metadata")
    return metadata["event_payload"]["key"] if isinstance(metadata, dict) else None


def delivered(fake: FakeSlack) -> Counter[str]:
    """How many messages in Slack carry each outbox key."""
    return Counter(str(m.payload["key"]) for m in fake.messages() if m.event_type == outbox.EVENT_TYPE)


def test_enqueueing_a_key_twice_sends_one_message(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    with session_scope(engine) as session:
        assert outbox.enqueue(session, key="welcome:U1", kind="welcome", channel="U1", text="Welcome!")
        assert not outbox.enqueue(
            session, key="welcome:U1", kind="welcome", channel="U1", text="Welcome again!"
        )
    with session_scope(engine) as session:
        assert not outbox.enqueue(session, key="welcome:U1", kind="welcome", channel="U1", text="And again")

    report = outbox.drain(engine, client, settings)

    assert (report.sent, report.failed) == (1, 0)
    assert [m.text for m in fake_slack.messages("U1")] == ["Welcome!"]
    assert outbox.drain(engine, client, settings).sent == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    row = rows(engine)["welcome:U1"]
    assert (row.state, row.slack_channel, row.attempts) == ("sent", "DU1", 1)
    assert row.slack_ts == fake_slack.messages("U1")[0].ts
    posted = fake_slack.calls_to("chat.postMessage")[0].params
    assert posted["channel"] == "U1" and posted["text"] == "Welcome!"
    assert posted["metadata"] == {"event_type": "adoptbot_outbox", "event_payload": {"key": "welcome:U1"}}


def test_blocks_and_extra_metadata_reach_slack(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Try it*"}}]
    queue(
        engine, {"key": "n:1", "channel": "C0WINS", "text": "Try it", "blocks": blocks, "metadata": {"n": 1}}
    )

    outbox.drain(engine, client, settings)

    [message] = fake_slack.messages("C0WINS")
    assert message.blocks == blocks and message.text == "Try it"
    assert message.payload == {"n": 1, "key": "n:1"}


def test_bulk_queued_messages_share_stored_bodies_and_arrive_with_their_own_blocks(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    letter = [{"type": "section", "text": {"type": "mrkdwn", "text": "The *same* letter for everyone"}}]

    def card(value: str) -> list[dict[str, Any]]:
        button = {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "action_id": "t.open"}
        return [{"type": "actions", "elements": [button | {"value": value}]}]

    template = json.dumps(card("MARK"))
    users = [f"U{n:03d}" for n in range(6)]
    messages = [
        outbox.NewMessage(key=f"letter:{user}", kind="test", channel=user, text="Letter", blocks=letter)
        for user in users[:3]
    ] + [
        outbox.NewMessage(
            key=f"card:{user}",
            kind="test",
            channel=user,
            text="Card",
            blocks=FilledBlocks(template, {"MARK": user}),
        )
        for user in users[3:]
    ]
    with session_scope(engine) as session:
        assert outbox.enqueue_many(session, messages) == 6
        assert outbox.enqueue_many(session, messages[:2]) == 0  # keys queued before: nothing new
    with session_scope(engine) as session:
        assert outbox.enqueue_many(session, messages) == 0
        assert session.scalar(select(func.count()).select_from(OutboxBody)) == 2  # one per distinct body

    report = outbox.drain(engine, client, settings)

    assert report.sent == 6 and delivered(fake_slack) == Counter(m.key for m in messages)
    for user in users[:3]:
        [message] = fake_slack.messages(user)
        assert message.blocks == letter and message.text == "Letter"
    for user in users[3:]:
        [message] = fake_slack.messages(user)
        assert message.blocks == card(user)


def test_429_storm_honours_retry_after_and_delivers_every_message_once(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    # 10 a second: without the workspace-wide pause the others would go out during it, 0.1 s apart.
    settings = dataclasses.replace(settings, send_rate=10.0)
    keys = queue(engine, *dms(*(f"U{i}" for i in range(8))))
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1, times=3)

    report = outbox.drain(engine, client, settings)

    assert report.rate_limited == 3 and report.sent == 8 and report.failed == 0
    assert delivered(fake_slack) == Counter({key: 1 for key in keys})
    calls = fake_slack.calls_to("chat.postMessage")
    limited = [c for c in calls if c.status == 429]
    assert len(limited) == 3
    for call in limited:  # that message came back no sooner than Slack asked
        later = [c.at for c in calls if key_of(c) == key_of(call) and c.at > call.at]
        assert later and min(later) - call.at >= 0.98
    first = limited[0].at  # and the whole workspace waited: nothing was sent during the pause
    during = [c for c in calls if first + 0.35 < c.at < first + 0.95]
    assert len(during) <= 1  # one already on its way may land late on a busy machine; unpaused, about 6 would
    assert all(r.state == "sent" and r.attempts == 1 for r in rows(engine).values())


def test_server_error_is_retried_with_backoff_and_sent_once(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    queue(engine, *dms("U1"))
    fake_slack.fail_next("chat.postMessage", status=500)

    report = outbox.drain(engine, client, settings)

    assert (report.sent, report.retried, report.failed) == (1, 1, 0)
    first, second = fake_slack.calls_to("chat.postMessage")
    assert first.status == 500 and second.ok
    assert second.at - first.at >= 0.9  # backed off
    assert delivered(fake_slack) == Counter({"m:U1": 1})
    # Before posting again it looked for the first attempt in the DM's history.
    history = fake_slack.calls_to("conversations.history")
    assert history and history[0].params["channel"] == "DU1"
    assert rows(engine)["m:U1"].attempts == 2


def test_server_error_after_slack_posted_is_found_in_history_not_posted_again(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    queue(engine, *dms("U1", "U2"))
    fake_slack.fail_next("chat.postMessage", status=500, after_processing=True)

    report = outbox.drain(engine, client, settings)

    assert report.sent == 2 and report.retried == 1
    assert delivered(fake_slack) == Counter({"m:U1": 1, "m:U2": 1})
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # the lost reply was not followed by a re-post
    [message] = fake_slack.messages("U1")
    row = rows(engine)["m:U1"]
    assert (row.state, row.slack_channel, row.slack_ts) == ("sent", "DU1", message.ts)


def test_permanent_dm_error_marks_the_person_unreachable_and_skips_their_other_messages(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    fake_slack.add_user("U1", deleted=True)
    fake_slack.add_user("U2")
    with session_scope(engine) as session:
        session.add_all([Person(slack_user_id="U1", name="Gone"), Person(slack_user_id="U2", name="Here")])
    later = utcnow() + timedelta(hours=1)
    queue(
        engine,
        {"key": "a", "channel": "U1"},
        {"key": "b", "channel": "U1", "not_before": later},
        {"key": "c", "channel": "U2"},
        {"key": "post", "channel": "C0GENERAL"},
    )

    report = outbox.drain(engine, client, settings)

    assert (report.sent, report.failed, report.skipped) == (2, 1, 1)
    state = rows(engine)
    assert (state["a"].state, state["a"].error) == ("failed", "user_disabled")
    assert (state["b"].state, state["b"].error) == ("skipped", "recipient unreachable: user_disabled")
    assert state["c"].state == state["post"].state == "sent"
    with Session(engine) as session:
        people = {p.slack_user_id: p.unreachable_reason for p in session.scalars(select(Person))}
    assert people == {"U1": "user_disabled", "U2": None}
    assert len(fake_slack.calls_to("chat.postMessage")) == 3  # one try for U1, never retried

    queue(engine, {"key": "d", "channel": "U1"})  # a feature that forgot to check is still covered
    again = outbox.drain(engine, client, settings)
    assert (again.sent, again.skipped) == (0, 1) and rows(engine)["d"].state == "skipped"
    assert len(fake_slack.calls_to("chat.postMessage")) == 3


def test_a_bad_message_fails_without_blaming_the_person(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    with session_scope(engine) as session:
        session.add(Person(slack_user_id="U1", name="Ada"))
    too_many = [{"type": "divider"}] * 51
    queue(engine, {"key": "big", "channel": "U1", "blocks": too_many}, {"key": "ok", "channel": "U1"})

    report = outbox.drain(engine, client, settings)

    assert (report.sent, report.failed) == (1, 1)
    assert rows(engine)["big"].error == "invalid_blocks"
    with Session(engine) as session:
        assert session.scalars(select(Person.unreachable_reason)).one() is None


def test_after_max_attempts_the_message_fails_with_the_reason(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    settings = dataclasses.replace(settings, send_max_attempts=2)
    queue(engine, *dms("U1"))
    fake_slack.fail_next("chat.postMessage", status=503, times=5)

    report = outbox.drain(engine, client, settings)

    assert (report.sent, report.failed, report.retried) == (0, 1, 1)
    row = rows(engine)["m:U1"]
    assert row.state == "failed" and row.attempts == 2
    assert row.error == "gave up after 2 attempts: HTTP 503: service_unavailable"
    assert len(fake_slack.calls_to("chat.postMessage")) == 2
    assert not fake_slack.messages()


def test_update_waits_for_the_original_then_edits_it_latest_text_wins(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    with session_scope(engine) as session:
        outbox.enqueue(session, key="orig", kind="nudge", channel="U1", text="v1")
        assert outbox.enqueue_update(session, key="orig:u1", update_of="orig", text="v2")
        assert outbox.enqueue_update(session, key="orig:u2", update_of="orig", text="v3")
        assert not outbox.enqueue_update(session, key="orig:u2", update_of="orig", text="v4")

    report = outbox.drain(engine, client, settings)

    [message] = fake_slack.messages("U1")
    assert message.text == "v3"
    [post] = fake_slack.calls_to("chat.postMessage")
    [edit] = fake_slack.calls_to("chat.update")  # the superseded edit was never made
    assert edit.at > post.at and edit.params["ts"] == message.ts and edit.params["channel"] == "DU1"
    state = rows(engine)
    assert state["orig:u1"].state == "skipped" and "superseded" in (state["orig:u1"].error or "")
    assert (state["orig:u2"].state, state["orig:u2"].slack_ts) == ("sent", message.ts)
    assert (report.sent, report.skipped) == (2, 1)


def test_update_of_a_message_that_failed_is_skipped(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    fake_slack.add_user("U1", deleted=True)
    with session_scope(engine) as session:
        outbox.enqueue(session, key="orig", kind="nudge", channel="U1", text="v1")
        outbox.enqueue_update(session, key="orig:u", update_of="orig", text="v2")
        with pytest.raises(ValueError, match="no outbox message"):
            outbox.enqueue_update(session, key="x", update_of="missing", text="v2")

    outbox.drain(engine, client, settings)

    update_row = rows(engine)["orig:u"]
    assert update_row.state == "skipped" and "was not sent" in (update_row.error or "")
    assert not fake_slack.calls_to("chat.update")


def test_two_messages_to_one_channel_are_a_second_apart(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    settings = dataclasses.replace(settings, send_rate=200.0, channel_interval=1.0)  # Slack's real pace
    queue(
        engine,
        {"key": "a", "channel": "C0WINS"},
        {"key": "b", "channel": "C0WINS"},
        {"key": "c", "channel": "U1"},
    )

    started = time.monotonic()
    outbox.drain(engine, client, settings)

    calls = {key_of(c): c.at for c in fake_slack.calls_to("chat.postMessage")}
    # Arrival times at the fake server (time.monotonic()): a busy machine may deliver a message late, never
    # early. "a" goes at its slot, at or after `started`, so "b" a second later; measured from `started`,
    # not from "a", which may itself have arrived late.
    assert calls["b"] - started >= 0.9
    assert calls["c"] < calls["b"]  # the other channel did not wait behind C0WINS


def test_the_global_rate_holds_for_two_drains_at_once(
    db_url: str, engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    settings = dataclasses.replace(settings, send_rate=20.0)
    keys = queue(engine, *dms(*(f"U{i}" for i in range(60))))
    # A one-second bucket: two drains each at 20/s would be refused about 10 of these.
    fake_slack.rate_limit("chat.postMessage", per_second=20)
    reports: list[outbox.DrainReport] = []

    def instance() -> None:
        own = create_db_engine(db_url)  # as a second process would: its own pool
        reports.append(outbox.drain(own, client, settings))
        own.dispose()

    started = time.monotonic()
    threads = [threading.Thread(target=instance) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert time.monotonic() - started >= 59 / 20 - 0.05
    assert fake_slack.rejected("chat.postMessage") == 0  # together they never went faster than 20/s
    assert delivered(fake_slack) == Counter({key: 1 for key in keys})
    assert sum(r.sent for r in reports) == 60


def _crashed(engine: Engine, key: str, *, holder: str, age: timedelta, attempts: int = 1) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == key)
            .values(state="sending", claimed_by=holder, claimed_at=utcnow() - age, attempts=attempts)
        )


def test_stale_claim_of_a_message_already_in_slack_is_marked_sent_without_posting(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    queue(engine, *dms("U1", "U2"))
    # Another machine posted U1's message, then died before recording it; U2's died before posting.
    posted = client.chat_postMessage(
        channel="U1",
        text="hello m:U1",
        metadata={"event_type": "adoptbot_outbox", "event_payload": {"key": "m:U1"}},
    )
    for key in ("m:U1", "m:U2"):
        _crashed(engine, key, holder="elsewhere:1:4242:abc1", age=timedelta(seconds=90))

    report = outbox.drain(engine, client, settings)

    assert report.sent == 2
    assert delivered(fake_slack) == Counter({"m:U1": 1, "m:U2": 1})
    assert len(fake_slack.calls_to("chat.postMessage")) == 2  # ours above, and U2's
    row = rows(engine)["m:U1"]
    assert (row.state, row.slack_ts, row.slack_channel) == ("sent", posted["ts"], "DU1")


def test_a_fresh_claim_is_left_alone_unless_its_process_on_this_machine_is_gone(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    queue(engine, *dms("U1", "U2"))
    host, namespace, _pid, _token = worker_id().split(":")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _crashed(engine, "m:U1", holder=f"{host}:{namespace}:{dead.pid}:dead01", age=timedelta(seconds=5))
    _crashed(engine, "m:U2", holder=f"{host}:{namespace}:{os.getppid()}:live01", age=timedelta(seconds=5))

    report = outbox.drain(engine, client, settings)

    assert report.sent == 1
    state = rows(engine)
    assert state["m:U1"].state == "sent" and state["m:U2"].state == "sending"
    assert delivered(fake_slack) == Counter({"m:U1": 1})


def test_on_sent_hooks_run_in_the_transaction_that_marks_it_sent(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    def remember(session: Session, message: OutboxMessage) -> None:
        session.add(AppState(key=f"sent:{message.key}", value=f"{message.slack_ts}@{message.sent_at}"))

    def broken(session: Session, message: OutboxMessage) -> None:
        session.add(AppState(key=f"broken:{message.key}", value="x"))
        session.flush()
        raise RuntimeError("feature bug")

    outbox.on_sent("hooked", remember)
    outbox.on_sent("hooked_broken", broken)
    queue(
        engine,
        {"key": "h1", "kind": "hooked", "channel": "U1"},
        {"key": "h2", "kind": "hooked_broken", "channel": "U2"},
    )

    report = outbox.drain(engine, client, settings)

    assert report.sent == 2 and len(fake_slack.calls_to("chat.postMessage")) == 2
    state = rows(engine)
    with Session(engine) as session:
        saved = {s.key: s.value for s in session.scalars(select(AppState))}
    assert saved == {"sent:h1": f"{state['h1'].slack_ts}@{state['h1'].sent_at}"}
    # the class, never its message (which may quote the row the hook wrote)
    assert state["h2"].state == "sent" and state["h2"].error == "on_sent hook failed: RuntimeError"


def test_a_refused_token_stops_the_drain_and_keeps_every_message(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    keys = queue(engine, *dms("U1", "U2", "U3"))
    fake_slack.fail_next("chat.postMessage", error="invalid_auth")

    report = outbox.drain(engine, client, settings)

    assert report.halted == "invalid_auth on chat.postMessage" and report.failed == 0
    state = rows(engine)
    assert all(r.state in ("pending", "sent") for r in state.values())
    [refused] = [key_of(c) for c in fake_slack.calls_to("chat.postMessage") if c.error == "invalid_auth"]
    assert refused is not None and (state[refused].state, state[refused].attempts) == ("pending", 0)
    assert outbox.drain(engine, client, settings).halted is None
    assert delivered(fake_slack) == Counter({key: 1 for key in keys})


def test_worker_sends_when_woken_and_stops_cleanly(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    worker = outbox.OutboxWorker(engine, client, settings, poll_seconds=30)
    worker.start()
    try:
        time.sleep(0.2)  # the first drain found nothing; now it waits for a wake-up
        started = time.monotonic()
        queue(engine, *dms("U1"))  # committing wakes this process's worker
        while not fake_slack.messages("U1") and time.monotonic() - started < 20:
            time.sleep(0.02)
        assert time.monotonic() - started < 10  # woken at once: its next look would be 30 s away
    finally:
        assert worker.stop(timeout=5)
    assert rows(engine)["m:U1"].state == "sent"


def test_stopping_the_worker_mid_drain_finishes_in_flight_and_releases_the_rest(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    settings = dataclasses.replace(settings, send_rate=10.0)
    keys = queue(engine, *dms(*(f"U{i}" for i in range(30))))
    fake_slack.delay("chat.postMessage", 0.15)  # a call is in flight most of the time
    worker = outbox.OutboxWorker(engine, client, settings)
    worker.start()
    while len(fake_slack.messages()) < 5:
        time.sleep(0.02)
    assert worker.stop(timeout=5)

    state = rows(engine)
    assert not [r for r in state.values() if r.state == "sending"]
    sent = {k for k, r in state.items() if r.state == "sent"}
    assert sent == set(delivered(fake_slack)) and 5 <= len(sent) < 30
    assert all(r.attempts == 0 for r in state.values() if r.state == "pending")

    fake_slack.delay("chat.postMessage", 0)
    outbox.drain(engine, client, dataclasses.replace(settings, send_rate=100.0))
    assert delivered(fake_slack) == Counter({key: 1 for key in keys})
    assert not fake_slack.calls_to("conversations.history")  # released claims needed no re-check


def test_pace_rows_record_the_reserved_slots(
    engine: Engine, fake_slack: FakeSlack, client: WebClient, settings: Settings
) -> None:
    before = utcnow()
    queue(engine, *dms("U1", "U2"))
    outbox.drain(engine, client, settings)
    with Session(engine) as session:
        found = session.execute(select(ChannelPace.channel, ChannelPace.next_at))
        paces: dict[str, datetime] = {channel: next_at for channel, next_at in found}
    assert set(paces) == {"*", "U1", "U2"}
    assert paces["*"] >= before + timedelta(seconds=2 / settings.send_rate)
    assert abs((paces["U2"] - paces["U1"]) - timedelta(seconds=1 / settings.send_rate)) < timedelta(
        milliseconds=5
    )


def test_a_retry_whose_lease_ran_short_during_the_history_check_does_not_post(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    now = utcnow()
    message = Claimed(
        id=1,
        key="late",
        kind="test",
        method="chat.postMessage",
        channel="U1",
        person_id=None,
        payload={"text": "x"},
        attempts=2,
        created_at=now,
        slot=now,
        claimed_at=now - timedelta(seconds=40),
    )

    outcome = deliver(slack_client, message, verify=True, post_by=time.time() - 1)

    assert isinstance(outcome, Retry) and not outcome.counted and outcome.slack_channel == "DU1"
    assert fake_slack.calls_to("conversations.history") and not fake_slack.calls_to("chat.postMessage")
