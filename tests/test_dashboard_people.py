"""The dashboard's People page: search, and a roster upload previewed line by line before it is applied,
all-or-nothing, with the same prune guard as `adoptbot roster import`. Change managers only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.db import session_scope
from bot.models import Person, Team
from tests.support.factories import add_person, add_team
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer
from tests.support.web import Browser, dashboard_settings, form_fields

HEADER = "email,name,team,role,change_manager\n"
GOOD = (
    HEADER
    + "chris@example.com,Chris Manager,Alpha,sales,yes\n"
    + "nina@example.com,Nina New,Gamma,engineering,no\n"
    + "omar@example.com,Omar Moved,Alpha,finance,no\n"
)


@pytest.fixture
def server(slack_settings: Settings, fake_slack: FakeSlack, engine: Engine) -> Iterator[SlackAppServer]:
    settings = dashboard_settings(slack_settings, fake_slack)
    with session_scope(engine) as session:
        add_team(session, "Alpha")
        add_team(session, "Beta")
        add_person(
            session, "UCM", team="Alpha", name="Chris Manager", change_manager=True, email="chris@example.com"
        )
        add_person(session, "ULEAD", team="Beta", name="Lee Leader", leads=["Beta"], email="lee@example.com")
        add_person(session, "UOMAR", team="Beta", name="Omar Moved", email="omar@example.com", role="sales")
    with SlackAppServer(settings, engine, public=True) as running:
        yield running


def people(engine: Engine) -> dict[str, tuple[str | None, bool]]:
    """Everyone's team and whether they are active, by name."""
    with session_scope(engine, readonly=True) as session:
        rows = session.execute(
            select(Person.name, Team.name, Person.is_active).outerjoin(Team, Team.id == Person.team_id)
        )
        return {name: (team, active) for name, team, active in rows}


APPLY = "/dashboard/people/apply"


def signed_in(server: SlackAppServer, fake: FakeSlack, user_id: str = "UCM") -> Browser:
    browser = Browser(server.url)
    browser.sign_in(fake, user_id)
    return browser


def test_a_file_with_a_bad_line_shows_the_line_and_changes_nothing(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    before = people(engine)
    browser = signed_in(server, fake_slack)
    csrf = browser.get("/dashboard/people").csrf
    bad = GOOD + "zed@example.com,Zed Bad,Alpha,astronaut,no\n"
    page = browser.post_file("/dashboard/people/upload", {"csrf": csrf}, "roster", "people.csv", bad.encode())
    assert page.status == 400
    text = page.visible_text()
    assert "line 5:" in text and "astronaut" in text and "nothing was imported" in text
    assert "Apply these changes" not in text
    assert people(engine) == before


def test_a_good_file_is_previewed_then_applied_exactly(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    before = people(engine)
    browser = signed_in(server, fake_slack)
    csrf = browser.get("/dashboard/people").csrf
    preview = browser.post_file(
        "/dashboard/people/upload", {"csrf": csrf}, "roster", "people.csv", GOOD.encode()
    )
    assert preview.status == 200
    text = preview.visible_text()
    assert "1 added, 1 updated, 0 deactivated, 1 unchanged" in text
    assert "+ Nina New" in text and "~ Omar Moved" in text and "Gamma" in text
    assert people(engine) == before, "a preview changes nothing"
    applied = browser.post("/dashboard/people/apply", form_fields(preview.text, APPLY, preview.csrf))
    assert applied.status == 302
    after = people(engine)
    assert after["Nina New"] == ("Gamma", True) and after["Omar Moved"] == ("Alpha", True)
    assert "Roster imported: 1 added, 1 updated" in browser.get("/dashboard/people").visible_text()


def test_apply_refuses_when_the_roster_changed_since_the_preview(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = signed_in(server, fake_slack)
    csrf = browser.get("/dashboard/people").csrf
    preview = browser.post_file(
        "/dashboard/people/upload", {"csrf": csrf}, "roster", "people.csv", GOOD.encode()
    )
    with session_scope(engine) as session:
        add_person(session, "UNINA", team="Beta", name="Nina New", email="nina@example.com")
    stale = browser.post("/dashboard/people/apply", form_fields(preview.text, APPLY, preview.csrf))
    assert stale.status == 409 and "changed since the preview" in stale.visible_text()
    assert people(engine)["Nina New"] == ("Beta", True)


def test_prune_is_guarded_as_on_the_command_line(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = signed_in(server, fake_slack)
    csrf = browser.get("/dashboard/people").csrf
    only_chris = HEADER + "chris@example.com,Chris Manager,Alpha,sales,yes\n"
    form = {"csrf": csrf, "prune": "on"}
    preview = browser.post_file("/dashboard/people/upload", form, "roster", "one.csv", only_chris.encode())
    text = preview.visible_text()
    assert "2 deactivated" in text and "This import would stop" in text
    assert "Apply these changes" not in text
    forced = browser.post_file(
        "/dashboard/people/upload", {**form, "force": "on"}, "roster", "one.csv", only_chris.encode()
    )
    assert "− Lee Leader" in forced.visible_text()
    assert browser.post("/dashboard/people/apply", form_fields(forced.text, APPLY, forced.csrf)).status == 302
    assert people(engine)["Lee Leader"] == ("Beta", False)


def test_only_change_managers_see_or_change_the_roster(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = signed_in(server, fake_slack, "ULEAD")
    assert browser.get("/dashboard/people").status == 403
    csrf = browser.get("/dashboard/").csrf
    sneaky = browser.post_file("/dashboard/people/upload", {"csrf": csrf}, "roster", "p.csv", GOOD.encode())
    assert sneaky.status == 403
    assert (
        browser.post("/dashboard/people/apply", {"csrf": csrf, "text": GOOD, "fingerprint": "x"}).status
        == 403
    )
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 3


def test_search_finds_people_by_name_email_or_team(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = signed_in(server, fake_slack)
    text = browser.get("/dashboard/people?q=beta").visible_text()
    assert "2 people match" in text and "Lee Leader" in text and "Omar Moved" in text
    assert "1 person match" in browser.get("/dashboard/people?q=LEE%40example").visible_text()
    assert "0 people match" in browser.get("/dashboard/people?q=%25").visible_text(), "% is a character"
