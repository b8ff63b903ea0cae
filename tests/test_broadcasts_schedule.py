"""Scheduled broadcasts (`adoptbot tick` at the right minute, in the sender's time zone), App Home's list of
them with Cancel, and the reminder to those who have not pressed "Got it"."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.models import BroadcastRecipient, Person
from bot.slack import ids
from tests.support import signing
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_broadcasts_slack import (
    MANAGER,
    broadcast_dms,
    buttons,
    click,
    composer,
    fast,
    only,
    preview,
    seed,
    send_queued,
    submit,
    team_id,
)

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def tick_env(monkeypatch: pytest.MonkeyPatch, slack_settings: Settings) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_settings.slack_bot_token or "")
    monkeypatch.setenv("SLACK_API_URL", slack_settings.slack_api_url)
    monkeypatch.setenv("ADOPTBOT_SEND_RATE", "200")


def tick(db_url: str, now: datetime, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["tick", "--now", now.isoformat(), "--db", db_url])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def in_tokyo(engine: Engine) -> None:
    with session_scope(engine) as session:
        manager = session.scalars(select(Person).where(Person.slack_user_id == MANAGER)).one()
        manager.timezone = "Asia/Tokyo"


def schedule(server: SlackAppServer, fake: FakeSlack, engine: Engine, settings: Settings, day: str) -> None:
    modal = composer(server, fake)
    time_input = next(b for b in modal["blocks"] if b.get("block_id") == ids.BROADCAST_TIME_BLOCK)
    assert time_input["element"]["timezone"] == "Asia/Tokyo"
    assert (
        submit(server, modal, message="Kick-off at 10", everyone=True, when="later", date=day, time="09:00")
        == {}
    )
    send_queued(engine, settings)
    click(server, preview(fake), ids.BROADCAST_SEND, MANAGER)
    wait_for(lambda: only(engine).status == "scheduled", what="the schedule")
    send_queued(engine, settings)


def test_a_scheduled_broadcast_goes_out_at_its_minute_in_the_senders_time_zone_and_only_then(
    db_url: str,
    engine: Engine,
    slack_settings: Settings,
    fake_slack: FakeSlack,
    tick_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = fast(slack_settings)
    seed(engine)
    in_tokyo(engine)
    day = (datetime.now(TOKYO) + timedelta(days=3)).date()
    with SlackAppServer(settings, engine) as server:
        schedule(server, fake_slack, engine, settings, day.isoformat())
    due = datetime(day.year, day.month, day.day, 9, 0, tzinfo=TOKYO)  # 00:00 UTC that day
    assert only(engine).scheduled_for == due.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    shown = preview(fake_slack).block_text()
    assert f"Scheduled* for {due:%a} {due.day} {due:%b %Y}, 09:00 (Asia/Tokyo)" in shown

    tick(db_url, due - timedelta(minutes=1), capsys)
    assert broadcast_dms(fake_slack) == {}
    assert only(engine).status == "scheduled"

    tick(db_url, due, capsys)
    tick(db_url, due + timedelta(minutes=1), capsys)  # the next minute's tick sends nothing again
    assert broadcast_dms(fake_slack) == {"UMGR0001": 1, "USALES1": 1, "USALES2": 1, "UENG1": 1, "USUP1": 1}
    sent = only(engine)
    assert (sent.status, sent.recipient_count, sent.excluded_count) == ("sent", 5, 2)
    assert sent.started_at == due.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def test_app_home_lists_scheduled_broadcasts_and_cancel_there_stops_it(
    db_url: str,
    engine: Engine,
    slack_settings: Settings,
    fake_slack: FakeSlack,
    tick_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = fast(slack_settings)
    seed(engine)
    in_tokyo(engine)
    day = (datetime.now(TOKYO) + timedelta(days=2)).date()
    with SlackAppServer(settings, engine) as server:
        schedule(server, fake_slack, engine, settings, day.isoformat())
        assert server.event({"type": "app_home_opened", "user": "USALES1", "tab": "home"}) == 200
        assert server.event({"type": "app_home_opened", "user": MANAGER, "tab": "home"}) == 200
        home = wait_for(lambda: fake_slack.home_views.get(MANAGER), what="the manager's Home")
        employee_home = wait_for(lambda: fake_slack.home_views.get("USALES1"), what="an employee's Home")
        assert home is not None and employee_home is not None
        listed = [
            b for b in home["blocks"] if b.get("accessory", {}).get("action_id") == ids.BROADCAST_CANCEL
        ]
        assert len(listed) == 1 and "Kick-off at 10" in listed[0]["text"]["text"]
        assert "Will reach 5 people · 2 unreachable or inactive skipped" in listed[0]["text"]["text"]
        assert "Kick-off" not in str(employee_home["blocks"])  # only change managers see broadcasts

        payload = signing.block_actions_payload(
            MANAGER, ids.BROADCAST_CANCEL, listed[0]["accessory"]["value"], view=home
        )
        status, _ = server.interact(payload)
        assert status == 200
        wait_for(
            lambda: "Nothing scheduled" in str(fake_slack.home_views[MANAGER]["blocks"]),
            what="the Home tab without it",
        )
        send_queued(engine, settings)
    assert only(engine).status == "cancelled"
    assert "Cancelled" in preview(fake_slack).block_text()
    tick(db_url, datetime(day.year, day.month, day.day, 9, 0, tzinfo=TOKYO) + timedelta(hours=1), capsys)
    assert broadcast_dms(fake_slack) == {}


def test_a_reminder_goes_once_to_those_who_have_not_pressed_got_it(
    db_url: str,
    engine: Engine,
    slack_settings: Settings,
    fake_slack: FakeSlack,
    tick_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = fast(slack_settings)
    seed(engine)
    with SlackAppServer(settings, engine) as server:
        submit(
            server,
            composer(server, fake_slack),
            message="Confirm the new expense rules",
            teams=[team_id(engine, "Sales")],
            ask_ack=True,
            reminder="1",
        )
        send_queued(engine, settings)
        click(server, preview(fake_slack), ids.BROADCAST_SEND, MANAGER)
        wait_for(lambda: only(engine).status == "sending", what="the fan-out")
        send_queued(engine, settings)
        click(server, fake_slack.messages("USALES1")[0], ids.BROADCAST_GOT_IT, "USALES1")
        wait_for(lambda: acked(engine) == {"USALES1"}, what="the first acknowledgement")

        started = only(engine).started_at
        assert started is not None
        tick(db_url, started + timedelta(hours=23), capsys)  # not yet a day
        assert reminded(fake_slack) == []
        tick(db_url, started + timedelta(days=1, minutes=1), capsys)
        tick(db_url, started + timedelta(days=2), capsys)  # once only
        assert reminded(fake_slack) == ["USALES2"]

        [reminder] = [
            m for m in fake_slack.messages("USALES2") if "broadcast-remind" in str(m.payload.get("key"))
        ]
        assert "Confirm the new expense rules" in reminder.block_text()
        click(server, reminder, ids.BROADCAST_GOT_IT, "USALES2")
        wait_for(lambda: acked(engine) == {"USALES1", "USALES2"}, what="the second acknowledgement")
        send_queued(engine, settings)
    letters = [m for m in fake_slack.messages("USALES2") if str(m.payload.get("key")).startswith("broadcast")]
    assert len(letters) == 2  # (the ticks a day later also sent the pulse the schedule opened then)
    for message in letters:  # the DM and its reminder both say so now
        assert "✓ Acknowledged" in message.block_text() and ids.BROADCAST_GOT_IT not in buttons(message)


def test_the_channel_post_goes_once_even_when_send_is_pressed_twice(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = fast(slack_settings)
    seed(engine)
    with SlackAppServer(settings, engine) as server:
        submit(
            server, composer(server, fake_slack), message="We're live", roles=["support"], channel="CANNOUNCE"
        )
        send_queued(engine, settings)
        draft = preview(fake_slack)
        click(server, draft, ids.BROADCAST_SEND, MANAGER)
        click(server, draft, ids.BROADCAST_SEND, MANAGER)
        wait_for(lambda: only(engine).status == "sending", what="the fan-out")
        send_queued(engine, settings)
    [post] = fake_slack.messages("CANNOUNCE")
    assert post.payload["key"] == f"broadcast-channel:{only(engine).id}"
    assert "We're live" in post.block_text() and buttons(post) == {}
    assert broadcast_dms(fake_slack) == {"USUP1": 1}


def acked(engine: Engine) -> set[str]:
    with session_scope(engine, readonly=True) as session:
        rows = session.scalars(
            select(Person.slack_user_id)
            .join(BroadcastRecipient, BroadcastRecipient.person_id == Person.id)
            .where(BroadcastRecipient.acked_at.is_not(None))
        )
        return {str(r) for r in rows}


def reminded(fake: FakeSlack) -> list[str]:
    return sorted(
        str(m.user) for m in fake.messages() if str(m.payload.get("key", "")).startswith("broadcast-remind:")
    )
