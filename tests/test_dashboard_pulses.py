"""The dashboard's Pulses page: open a run (invitations go out), see answered counts per team (never an
answer), close it early, set the next run's date (the scheduler then opens it that day, once); change
managers only."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select

from bot import clock
from bot.config import Settings
from bot.db import session_scope
from bot.models import PulseRun
from bot.pulses import calendar
from bot.pulses import service as pulses
from tests.support.factories import add_person, add_team
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, library
from tests.support.web import Browser, dashboard_settings


@pytest.fixture
def server(slack_settings: Settings, fake_slack: FakeSlack, engine: Engine) -> Iterator[SlackAppServer]:
    settings = dashboard_settings(slack_settings, fake_slack)
    with session_scope(engine) as session:
        add_team(session, "Alpha")
        add_person(session, "UCM", team="Alpha", name="Chris Manager", change_manager=True, timezone="UTC")
        add_person(session, "ULEAD", team="Alpha", name="Lee Leader", leads=["Alpha"], timezone="UTC")
        for n in range(3):
            add_person(session, f"UA{n}", team="Alpha", name=f"Alpha {n}", timezone="UTC")
    for user_id in ("UCM", "ULEAD", "UA0", "UA1", "UA2"):
        fake_slack.add_user(user_id, tz="UTC")
    with SlackAppServer(settings, engine, public=True, send_replies=True) as running:
        yield running


def runs(engine: Engine) -> list[tuple[int, bool]]:
    with session_scope(engine, readonly=True) as session:
        now = clock.utcnow()
        return [(r.id, r.is_open(now)) for r in session.scalars(select(PulseRun).order_by(PulseRun.id))]


def test_open_watch_and_close_a_run(server: SlackAppServer, fake_slack: FakeSlack, engine: Engine) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    csrf = browser.get("/dashboard/pulses").csrf
    opened = browser.post("/dashboard/pulses/open", {"csrf": csrf, "survey": "adkar"})
    assert opened.status == 302
    [(run_id, is_open)] = runs(engine)
    assert is_open
    page = browser.get("/dashboard/pulses").visible_text()
    assert f"Pulse #{run_id} is open: 5 invitations" in page
    assert "0 of 5 answered" in page
    twice = browser.post("/dashboard/pulses/open", {"csrf": csrf, "survey": "adkar"})
    assert "Not opened" in browser.get(twice.location).visible_text() and len(runs(engine)) == 1
    closed = browser.post(f"/dashboard/pulses/{run_id}/close", {"csrf": csrf})
    assert closed.status == 302
    assert runs(engine) == [(run_id, False)]
    assert f"Pulse #{run_id} is closed" in browser.get("/dashboard/pulses").visible_text()


def test_the_next_run_opens_on_the_date_set_then_follows_the_cadence(
    engine: Engine, slack_settings: Settings
) -> None:
    settings = dataclasses.replace(slack_settings, nudge_hour=10)
    lib = library()
    with session_scope(engine) as session:
        add_team(session, "Alpha")
        for n in range(3):
            add_person(session, f"UA{n}", team="Alpha", timezone="UTC")
        # A run a week ago: by its two-week cadence the next is a week away.
        pulses.open_run(
            session, library=lib, settings=settings, now=datetime(2026, 11, 2, 10, 0), survey_id="adkar"
        )
        pulses.close_due_runs(session, now=datetime(2026, 11, 10, 10, 0))
        calendar.schedule(session, "adkar", date(2026, 11, 11))
        assert calendar.next_run_date(session, lib.surveys["adkar"], settings) == date(2026, 11, 11)
    with session_scope(engine) as session:
        assert (
            pulses.open_due_runs(session, library=lib, settings=settings, now=datetime(2026, 11, 10, 11)) == 0
        )
    with session_scope(engine) as session:
        assert (
            pulses.open_due_runs(session, library=lib, settings=settings, now=datetime(2026, 11, 11, 11)) == 3
        )
        assert calendar.scheduled_date(session, "adkar") is None, "a date set by hand is used once"
        due = calendar.next_run_date(session, lib.surveys["adkar"], settings)
        assert due == date(2026, 11, 11) + timedelta(weeks=lib.surveys["adkar"].cadence_weeks)
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(PulseRun)) == 2


def test_setting_the_next_run_in_the_dashboard(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    csrf = browser.get("/dashboard/pulses").csrf
    day = clock.local_today(server.settings.tz) + timedelta(days=9)
    done = browser.post(
        "/dashboard/pulses/schedule", {"csrf": csrf, "survey": "adkar", "date": day.isoformat()}
    )
    assert done.status == 302
    with session_scope(engine, readonly=True) as session:
        assert calendar.scheduled_date(session, "adkar") == day
    past = browser.post("/dashboard/pulses/schedule", {"csrf": csrf, "survey": "adkar", "date": "2020-01-01"})
    assert "has passed" in browser.get(past.location).visible_text()
    browser.post("/dashboard/pulses/schedule", {"csrf": csrf, "survey": "adkar", "date": ""})
    with session_scope(engine, readonly=True) as session:
        assert calendar.scheduled_date(session, "adkar") is None


def test_only_change_managers_run_pulses(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "ULEAD")
    csrf = browser.get("/dashboard/").csrf
    assert browser.get("/dashboard/pulses").status == 403
    assert browser.post("/dashboard/pulses/open", {"csrf": csrf, "survey": "adkar"}).status == 403
    assert (
        browser.post("/dashboard/pulses/schedule", {"csrf": csrf, "survey": "adkar", "date": ""}).status
        == 403
    )
    assert runs(engine) == []
