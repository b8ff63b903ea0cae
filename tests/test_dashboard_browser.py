"""The dashboard in a real headless Chromium (Playwright driving Debian's `chromium`): sign in through the
fake Slack's OpenID Connect, read the overview, approve a win and see it in the wins channel, upload a
roster with a bad line (nothing changes) and then a good one (preview, apply); every page passes an axe-core
scan with no serious or critical violation, and is usable at 375 px wide.

Needs Chromium and the `playwright` package (`pip install -e '.[test]'`; `.ci/run` installs Chromium):
without them these tests are skipped, saying which is missing (with TEST_REQUIRE_BROWSER=1, as in CI,
they fail instead). With TEST_SCREENSHOT_DIR set, each page's screenshot is written
there (the README's pictures come from such a run).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot import clock
from bot.config import Settings
from bot.db import session_scope
from bot.models import Person, Team, Win, WinStatus
from tests.support.factories import add_win
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.support.web import dashboard_settings, seed_demo

REQUIRED = os.environ.get("TEST_REQUIRE_BROWSER") == "1"  # CI: fail rather than skip
if not REQUIRED:
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    pytest.importorskip("axe_playwright_python.sync_playwright", reason="axe-playwright-python is missing")
from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

WINS_CHANNEL = "C0WINS"
SERIOUS = {"serious", "critical"}


def chromium_path() -> str | None:
    found = os.environ.get("TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


def browser_environment() -> dict[str, str]:
    """The browser's environment: ours without libfaketime (CI's shifted-clock run preloads it; the
    product's clock is what is shifted, and Chromium's timers hang under it)."""
    return {
        name: value
        for name, value in os.environ.items()
        if name != "LD_PRELOAD" and not name.startswith(("FAKETIME", "DONT_FAKE"))
    }


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        why = "no Chromium found (install Debian's `chromium` package, or set TEST_CHROMIUM)"
        if REQUIRED:
            pytest.fail(why)
        pytest.skip(why)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(browser_environment())  # the driver (Node.js) starts without libfaketime too
    try:
        driver = sync_playwright().start()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        browser = driver.chromium.launch(
            executable_path=path, args=["--no-sandbox", "--disable-dev-shm-usage"], env=browser_environment()
        )
        yield browser
        browser.close()
    finally:
        driver.stop()


@pytest.fixture
def demo(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: Engine) -> None:
    seed_demo(db_url, tmp_path, teams=4, members=40)
    capsys.readouterr()
    with session_scope(engine) as session:
        author = session.scalars(select(Person).where(Person.is_active).order_by(Person.id.desc())).first()
        add_win(
            session,
            author,
            at=clock.utcnow(),
            hours=2.5,
            status="pending",
            share="named",
            what="Turned the weekly ops report into a 10-minute job with Copilot in Excel",
        )


@pytest.fixture
def server(
    slack_settings: Settings, fake_slack: FakeSlack, engine: Engine, demo: None
) -> Iterator[SlackAppServer]:
    settings = dashboard_settings(slack_settings, fake_slack, wins_channel=WINS_CHANNEL)
    fake_slack.add_channel(WINS_CHANNEL, name="ai-wins")
    with SlackAppServer(settings, engine, public=True, send_replies=True) as running:
        yield running


@pytest.fixture
def manager(engine: Engine) -> str:
    with session_scope(engine, readonly=True) as session:
        found = session.scalars(
            select(Person.slack_user_id).where(Person.is_change_manager, Person.is_active).order_by(Person.id)
        ).first()
    assert found is not None
    return found


def shoot(page: Any, name: str, *, whole: bool = True) -> None:
    """The page's screenshot into TEST_SCREENSHOT_DIR, if set (whole=False: only what the window shows)."""
    folder = os.environ.get("TEST_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=whole)


def accessible(page: Any) -> None:
    """axe-core finds no serious or critical violation on the page as it stands."""
    result = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result.response["violations"]
        if v.get("impact") in SERIOUS
    ]
    assert bad == [], f"{page.url}: {bad}"


def sign_in(page: Any, server: SlackAppServer, fake: FakeSlack, user_id: str) -> None:
    fake.oidc_user = user_id
    page.goto(server.url + "/dashboard/")
    assert page.url.endswith("/dashboard/signin")
    accessible(page)
    page.get_by_role("link", name="Sign in with Slack").click()
    page.wait_for_url(server.url + "/dashboard/")


