"""The dashboard's front door: Sign in with Slack (OpenID Connect against the fake Slack), its cookie,
sign-out, CSRF, expiry, and rights read from the roster on every request. Real HTTP, a cookie jar, the
real app."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, select

from bot import clock
from bot.config import Settings
from bot.db import session_scope
from bot.models import AppState, Deactivation, Person
from bot.people.roster import deactivate
from tests.support.factories import add_person, add_team
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer
from tests.support.web import Browser, dashboard_settings

COOKIE = "adoptbot_session"


@pytest.fixture
def settings(slack_settings: Settings, fake_slack: FakeSlack) -> Settings:
    return dashboard_settings(slack_settings, fake_slack)


@pytest.fixture
def org(engine: Engine, fake_slack: FakeSlack) -> None:
    with session_scope(engine) as session:
        add_team(session, "Alpha")
        add_team(session, "Beta")
        add_person(session, "UCM", team="Alpha", name="Chris Manager", change_manager=True)
        add_person(session, "ULEAD", team="Alpha", name="Lee Leader", leads=["Alpha"])
        add_person(session, "UEMP", team="Beta", name="Emma Employee")
        add_person(session, "UGONE", team="Beta", name="Gone Person", active=False)
    for user_id in ("UCM", "ULEAD", "UEMP", "UGONE", "USTRANGER"):
        fake_slack.add_user(user_id, email=f"{user_id.lower()}@example.com")


@pytest.fixture
def server(settings: Settings, engine: Engine, org: None) -> Iterator[SlackAppServer]:
    with SlackAppServer(settings, engine, public=True) as running:
        yield running


def team_id(engine: Engine, name: str) -> int:
    with session_scope(engine, readonly=True) as session:
        from bot.models import Team

        found = session.scalar(select(Team.id).where(Team.name == name))
        assert found is not None
        return found


def test_sign_in_with_slack_lands_a_change_manager_on_the_overview(
    server: SlackAppServer, fake_slack: FakeSlack
) -> None:
    browser = Browser(server.url)
    signed_out = browser.get("/dashboard/")
    assert signed_out.status == 302 and signed_out.location.endswith("/dashboard/signin")
    assert "Sign in with Slack" in browser.get("/dashboard/signin").text

    start = browser.get("/dashboard/login")
    target = urlsplit(start.location)
    query = parse_qs(target.query)
    assert target.path == "/openid/connect/authorize"
    assert query["scope"] == ["openid profile email"]
    assert query["client_id"] == [fake_slack.oidc_client[0]]
    assert query["redirect_uri"] == [server.url + "/dashboard/auth/callback"]

    fake_slack.oidc_user = "UCM"
    back = browser.get(browser.get(start.location).location)
    assert back.status == 302 and back.location.endswith("/dashboard/")
    cookie = browser.cookie(COOKIE)
    assert cookie is not None and cookie.path == "/dashboard"
    raw = back.headers.get_all("Set-Cookie") or []
    assert any("HttpOnly" in line and "SameSite=Lax" in line for line in raw)

    overview = browser.get("/dashboard/")
    assert overview.status == 200
    text = overview.visible_text()
    assert "Chris Manager" in text and "Alpha" in text and "Beta" in text and "Whole organisation" in text
    token = fake_slack.calls_to("openid.connect.token")
    assert token and token[0].headers.get("authorization", "").lower().startswith("basic ")


def test_the_session_cookie_is_secure_when_the_public_address_is_https(
    settings: Settings, engine: Engine, org: None, fake_slack: FakeSlack
) -> None:
    from bot.dashboard.app import create_app
    from bot.slack.app import build_app
    from bot.slack.runtime import runtime_of
    from bot.wiring import register_listeners
    from tests.support.slack_app import library

    https = dataclasses.replace(settings, public_url="https://adoptbot.example.com")
    flask_app = create_app(runtime_of(build_app(https, engine, library(), listeners=register_listeners)))
    assert flask_app.config["SESSION_COOKIE_SECURE"] is True
    assert flask_app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_a_sign_in_that_was_not_started_here_is_refused(
    server: SlackAppServer, fake_slack: FakeSlack
) -> None:
    attacker, victim = Browser(server.url), Browser(server.url)
    attacker.get("/dashboard/login")
    fake_slack.oidc_user = "UCM"
    # A code issued for the attacker's own sign-in, handed to a victim's browser with a forged state.
    code = fake_slack.oidc_code("UCM", server.url + "/dashboard/auth/callback")
    forged = victim.get(f"/dashboard/auth/callback?code={code}&state=forged")
    assert forged.status == 403
    assert "sign in again" in forged.visible_text()
    assert victim.cookie(COOKIE) is None or victim.get("/dashboard/").status == 302
    assert not fake_slack.calls_to("openid.connect.token"), "a forged state must not even spend the code"


def test_someone_slack_knows_but_the_roster_does_not_gets_no_dashboard(
    server: SlackAppServer, fake_slack: FakeSlack
) -> None:
    for user_id in ("USTRANGER", "UGONE"):
        browser = Browser(server.url)
        refused = browser.sign_in(fake_slack, user_id)
        assert refused.status == 403
        assert "not on Adoptbot's active roster" in refused.visible_text()
        assert browser.get("/dashboard/").status == 302


def test_an_admin_listed_in_adoptbot_admins_signs_in_before_any_roster(
    settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    admin = dataclasses.replace(settings, admins=frozenset({"UFIRST"}))
    with SlackAppServer(admin, engine, public=True) as server:
        browser = Browser(server.url)
        assert browser.sign_in(fake_slack, "UFIRST").status == 302
        page = browser.get("/dashboard/")
        assert page.status == 200 and "Overview" in page.visible_text()
        assert "not on the roster" in browser.get("/dashboard/me").visible_text()


def test_slack_refusing_the_code_is_one_sentence_and_no_session(
    server: SlackAppServer, fake_slack: FakeSlack
) -> None:
    browser = Browser(server.url)
    start = browser.get("/dashboard/login")
    state = parse_qs(urlsplit(start.location).query)["state"][0]
    refused = browser.get(f"/dashboard/auth/callback?code=not-a-code&state={state}")
    assert refused.status == 403
    assert "Slack could not confirm who you are" in refused.visible_text()
    assert "Traceback" not in refused.text
    assert browser.get("/dashboard/").status == 302


def test_a_leader_sees_the_teams_they_lead_and_gets_403_for_the_others(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "ULEAD")
    overview = browser.get("/dashboard/").visible_text()
    assert "Alpha" in overview
    assert "Beta" not in overview and "Whole organisation" not in overview
    assert browser.get(f"/dashboard/team/{team_id(engine, 'Alpha')}").status == 200
    assert browser.get(f"/dashboard/team/{team_id(engine, 'Beta')}").status == 403
    assert browser.get("/dashboard/team/999999").status == 403


def test_everyone_else_sees_only_their_own_progress(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UEMP")
    home = browser.get("/dashboard/")
    assert home.status == 302 and home.location.endswith("/dashboard/me")
    me = browser.get("/dashboard/me")
    assert me.status == 200 and "My progress" in me.visible_text()
    assert "Overview" not in me.visible_text()
    assert browser.get(f"/dashboard/team/{team_id(engine, 'Beta')}").status == 403


def test_a_manager_the_roster_removed_loses_access_with_a_live_cookie(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    assert browser.get("/dashboard/").status == 200
    with session_scope(engine) as session:
        person = session.scalar(select(Person).where(Person.slack_user_id == "UCM"))
        assert person is not None
        deactivate(session, [person.id], by=Deactivation.ROSTER, now=clock.utcnow())
    assert browser.get("/dashboard/").status == 302
    assert browser.get(f"/dashboard/team/{team_id(engine, 'Alpha')}").status == 302


def test_a_demoted_manager_keeps_only_what_the_roster_now_gives(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    with session_scope(engine) as session:
        person = session.scalar(select(Person).where(Person.slack_user_id == "UCM"))
        assert person is not None
        person.is_change_manager = False
    assert browser.get("/dashboard/").location.endswith("/dashboard/me")
    assert browser.get(f"/dashboard/team/{team_id(engine, 'Alpha')}").status == 403


def test_sessions_expire_twelve_hours_after_sign_in(server: SlackAppServer, fake_slack: FakeSlack) -> None:
    browser = Browser(server.url)
    with clock.frozen_at(datetime(2026, 11, 2, 8, 0)):
        browser.sign_in(fake_slack, "UCM")
    with clock.frozen_at(datetime(2026, 11, 2, 19, 59)):
        assert browser.get("/dashboard/").status == 200
    with clock.frozen_at(datetime(2026, 11, 2, 20, 0, 1)):
        assert browser.get("/dashboard/").status == 302


def test_a_tampered_cookie_signs_nobody_in(server: SlackAppServer, fake_slack: FakeSlack) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UEMP")
    cookie = browser.cookie(COOKIE)
    payload, _, signature = cookie.value.partition(".")
    # Another person's ID with the old signature, and a cookie signed with some other key.
    cookie.value = payload.replace("UEMP", "UCM") + "." + signature
    assert browser.get("/dashboard/").status == 302
    from itsdangerous import URLSafeTimedSerializer

    forged = URLSafeTimedSerializer(
        "not-the-key", salt="cookie-session", signer_kwargs={"key_derivation": "hmac"}
    )
    cookie.value = forged.dumps({"uid": "UCM", "iat": 2_000_000_000})
    assert browser.get("/dashboard/").status == 302


def test_sign_out_needs_the_forms_csrf_token(server: SlackAppServer, fake_slack: FakeSlack) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    page = browser.get("/dashboard/")
    forged = browser.post("/dashboard/logout", {"csrf": "guessed"})
    assert forged.status == 400 and "expired" in forged.visible_text()
    assert browser.get("/dashboard/").status == 200, "a forged sign-out changed nothing"
    done = browser.post("/dashboard/logout", {"csrf": page.csrf})
    assert done.status == 302 and done.location.endswith("/dashboard/signin")
    assert browser.get("/dashboard/").status == 302


def test_the_cookie_key_is_generated_once_and_kept_in_the_database(
    server: SlackAppServer, settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    assert settings.session_secret is None
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    with session_scope(engine, readonly=True) as session:
        keys = session.scalars(select(AppState.value).where(AppState.key == "dashboard_session_secret")).all()
    assert len(keys) == 1 and len(keys[0]) >= 48
    # A second instance of the same installation accepts the first one's cookie.
    with SlackAppServer(server.settings, engine) as other:
        again = Browser(other.url)
        again.cookies = browser.cookies
        again._opener = browser._opener
        assert again.get(other.url + "/dashboard/").status == 200


def test_pages_say_no_to_framing_and_caching(server: SlackAppServer, fake_slack: FakeSlack) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    page = browser.get("/dashboard/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]


def test_without_a_client_id_the_sign_in_page_says_what_to_set(
    slack_settings: Settings, engine: Engine
) -> None:
    with SlackAppServer(slack_settings, engine, public=True) as server:
        browser = Browser(server.url)
        page = browser.get("/dashboard/signin").visible_text()
        assert "SLACK_CLIENT_ID" in page and "ADOPTBOT_PUBLIC_URL" in page
        assert browser.get("/dashboard/login").status == 404


def test_the_dashboards_settings_are_checked_in_one_sentence() -> None:
    from bot.config import ConfigError, load_settings

    loaded = load_settings(
        {
            "SLACK_CLIENT_ID": "1234.5678",
            "SLACK_CLIENT_SECRET": "s3cret",
            "ADOPTBOT_PUBLIC_URL": "https://adoptbot.example.com/",
            "ADOPTBOT_SESSION_SECRET": "x" * 32,
        },
        env_file=None,
    )
    assert loaded.public_url == "https://adoptbot.example.com"
    assert (loaded.slack_client_id, loaded.slack_client_secret) == ("1234.5678", "s3cret")
    with pytest.raises(ConfigError, match="ADOPTBOT_PUBLIC_URL must be an http"):
        load_settings({"ADOPTBOT_PUBLIC_URL": "adoptbot.example.com"}, env_file=None)
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_settings({"ADOPTBOT_SESSION_SECRET": "short"}, env_file=None)
