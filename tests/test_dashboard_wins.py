"""The dashboard's wins page: change managers approve, edit or reject with the same effects as in Slack (the
wins channel, the author's DM), nobody else can, and the gallery names only who chose to be named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, select

from bot import clock
from bot.config import Settings
from bot.db import session_scope
from bot.models import Person, Team, Win, WinStatus
from tests.support.factories import add_person, add_team, add_win
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.support.web import Browser, dashboard_settings

CHANNEL = "C0WINS"
NOW = datetime(2026, 11, 18, 10, 0)


@pytest.fixture
def settings(slack_settings: Settings, fake_slack: FakeSlack) -> Settings:
    return dashboard_settings(slack_settings, fake_slack, wins_channel=CHANNEL)


@pytest.fixture
def wins(engine: Engine, fake_slack: FakeSlack) -> dict[str, int]:
    fake_slack.add_channel(CHANNEL, name="ai-wins")
    with session_scope(engine) as session:
        add_team(session, "Alpha")
        add_team(session, "Beta")
        add_person(session, "UCM", team="Alpha", name="Chris Manager", change_manager=True)
        add_person(session, "ULEAD", team="Alpha", name="Lee Leader", leads=["Alpha"])
        author = add_person(session, "UAUTH", team="Alpha", name="Ava Author")
        shy = add_person(session, "USHY", team="Beta", name="Sam Shy")
        found = {
            "named": add_win(session, author, at=NOW, hours=2, status="pending", share="named").id,
            "anonymous": add_win(
                session,
                shy,
                at=NOW,
                hours=1,
                status="approved",
                share="anonymous",
                what="Summarised a thread",
            ).id,
            "private": add_win(
                session, shy, at=NOW, hours=3, status="approved", share="private", what="Private matter"
            ).id,
        }
    for user_id in ("UCM", "ULEAD", "UAUTH", "USHY"):
        fake_slack.add_user(user_id)
    return found


@pytest.fixture
def server(settings: Settings, engine: Engine, wins: dict[str, int]) -> Iterator[SlackAppServer]:
    with SlackAppServer(settings, engine, public=True, send_replies=True) as running:
        yield running


def status_of(engine: Engine, win_id: int) -> WinStatus:
    with session_scope(engine, readonly=True) as session:
        win = session.get(Win, win_id)
        assert win is not None
        return win.status


def test_approving_in_the_dashboard_shares_the_win_in_the_channel_and_tells_the_author(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine, wins: dict[str, int]
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    page = browser.get("/dashboard/wins")
    assert "To review (1)" in page.visible_text() and "Ava Author" in page.visible_text()
    done = browser.post(f"/dashboard/wins/{wins['named']}/approve", {"csrf": page.csrf})
    assert done.status == 302
    assert status_of(engine, wins["named"]) == WinStatus.APPROVED
    posted = wait_for(lambda: fake_slack.messages(CHANNEL), what="the win in the wins channel")
    assert "Drafted the QBR deck with AI" in posted[0].block_text()
    wait_for(lambda: fake_slack.posted_to("UAUTH"), what="the author's DM")
    after = browser.get("/dashboard/wins").visible_text()
    assert "approved" in after and "Nothing waiting" in after


def test_an_edit_is_saved_with_the_approval(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine, wins: dict[str, int]
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    csrf = browser.get("/dashboard/wins").csrf
    with session_scope(engine, readonly=True) as session:
        beta = session.scalar(select(Team.id).where(Team.name == "Beta"))
    form = {"csrf": csrf, "what": "Drafted the QBR deck in an hour", "tool": "Copilot", "hours": "1,5"}
    assert browser.post(f"/dashboard/wins/{wins['named']}/edit", {**form, "team": str(beta)}).status == 302
    with session_scope(engine, readonly=True) as session:
        win = session.get(Win, wins["named"])
        assert win is not None
        assert (win.status, win.what, win.tool, win.hours_per_week, win.team_id) == (
            WinStatus.APPROVED,
            "Drafted the QBR deck in an hour",
            "Copilot",
            1.5,
            beta,
        )


def test_a_bad_edit_or_a_rejection_without_a_note_changes_nothing(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine, wins: dict[str, int]
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    csrf = browser.get("/dashboard/wins").csrf
    bad = browser.post(f"/dashboard/wins/{wins['named']}/edit", {"csrf": csrf, "what": "x", "hours": "lots"})
    assert bad.status == 400 and "hours saved per week" in bad.visible_text()
    empty = browser.post(f"/dashboard/wins/{wins['named']}/reject", {"csrf": csrf, "reason": "  "})
    assert empty.status == 400 and "short note" in empty.visible_text()
    assert status_of(engine, wins["named"]) == WinStatus.PENDING
    rejected = browser.post(f"/dashboard/wins/{wins['named']}/reject", {"csrf": csrf, "reason": "Too vague"})
    assert rejected.status == 302
    assert status_of(engine, wins["named"]) == WinStatus.REJECTED
    dm = wait_for(lambda: fake_slack.posted_to("UAUTH"), what="the author's DM")
    assert "Too vague" in dm[-1].block_text()


def test_only_change_managers_moderate(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine, wins: dict[str, int]
) -> None:
    for user_id in ("ULEAD", "UAUTH"):
        browser = Browser(server.url)
        browser.sign_in(fake_slack, user_id)
        page = browser.get("/dashboard/wins")
        if user_id == "ULEAD":  # a leader sees the gallery, not the queue
            assert page.status == 200 and "To review" not in page.visible_text()
        else:  # everyone else has their own progress page only
            assert page.status == 403
        csrf = browser.get("/dashboard/me").csrf
        refused = browser.post(f"/dashboard/wins/{wins['named']}/approve", {"csrf": csrf})
        assert refused.status == 403
    assert status_of(engine, wins["named"]) == WinStatus.PENDING
    assert not fake_slack.messages(CHANNEL)


def test_a_form_from_another_site_cannot_approve(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine, wins: dict[str, int]
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    assert browser.post(f"/dashboard/wins/{wins['named']}/approve", {}).status == 400
    assert status_of(engine, wins["named"]) == WinStatus.PENDING


def test_the_gallery_names_only_named_authors_and_never_shows_private_wins(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine, wins: dict[str, int]
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "ULEAD")
    gallery = browser.get("/dashboard/wins").visible_text()
    assert "Summarised a thread" in gallery and "Anonymous" in gallery
    assert "Sam Shy" not in gallery
    assert "Private matter" not in gallery


def test_a_win_decided_in_slack_meanwhile_is_not_decided_twice(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine, wins: dict[str, int]
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    csrf = browser.get("/dashboard/wins").csrf
    with session_scope(engine) as session:
        win = session.get(Win, wins["named"])
        assert win is not None
        win.status, win.reviewed_at = WinStatus.REJECTED, clock.utcnow()
        win.reject_reason = "Decided in Slack"
    page = browser.post(f"/dashboard/wins/{wins['named']}/approve", {"csrf": csrf})
    assert page.status == 302
    assert "already been decided" in browser.get("/dashboard/wins").visible_text()
    assert status_of(engine, wins["named"]) == WinStatus.REJECTED
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(Person.id).where(Person.slack_user_id == "UCM")) is not None