def test_a_change_manager_runs_the_programme_from_the_browser(
    chromium: Any, server: SlackAppServer, fake_slack: FakeSlack, engine: Engine, manager: str, tmp_path: Path
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, server, fake_slack, manager)
    page.goto(server.url + "/dashboard/?week=2026-W47")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Overview")
    assert page.get_by_role("row", name="Whole organisation").count() >= 1
    accessible(page)
    shoot(page, "overview")

    # Approve the pending win: it appears in the fake Slack's wins channel.
    page.get_by_role("link", name="Wins").first.click()
    accessible(page)
    shoot(page, "wins")
    page.get_by_role("button", name="Approve win").first.click()
    assert "approved" in page.get_by_role("status").inner_text()
    posted = wait_for(lambda: fake_slack.messages(WINS_CHANNEL), what="the approved win in the wins channel")
    assert "weekly ops report" in posted[0].block_text()
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(Win.id).where(Win.status == WinStatus.PENDING)) is None

    # A roster with one bad line: the line's error, nothing changed.
    page.get_by_role("link", name="People").click()
    accessible(page)
    shoot(page, "people", whole=False)
    with session_scope(engine, readonly=True) as session:
        team = session.scalars(select(Team.name).order_by(Team.name)).first()
        count = len(session.scalars(select(Person.id)).all())
    bad = tmp_path / "bad.csv"
    bad.write_text(
        f"email,name,team,role\nnew.one@example.com,New One,{team},sales\nx@example.com,X,{team},astronaut\n"
    )
    page.get_by_label("Roster CSV").set_input_files(str(bad))
    page.get_by_role("button", name="Preview changes").click()
    alert = page.get_by_role("alert").inner_text()
    assert "line 3:" in alert and "astronaut" in alert
    with session_scope(engine, readonly=True) as session:
        assert len(session.scalars(select(Person.id)).all()) == count

    # A good one: the preview lists the newcomer; Apply adds them.
    good = tmp_path / "good.csv"
    good.write_text(f"email,name,team,role\nnew.one@example.com,New One,{team},sales\n")
    page.get_by_label("Roster CSV").set_input_files(str(good))
    page.get_by_role("button", name="Preview changes").click()
    assert "+ New One" in page.locator(".preview").inner_text()
    accessible(page)
    shoot(page, "people-preview", whole=False)
    page.get_by_role("button", name="Apply these changes").click()
    assert "Roster imported: 1 added" in page.get_by_role("status").inner_text()
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(Person.name).where(Person.email == "new.one@example.com")) == "New One"
        team_id = session.scalar(select(Team.id).where(Team.name == team))

    # The other pages, for the eye (TEST_SCREENSHOT_DIR) and for axe.
    for name, path in (
        ("team", f"/dashboard/team/{team_id}?week=2026-W47"),
        ("pulses", "/dashboard/pulses"),
        ("broadcasts", "/dashboard/broadcasts"),
        ("content", "/dashboard/content"),
        ("exports", "/dashboard/exports"),
        ("audit", "/dashboard/audit"),
    ):
        page.goto(server.url + path)
        accessible(page)
        shoot(page, name, whole=name not in ("content", "team"))
    context.close()


def test_every_page_is_accessible_and_fits_a_phone(
    chromium: Any, server: SlackAppServer, fake_slack: FakeSlack, engine: Engine, manager: str
) -> None:
    context = chromium.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    sign_in(page, server, fake_slack, manager)
    with session_scope(engine, readonly=True) as session:
        team_id = session.scalars(select(Team.id).order_by(Team.id)).first()
    for path in (
        "/dashboard/?week=2026-W47",
        f"/dashboard/team/{team_id}?week=2026-W47",
        "/dashboard/wins",
        "/dashboard/people",
        "/dashboard/pulses",
        "/dashboard/broadcasts",
        "/dashboard/content",
        "/dashboard/exports",
        "/dashboard/audit",
        "/dashboard/me",
    ):
        page.goto(server.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375 + 1, f"{path} scrolls sideways"
        accessible(page)
    shoot(page, "me-phone")
    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    context.close()
