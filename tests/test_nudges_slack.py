"""Nudges through Slack: the tick's DM, clicks on it (signed requests to the real app), pause, me, Home."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from bot import clock
from bot.config import Settings
from bot.db import session_scope
from bot.jobs import run_due_jobs
from bot.metrics.service import compute_metrics
from bot.models import Activity, NudgeDelivery, OutboxMessage, Person
from bot.outbox import drain
from bot.slack import ids
from bot.slack.client import make_web_client
from tests.support import signing
from tests.support.factories import add_person, add_team
from tests.support.fake_slack import FakeSlack, Message
from tests.support.slack_app import ResponseSink, SlackAppServer, wait_for
from tests.test_nudges_world import LONG_AGO, deliveries, make_library

TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, 5)
LIBRARY = make_library()


def _berliner(engine: Engine, user: str = "UBERLIN01") -> int:
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        return add_person(session, user, timezone="Europe/Berlin", team=team, created_at=LONG_AGO).id


def _tick_and_send(engine: Engine, settings: Settings, now: datetime) -> None:
    report = run_due_jobs(engine, settings, LIBRARY, now)
    assert report.failed_jobs == []
    drain(engine, make_web_client(settings), settings)


def _nudge_message(fake: FakeSlack, user: str) -> Message:
    [message] = [m for m in fake.messages(user) if "nudge" in (m.text or "").lower()]
    return message


def _click(server: SlackAppServer, message: Message, user: str, action_id: str, **kwargs: Any) -> None:
    element = next(
        e
        for block in message.blocks or []
        if block["type"] == "actions"
        for e in block["elements"]
        if e["action_id"] == action_id
    )
    payload = signing.block_actions_payload(
        user,
        action_id,
        element["value"],
        {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks},
        channel_id=message.channel,
        **kwargs,
    )
    status, _ = server.interact(payload)
    assert status == 200


def _texts(blocks: list[dict[str, Any]] | None) -> str:
    import json

    return json.dumps(blocks or [], ensure_ascii=False)


def test_the_tick_sends_the_dm_and_records_when_slack_took_it(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    person = _berliner(engine)
    _tick_and_send(engine, slack_settings, TUESDAY_10_BERLIN)
    message = _nudge_message(fake_slack, "UBERLIN01")
    assert "Nudge all-1" in _texts(message.blocks)
    assert (message.metadata or {}).get("event_payload", {}).get("key") == f"nudge:{person}:2026-11-24"
    [delivery] = deliveries(engine, person)
    assert delivery.sent_at is not None and delivery.status == "sent"
    # A second tick in the same hour, and its drain, send nothing more.
    _tick_and_send(engine, slack_settings, TUESDAY_10_BERLIN + timedelta(minutes=30))
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_tried_it_updates_the_message_and_counts_in_the_metrics(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    person = _berliner(engine)
    clock.start_at(TUESDAY_10_BERLIN)  # the send and the clicks happen in the week the metrics read
    _tick_and_send(engine, slack_settings, TUESDAY_10_BERLIN)
    message = _nudge_message(fake_slack, "UBERLIN01")
    clock.advance(timedelta(minutes=20))
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        _click(server, message, "UBERLIN01", ids.NUDGE_TRIED)
        wait_for(lambda: deliveries(engine, person)[0].status == "tried", what="the click to be recorded")
        drain(engine, make_web_client(slack_settings), slack_settings)
        updated = fake_slack.message(message.channel, message.ts)
        assert updated is not None and updated.updates == 1
        assert "You tried this — nice!" in _texts(updated.blocks)
        assert ids.NUDGE_TRIED not in _texts(updated.blocks)  # the choice buttons are gone
        _click(server, updated, "UBERLIN01", ids.NUDGE_HELPFUL)
        wait_for(lambda: deliveries(engine, person)[0].rating == "helpful", what="the rating")
    drain(engine, make_web_client(slack_settings), slack_settings)
    final = fake_slack.message(message.channel, message.ts)
    assert final is not None and "You found this helpful" in _texts(final.blocks)
    assert "You tried this" in _texts(final.blocks)
    with session_scope(engine, readonly=True) as session:
        kinds = session.scalars(select(Activity.kind).where(Activity.person_id == person)).all()
        assert sorted(kinds) == ["nudge_helpful", "nudge_tried"]
        [row, _total] = compute_metrics(session, week_monday=date(2026, 11, 23), settings=slack_settings)
    assert (row.team, row.nudges_sent, row.nudges_tried, row.engaged, row.reached, row.active_28d) == (
        "Sales EMEA",
        1,
        1,
        1,
        1,
        None,  # a month of one person's activity is theirs alone: under k members, active_28d is hidden
    )


def test_someone_who_only_pressed_not_for_me_is_reached_but_not_engaged(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    person = _berliner(engine)
    clock.start_at(TUESDAY_10_BERLIN)
    _tick_and_send(engine, slack_settings, TUESDAY_10_BERLIN)
    message = _nudge_message(fake_slack, "UBERLIN01")
    clock.advance(timedelta(minutes=20))
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        _click(server, message, "UBERLIN01", ids.NUDGE_NOT_FOR_ME)
        wait_for(
            lambda: deliveries(engine, person)[0].status == "not_for_me", what="the click to be recorded"
        )
    with session_scope(engine, readonly=True) as session:
        [row, total] = compute_metrics(session, week_monday=date(2026, 11, 23), settings=slack_settings)
    # Declining a nudge is an answer, not adoption: reached, but neither engaged nor active.
    assert (row.reached, row.engaged) == (1, 0)
    assert total.engaged == 0


def test_remind_me_later_brings_the_same_nudge_back_at_the_next_slot(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    person = _berliner(engine)
    _tick_and_send(engine, slack_settings, TUESDAY_10_BERLIN)
    first = _nudge_message(fake_slack, "UBERLIN01")
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        _click(server, first, "UBERLIN01", ids.NUDGE_LATER)
        wait_for(lambda: deliveries(engine, person)[0].status == "later", what="the click")
    drain(engine, make_web_client(slack_settings), slack_settings)
    assert "comes back as your next nudge" in _texts(fake_slack.message(first.channel, first.ts).blocks)  # type: ignore[union-attr]
    # Nothing more on Tuesday; on Thursday the same nudge again, as Thursday's nudge.
    _tick_and_send(engine, slack_settings, TUESDAY_10_BERLIN + timedelta(minutes=40))
    _tick_and_send(engine, slack_settings, TUESDAY_10_BERLIN + timedelta(days=2))
    posts = [m for m in fake_slack.messages("UBERLIN01") if "nudge" in m.text.lower()]
    assert len(posts) == 2 and "Nudge all-1" in _texts(posts[1].blocks)
    [delivery] = deliveries(engine, person)
    assert (delivery.slot, delivery.status, delivery.outbox_key) == (
        "2026-11-26",
        "sent",
        f"nudge:{person}:2026-11-26",
    )
    assert delivery.sent_at is not None


def test_two_tried_move_a_person_up_a_level(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    from bot.nudges.service import record_click

    person = _berliner(engine)
    with session_scope(engine) as session:
        for slot, nudge_id in (("2026-11-17", "all-1"), ("2026-11-19", "sales-0")):
            session.add(
                NudgeDelivery(
                    person_id=person,
                    nudge_id=nudge_id,
                    slot=slot,
                    level=1,
                    outbox_key=f"nudge:{person}:{slot}",
                    status="sent",
                )
            )
            session.add(
                OutboxMessage(
                    key=f"nudge:{person}:{slot}",
                    kind="nudge",
                    channel="UBERLIN01",
                    payload={"text": "x"},
                    state="sent",
                )
            )
    with session_scope(engine) as session:
        found = session.scalars(select(NudgeDelivery).where(NudgeDelivery.person_id == person)).all()
        results = [
            record_click(
                session, LIBRARY, delivery_id=d.id, slot=d.slot, slack_user_id="UBERLIN01", action="tried"
            )
            for d in sorted(found, key=lambda d: d.slot)
        ]
        assert [r.levelled_up for r in results if r] == [False, True]
        assert session.get(Person, person).nudge_level == 2  # type: ignore[union-attr]
        # Someone else's click changes nothing.
        assert (
            record_click(
                session,
                LIBRARY,
                delivery_id=found[0].id,
                slot=found[0].slot,
                slack_user_id="UOTHER001",
                action="not_for_me",
            )
            is None
        )
    _tick_and_send(engine, slack_settings, TUESDAY_10_BERLIN)
    assert deliveries(engine, person)[-1].nudge_id == "sales-2"  # level 2 (sales-1 was level 1)


def test_share_a_win_opens_the_win_modal(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    _berliner(engine)
    _tick_and_send(engine, slack_settings, TUESDAY_10_BERLIN)
    message = _nudge_message(fake_slack, "UBERLIN01")
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server, ResponseSink() as sink:
        _click(server, message, "UBERLIN01", ids.NUDGE_SHARE_WIN, response_url=sink.url("win"))
        [opened] = wait_for(lambda: fake_slack.calls_to("views.open"), what="the win modal")
    assert opened.params["view"]["callback_id"] == ids.WIN_MODAL
    assert sink.posts("win") == []


def test_pause_resume_and_me(engine: Engine, slack_settings: Settings, fake_slack: FakeSlack) -> None:
    person = _berliner(engine)
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        status, answer = server.command("pause 3", user_id="UBERLIN01")
        assert status == 200 and answer["response_type"] == "ephemeral"
        assert "paused for 3 weeks" in answer["text"]
        with session_scope(engine, readonly=True) as session:
            paused_until = session.get(Person, person).paused_until  # type: ignore[union-attr]
        assert paused_until is not None and (paused_until - date.today()).days in (19, 20, 21)
        _, bad = server.command("pause 40", user_id="UBERLIN01")
        assert bad["text"].startswith("Usage: `/adopt pause [WEEKS]`")
        _, me = server.command("me", user_id="UBERLIN01")
        assert "Level 1" in me["text"] and "Nudges are paused" in _texts(me["blocks"])
        _, resumed = server.command("resume", user_id="UBERLIN01")
        assert "back on" in resumed["text"]
        _, again = server.command("resume", user_id="UBERLIN01")
        assert "weren't paused" in again["text"]
        _, stranger = server.command("pause", user_id="UNOBODY01")
        assert "don't have you on the roster" in stranger["text"]
    with session_scope(engine, readonly=True) as session:
        assert session.get(Person, person).paused_until is None  # type: ignore[union-attr]


def _home_of(fake: FakeSlack, user: str) -> dict[str, Any]:
    return fake.home_views[user]


def test_home_shows_progress_and_pauses_with_a_button(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    person = _berliner(engine)
    with session_scope(engine) as session:
        session.add(
            NudgeDelivery(
                person_id=person,
                nudge_id="all-1",
                slot="2026-11-17",
                level=1,
                status="tried",
                outbox_key="k",
                sent_at=datetime(2026, 11, 17, 9),
                tried_at=datetime.now(),
            )
        )
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        server.event({"type": "app_home_opened", "user": "UBERLIN01", "tab": "home", "channel": "D0HOME"})
        view = wait_for(lambda: fake_slack.home_views.get("UBERLIN01"), what="the Home tab")
        text = _texts(view["blocks"])
        assert "Your AI nudges" in text and "tried: *1*" in text and "1-week streak" in text
        payload = signing.block_actions_payload(
            "UBERLIN01", ids.NUDGE_PAUSE, "2", view=view, block_id=ids.NUDGE_HOME_BLOCK
        )
        server.interact(payload)
        wait_for(
            lambda: "Resume nudges" in _texts(_home_of(fake_slack, "UBERLIN01")["blocks"]),
            what="the Home tab with a resume button",
        )
    with session_scope(engine, readonly=True) as session:
        assert session.get(Person, person).paused_until is not None  # type: ignore[union-attr]
