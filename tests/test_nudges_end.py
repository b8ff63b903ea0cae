"""The end of the library: one DM saying what the person completed and how to go on, then a refresher
cycle of the nudges they tried; new nudges before refreshers; `/adopt me` and App Home tell the truth.
Every step goes the real way: the tick, the outbox, the fake Slack server, signed clicks."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from bot import clock
from bot.config import Settings
from bot.content import Library
from bot.db import session_scope
from bot.jobs import run_due_jobs
from bot.models import OutboxMessage, Person
from bot.outbox import drain
from bot.slack import ids
from bot.slack.client import make_web_client
from tests.support.factories import add_person, add_team, add_win
from tests.support.fake_slack import FakeSlack, Message
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_nudges_slack import _click
from tests.test_nudges_world import LONG_AGO, deliveries, make_library, nudge

DAY_ONE = datetime(2026, 11, 24, 9, 5)  # a Tuesday, 10:05 in Berlin
# all-1 (level 1), sales-0 (level 1), sales-1 (level 2)
LIBRARY = make_library(sales_nudges=2)
GROWN = dataclasses.replace(LIBRARY, nudges=(*LIBRARY.nudges, nudge("sales-new", 1)))
USER = "UBERLIN01"


def _settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, nudge_days=tuple(range(7)), nudges_per_week=7)


def _berliner(engine: Engine) -> int:
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        return add_person(session, USER, timezone="Europe/Berlin", team=team, created_at=LONG_AGO).id


def _day(engine: Engine, settings: Settings, day: int, library: Library = LIBRARY) -> None:
    """The tick at 10:05 Berlin on `day` (0: DAY_ONE), then the outbox drained to the fake Slack."""
    now = DAY_ONE + timedelta(days=day)
    clock.start_at(now)
    assert run_due_jobs(engine, settings, library, now).failed_jobs == []
    assert run_due_jobs(engine, settings, library, now + timedelta(minutes=30)).failed_jobs == []
    drain(engine, make_web_client(settings), settings)


def _dms(fake: FakeSlack) -> list[Message]:
    return fake.messages(USER)


def _text(blocks: list[dict[str, Any]] | None) -> str:
    return json.dumps(blocks or [], ensure_ascii=False)


def _headers(fake: FakeSlack) -> list[str]:
    return [
        block["text"]["text"]
        for m in _dms(fake)
        for block in (m.blocks or [])[:1]
        if block["type"] == "header"
    ]


def _person(engine: Engine, person_id: int) -> Person:
    with session_scope(engine, readonly=True) as session:
        found = session.get(Person, person_id)
        assert found is not None
        return found


def _me(server: SlackAppServer) -> str:
    _, answer = server.command("me", user_id=USER)
    return _text(answer["blocks"])


def _home(server: SlackAppServer, fake: FakeSlack) -> str:
    before = fake.home_views.get(USER)
    server.event({"type": "app_home_opened", "user": USER, "tab": "home", "channel": "D0HOME"})
    view = wait_for(lambda: (v := fake.home_views.get(USER)) is not before and v, what="the Home tab")
    return _text(view["blocks"])


def test_the_end_message_once_then_refreshers_of_what_they_tried_new_nudges_first(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    person = _berliner(engine)
    with session_scope(engine) as session:
        author = session.get(Person, person)
        add_win(session, author, at=LONG_AGO, hours=1)
        add_win(session, author, at=LONG_AGO, hours=1, status="rejected")
    with SlackAppServer(settings, engine, content=LIBRARY) as server:
        for day, choice in enumerate((ids.NUDGE_TRIED, ids.NUDGE_NOT_FOR_ME, ids.NUDGE_TRIED)):
            _day(engine, settings, day)
            _click(server, _dms(fake_slack)[-1], USER, choice)
            wait_for(lambda d=day: deliveries(engine, person)[d].status != "sent", what="the click")
        assert [d.nudge_id for d in deliveries(engine, person)] == ["all-1", "sales-0", "sales-1"]
        # Nothing new is left: the end message takes Friday's slot, so the first refresher is Saturday's.
        before_end = _me(server)
        assert "You've completed the library (3 nudges). Refreshers of the nudges you tried" in before_end
        assert "2 to go, the next on Saturday 28 November, 10:00." in before_end

        _day(engine, settings, 3)  # nothing new: the end of the library takes this slot
        end = _dms(fake_slack)[-1]
        assert end.text == "You've completed the library: 3 nudges, 2 tried. Here is how to go on."
        said = _text(end.blocks)
        assert "You've completed the library" in said and "You tried 2 of them and shared 1 win." in said
        assert "`/adopt win`" in said and "tell your change manager" in said
        assert "you'll get the 2 nudges you tried once more" in said
        assert len(deliveries(engine, person)) == 3
        me = _me(server)
        assert (
            "You've completed the library (3 nudges). Refreshers of the nudges you tried come at your " in me
        )
        assert "2 to go, the next on Saturday 28 November, 10:00." in me and "Next nudge" not in me
        assert "2 to go, the next on Saturday 28 November, 10:00." in _home(server, fake_slack)

        _day(engine, settings, 4, GROWN)  # a nudge added since comes before any refresher
        assert _headers(fake_slack)[-1] == "Nudge sales-new"
        _day(engine, settings, 5, GROWN)  # refreshers: level 2-3 first, then oldest first
        refresher = _dms(fake_slack)[-1]
        assert _headers(fake_slack)[-1] == "Refresher: Nudge sales-1"
        assert refresher.text == "Your AI nudge: Refresher: Nudge sales-1"
        assert "You tried this one before" in _text(refresher.blocks)
        _click(server, refresher, USER, ids.NUDGE_TRIED)
        wait_for(lambda: deliveries(engine, person)[-1].status == "tried", what="the refresher's click")
        drain(engine, make_web_client(settings), settings)
        updated = fake_slack.message(refresher.channel, refresher.ts)
        assert updated is not None and "Refresher: Nudge sales-1" in _text(updated.blocks)
        assert "You tried this — nice!" in _text(updated.blocks)

        _day(engine, settings, 6, GROWN)
        assert _headers(fake_slack)[-1] == "Refresher: Nudge all-1"
        for day in (7, 8, 9):  # the cycle is over: nothing more, and no second end message
            _day(engine, settings, day, GROWN)
        me = _me(server)
    headers = _headers(fake_slack)
    assert headers == [
        "Nudge all-1",
        "Nudge sales-0",
        "Nudge sales-1",
        "🎉 You've completed the library",
        "Nudge sales-new",
        "Refresher: Nudge sales-1",
        "Refresher: Nudge all-1",
    ]
    assert [(d.nudge_id, d.cycle) for d in deliveries(engine, person)][-2:] == [("sales-1", 1), ("all-1", 1)]
    assert "You've completed the library (4 nudges) and its refreshers: new nudges come as the" in me
    assert "Next nudge" not in me and "the next on" not in me
    with session_scope(engine, readonly=True) as session:
        ends = session.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "nudge_done")).all()
    assert ends == [f"nudge-end:{person}"]


def test_someone_who_tried_none_is_told_there_are_no_refreshers(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    person = _berliner(engine)
    for day in range(7):
        _day(engine, settings, day)
    headers = _headers(fake_slack)
    assert headers == ["Nudge all-1", "Nudge sales-0", "Nudge sales-1", "🎉 You've completed the library"]
    said = _text(_dms(fake_slack)[-1].blocks)
    assert "*No refreshers*: you didn't mark any nudge as tried" in said and "shared no win yet" in said
    assert "`/adopt win`" in said
    assert len(deliveries(engine, person)) == 3
    clock.start_at(DAY_ONE + timedelta(days=7))
    with SlackAppServer(settings, engine, content=LIBRARY) as server:
        home = _home(server, fake_slack)
    assert "You've completed the library (3 nudges). You marked none as tried, so no refreshers" in home
    assert "Next nudge" not in home


def test_pause_holds_the_refreshers_like_any_nudge(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    person = _berliner(engine)
    with SlackAppServer(settings, engine, content=LIBRARY) as server:
        for day in range(3):
            _day(engine, settings, day)
            _click(server, _dms(fake_slack)[-1], USER, ids.NUDGE_TRIED)
            wait_for(lambda d=day: deliveries(engine, person)[d].status == "tried", what="the click")
        _day(engine, settings, 3)
        _, paused = server.command("pause 1", user_id=USER)
        assert "paused for 1 week" in paused["text"]
        wait_for(lambda: _person(engine, person).paused_until is not None, what="the pause to be recorded")
        me = _me(server)
    assert "Nudges are paused" in me and "the next on" not in me
    for day in range(4, 10):  # paused through day 9 (the pause runs seven local days from day 3)
        _day(engine, settings, day)
    assert len(_headers(fake_slack)) == 4
    _day(engine, settings, 10)
    assert _headers(fake_slack)[-1] == "Refresher: Nudge sales-1"


def test_a_refresher_put_off_with_remind_me_later_comes_back_as_a_refresher(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    person = _berliner(engine)
    with SlackAppServer(settings, engine, content=LIBRARY) as server:
        for day in range(3):
            _day(engine, settings, day)
            _click(server, _dms(fake_slack)[-1], USER, ids.NUDGE_TRIED)
            wait_for(lambda d=day: deliveries(engine, person)[d].status == "tried", what="the click")
        _day(engine, settings, 3)
        _day(engine, settings, 4)
        _click(server, _dms(fake_slack)[-1], USER, ids.NUDGE_LATER)
        wait_for(lambda: deliveries(engine, person)[-1].status == "later", what="the click")
        _day(engine, settings, 5)
        _day(engine, settings, 6)
    assert _headers(fake_slack)[-3:] == [
        "Refresher: Nudge sales-1",
        "Refresher: Nudge sales-1",
        "Refresher: Nudge all-1",
    ]
    assert [(d.nudge_id, d.cycle) for d in deliveries(engine, person)][3:] == [("sales-1", 1), ("all-1", 1)]
