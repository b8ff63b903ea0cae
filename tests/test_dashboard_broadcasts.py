"""The dashboard's broadcasts: compose with inline errors, preview, send (DMs reach the fake Slack),
status with acknowledgements, cancel; change managers only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.db import session_scope
from bot.models import Broadcast, BroadcastStatus, Team
from tests.support.factories import add_person, add_team
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.support.web import Browser, dashboard_settings


@pytest.fixture
def server(slack_settings: Settings, fake_slack: FakeSlack, engine: Engine) -> Iterator[SlackAppServer]:
    settings = dashboard_settings(slack_settings, fake_slack)
    with session_scope(engine) as session:
        add_team(session, "Alpha")
        add_team(session, "Beta")
        add_person(session, "UCM", team="Alpha", name="Chris Manager", change_manager=True)
        add_person(session, "ULEAD", team="Beta", name="Lee Leader", leads=["Beta"])
        for n in range(3):
            add_person(session, f"UA{n}", team="Alpha", name=f"Alpha {n}")
    for user_id in ("UCM", "ULEAD", "UA0", "UA1", "UA2"):
        fake_slack.add_user(user_id)
    with SlackAppServer(settings, engine, public=True, send_replies=True) as running:
        yield running


def team_id(engine: Engine, name: str) -> str:
    with session_scope(engine, readonly=True) as session:
        return str(session.scalar(select(Team.id).where(Team.name == name)))


def broadcasts(engine: Engine) -> list[tuple[int, BroadcastStatus]]:
    with session_scope(engine, readonly=True) as session:
        return [(b.id, b.status) for b in session.scalars(select(Broadcast).order_by(Broadcast.id))]


def test_a_broadcast_without_an_audience_is_refused_in_place(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    csrf = browser.get("/dashboard/broadcasts").csrf
    page = browser.post("/dashboard/broadcasts", {"csrf": csrf, "message": "Town hall on Friday"})
    assert page.status == 400
    text = page.visible_text()
    assert "Choose who gets it" in text and "Town hall on Friday" in text, "the message typed is kept"
    assert broadcasts(engine) == []


def test_compose_preview_send_and_watch_it_arrive(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    csrf = browser.get("/dashboard/broadcasts").csrf
    form = {"csrf": csrf, "message": "New AI policy: read it by Friday", "teams": team_id(engine, "Alpha")}
    saved = browser.post("/dashboard/broadcasts", {**form, "ask_ack": "on", "when": "now"})
    assert saved.status == 302
    [(broadcast_id, status)] = broadcasts(engine)
    assert status == BroadcastStatus.DRAFT
    preview = browser.get(saved.location).visible_text()
    assert "New AI policy" in preview and "Teams: Alpha" in preview and "4 people" in preview
    wait_for(lambda: fake_slack.posted_to("UCM"), what="the sender's preview DM in Slack")
    sent = browser.post(f"/dashboard/broadcasts/{broadcast_id}/send", {"csrf": csrf})
    assert sent.status == 302
    for user_id in ("UA0", "UA1", "UA2"):
        wait_for(
            lambda u=user_id: any("New AI policy" in m.block_text() for m in fake_slack.posted_to(u)),
            what=f"the broadcast in {user_id}'s DMs",
        )
    status = browser.get(f"/dashboard/broadcasts/{broadcast_id}").visible_text()
    assert "on its way" in status or "Delivered" in status
    assert "Alpha" in status
    again = browser.post(f"/dashboard/broadcasts/{broadcast_id}/send", {"csrf": csrf})
    assert again.status == 302
    assert "already sent" in browser.get(again.location).visible_text()


def test_a_draft_can_be_cancelled_and_then_not_sent(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    csrf = browser.get("/dashboard/broadcasts").csrf
    browser.post("/dashboard/broadcasts", {"csrf": csrf, "message": "Oops", "everyone": "on"})
    [(broadcast_id, _)] = broadcasts(engine)
    assert browser.post(f"/dashboard/broadcasts/{broadcast_id}/cancel", {"csrf": csrf}).status == 302
    browser.post(f"/dashboard/broadcasts/{broadcast_id}/send", {"csrf": csrf})
    assert broadcasts(engine) == [(broadcast_id, BroadcastStatus.CANCELLED)]


def test_leaders_cannot_read_or_send_broadcasts(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    manager = Browser(server.url)
    manager.sign_in(fake_slack, "UCM")
    csrf = manager.get("/dashboard/broadcasts").csrf
    manager.post("/dashboard/broadcasts", {"csrf": csrf, "message": "Draft", "everyone": "on"})
    [(broadcast_id, _)] = broadcasts(engine)
    leader = Browser(server.url)
    leader.sign_in(fake_slack, "ULEAD")
    own = leader.get("/dashboard/").csrf
    assert leader.get("/dashboard/broadcasts").status == 403
    assert leader.get(f"/dashboard/broadcasts/{broadcast_id}").status == 403
    assert leader.post("/dashboard/broadcasts", {"csrf": own, "message": "x", "everyone": "on"}).status == 403
    assert leader.post(f"/dashboard/broadcasts/{broadcast_id}/send", {"csrf": own}).status == 403
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Broadcast)) == 1
    assert broadcasts(engine) == [(broadcast_id, BroadcastStatus.DRAFT)]
