"""The dashboard's pages on a demo organisation: the overview shows exactly `adoptbot metrics`' figures and
hides exactly what it hides, a team page its own row, and nobody reads past their rights."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot import clock
from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.models import Person, Team, TeamLead
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer
from tests.support.web import DEMO_DAY, Browser, Page, dashboard_settings, seed_demo

WEEK = "2026-W47"


@pytest.fixture
def demo_org(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    seed_demo(db_url, tmp_path)
    capsys.readouterr()


@pytest.fixture
def server(
    slack_settings: Settings, fake_slack: FakeSlack, engine: Engine, demo_org: None
) -> Iterator[SlackAppServer]:
    settings = dashboard_settings(slack_settings, fake_slack)
    with SlackAppServer(settings, engine, public=True) as running:
        yield running


def cli_table(db_url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, list[str]]:
    """`adoptbot metrics --week W` as printed: each row's cells by team ('*' for the organisation)."""
    with clock.frozen_at(DEMO_DAY):
        assert main(["metrics", "--db", db_url, "--week", WEEK, *extra]) == 0
    lines = capsys.readouterr().out.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("----"))
    rows = {}
    for line in lines[rule + 1 :]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[cells[0]] = cells[1:]
    return rows


def page_table(page: Page) -> dict[str, list[str]]:
    """The overview's "Every figure" table: each row's cells by team ('*' for the whole organisation)."""
    section = page.text.split('id="metrics"', 1)[1]
    rows = {}
    for row in re.findall(r"(?s)<tr>(.*?)</tr>", section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]):
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", c).split())
            for c in re.findall(r"(?s)<t[hd][^>]*>(.*?)</t[hd]>", row)
        ]
        name = "*" if cells[0] == "Whole organisation" else cells[0]
        rows[name] = [c.replace("&#43;", "+") for c in cells[1:]]
    return rows


def user_of(engine: Engine, *, manager: bool = False, leads: str | None = None) -> str:
    with session_scope(engine, readonly=True) as session:
        query = select(Person.slack_user_id).where(Person.is_active)
        if manager:
            query = query.where(Person.is_change_manager)
        if leads is not None:
            query = query.join(TeamLead, TeamLead.person_id == Person.id).join(
                Team, Team.id == TeamLead.team_id
            )
            query = query.where(
                Team.name == leads, Person.is_change_manager.is_(False), Person.leads_all.is_(False)
            )
        found = session.scalars(query.order_by(Person.id)).first()
        assert found is not None
        return found


def test_the_overview_shows_what_adoptbot_metrics_prints_hidden_where_it_is_hidden(
    server: SlackAppServer,
    fake_slack: FakeSlack,
    engine: Engine,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    expected = cli_table(db_url, capsys)
    browser = Browser(server.url)
    with clock.frozen_at(DEMO_DAY):
        browser.sign_in(fake_slack, user_of(engine, manager=True))
        page = browser.get(f"/dashboard/?week={WEEK}")
    assert page.status == 200
    shown = page_table(page)
    assert shown == expected
    assert any("hidden" in cells for cells in shown.values()), "the demo has a team whose survey is hidden"
    assert any("hidden" not in cells for cells in shown.values())


def test_a_leader_reads_their_team_and_no_one_elses(
    server: SlackAppServer,
    fake_slack: FakeSlack,
    engine: Engine,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    expected = cli_table(db_url, capsys)
    with session_scope(engine, readonly=True) as session:
        teams = {name: id_ for name, id_ in session.execute(select(Team.name, Team.id))}
    led = next(name for name in sorted(teams) if _has_plain_leader(engine, name))
    browser = Browser(server.url)
    with clock.frozen_at(DEMO_DAY):
        browser.sign_in(fake_slack, user_of(engine, leads=led))
        page = browser.get(f"/dashboard/?week={WEEK}")
        assert page_table(page) == {led: expected[led]}
        team_page = browser.get(f"/dashboard/team/{teams[led]}?week={WEEK}")
        assert team_page.status == 200 and led in team_page.visible_text()
        for other, other_id in teams.items():
            if other != led:
                assert browser.get(f"/dashboard/team/{other_id}?week={WEEK}").status == 403


def _has_plain_leader(engine: Engine, team: str) -> bool:
    try:
        user_of(engine, leads=team)
    except AssertionError:
        return False
    return True


def test_a_starting_server_computes_the_overviews_figures_before_anyone_asks(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    from bot.dashboard.figures import figures_of
    from bot.metrics.service import last_complete_week
    from bot.slack import web
    from bot.slack.runtime import runtime_of

    runtime = runtime_of(server.bolt_app)
    monday = last_complete_week(runtime.settings, clock.utcnow())
    assert figures_of(runtime).computed_on(monday) is None
    for thread in web.warm(runtime):
        thread.join(60)
    assert figures_of(runtime).computed_on(monday) is not None
    browser = Browser(server.url)
    browser.sign_in(fake_slack, user_of(engine, manager=True))
    assert "Figures computed" in browser.get("/dashboard/").visible_text()
