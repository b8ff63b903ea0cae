"""The dashboard's Exports (the same CSV and JSON as `adoptbot metrics`, limited to the viewer's teams, 403
for anyone else's) and Content pages (the catalogue, the coverage tables, a fresh content check)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot import clock
from bot.cli import main
from bot.config import Settings
from bot.content import bundled_content_dir
from bot.db import session_scope
from bot.models import Person, Team, TeamLead
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer
from tests.support.web import DEMO_DAY, Browser, dashboard_settings, seed_demo

WEEK = "2026-W47"


@pytest.fixture
def demo(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_demo(db_url, tmp_path)
    capsys.readouterr()


@pytest.fixture
def server(
    slack_settings: Settings, fake_slack: FakeSlack, engine: Engine, demo: None, tmp_path: Path
) -> Iterator[SlackAppServer]:
    library = tmp_path / "content"
    shutil.copytree(bundled_content_dir(), library)
    settings = dashboard_settings(slack_settings, fake_slack, content_dir=library)
    with SlackAppServer(settings, engine, public=True) as running:
        yield running


def people(engine: Engine) -> tuple[str, str, dict[str, int]]:
    """A change manager, a leader of one team only, and the teams by name."""
    with session_scope(engine, readonly=True) as session:
        manager = session.scalars(select(Person.slack_user_id).where(Person.is_change_manager)).first()
        leader = session.scalars(
            select(Person.slack_user_id)
            .join(TeamLead, TeamLead.person_id == Person.id)
            .where(Person.is_change_manager.is_(False), Person.leads_all.is_(False))
        ).first()
        teams = {name: id_ for name, id_ in session.execute(select(Team.name, Team.id))}
    assert manager and leader
    return manager, leader, teams


def test_the_csv_and_json_are_what_adoptbot_metrics_writes(
    server: SlackAppServer,
    fake_slack: FakeSlack,
    engine: Engine,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    manager, _, _ = people(engine)
    browser = Browser(server.url)
    browser.sign_in(fake_slack, manager)
    for fmt in ("csv", "json"):
        with clock.frozen_at(DEMO_DAY):
            assert main(["metrics", "--db", db_url, "--week", WEEK, "--format", fmt]) == 0
        expected = capsys.readouterr().out
        page = browser.get(f"/dashboard/exports/metrics.{fmt}?week={WEEK}")
        assert page.status == 200
        assert f"adoptbot-metrics-{WEEK}.{fmt}" in page.headers["Content-Disposition"]
        if fmt == "json":
            assert json.loads(page.text) == json.loads(expected)
        else:
            assert page.text.strip() == expected.strip()


def test_a_leader_exports_only_their_teams_and_gets_403_for_others(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    _, leader, teams = people(engine)
    browser = Browser(server.url)
    browser.sign_in(fake_slack, leader)
    rows = json.loads(browser.get(f"/dashboard/exports/metrics.json?week={WEEK}").text)
    with session_scope(engine, readonly=True) as session:
        led = set(
            session.scalars(
                select(Team.name)
                .join(TeamLead, TeamLead.team_id == Team.id)
                .join(Person, Person.id == TeamLead.person_id)
                .where(Person.slack_user_id == leader)
            )
        )
    assert {r["team"] for r in rows} == led
    other = next(team_id for name, team_id in teams.items() if name not in led)
    assert browser.get(f"/dashboard/exports/metrics.csv?week={WEEK}&team={other}").status == 403
    assert browser.get(f"/dashboard/exports/metrics.csv?week={WEEK}&team=abc").status == 403


def test_the_content_page_browses_the_library_and_checks_the_folder_as_it_is_now(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    manager, _, _ = people(engine)
    browser = Browser(server.url)
    browser.sign_in(fake_slack, manager)
    page = browser.get("/dashboard/content?role=engineering&level=3&tool=github-copilot").visible_text()
    assert "Content OK" in page and "Coverage" in page
    assert "GitHub Copilot" in page and "level 3" in page and "level 1" not in page
    assert "weeks" in page and "Tool tracks" in page
    # An edit on disk with a mistake: the page says where, before any restart.
    library = server.settings.content_dir
    assert library is not None
    roles = library / "roles.toml"
    roles.write_text(roles.read_text() + '\n[[role]]\nid = "Bad Id!"\nname = ""\n')
    broken = browser.get("/dashboard/content").visible_text()
    assert "problem" in broken and "roles.toml" in broken


def test_people_who_lead_nothing_see_neither(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    with session_scope(engine, readonly=True) as session:
        plain = session.scalars(
            select(Person.slack_user_id).where(
                Person.is_change_manager.is_(False),
                Person.leads_all.is_(False),
                ~select(TeamLead.person_id).where(TeamLead.person_id == Person.id).exists(),
            )
        ).first()
    assert plain is not None
    browser = Browser(server.url)
    browser.sign_in(fake_slack, plain)
    assert browser.get("/dashboard/content").status == 403
    assert browser.get("/dashboard/exports").status == 403
    assert browser.get(f"/dashboard/exports/metrics.csv?week={WEEK}").status == 403
