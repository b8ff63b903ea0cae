"""Installing Adoptbot through Slack's OAuth flow against the fake Slack (`oauth.v2.access`): install and
reinstall, forged and expired state refused, token rotation, uninstall stopping the outbox without losing
a message. The single-token mode is what every other test uses."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Engine, select, update

from bot import outbox
from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.models import SLACK_BOTS, SLACK_OAUTH_STATES, OutboxMessage, OutboxState
from bot.slack.client import installed_token, make_web_client
from bot.slack.install import installed
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.support.web import Browser

STATE_SECRET = "state-secret-0123456789"


@pytest.fixture
def settings(slack_settings: Settings, fake_slack: FakeSlack) -> Settings:
    client_id, secret = fake_slack.oidc_client
    return dataclasses.replace(
        slack_settings,
        slack_bot_token=None,
        slack_client_id=client_id,
        slack_client_secret=secret,
        slack_state_secret=STATE_SECRET,
    )


@pytest.fixture
def server(settings: Settings, engine: Engine) -> Iterator[SlackAppServer]:
    with SlackAppServer(settings, engine, public=True) as running:
        yield running


def install(server: SlackAppServer) -> Browser:
    """Add Adoptbot to the workspace as a person would: /slack/install, Slack's page, back with a code."""
    browser = Browser(server.url)
    start = browser.get("/slack/install")
    assert start.status == 302, start.text
    query = parse_qs(urlsplit(start.location).query)
    assert urlsplit(start.location).path == "/oauth/v2/authorize"
    assert "chat:write" in query["scope"][0].split(",")
    assert query["redirect_uri"] == [server.url + "/slack/oauth_redirect"]
    slack = browser.get(start.location)
    done = browser.get(slack.location)
    assert done.status == 200, done.text
    return browser


def bots(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(SLACK_BOTS.c.bot_token).order_by(SLACK_BOTS.c.id)))


def queue_one(engine: Engine, key: str = "hello") -> None:
    with session_scope(engine) as session:
        outbox.enqueue(session, key=key, kind="test", channel="U1", text="Hello from the installed app")


def state_of(engine: Engine, key: str) -> OutboxState:
    with session_scope(engine, readonly=True) as session:
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
        assert row is not None
        return row.state


def test_an_installed_app_sends_with_the_token_the_install_gave(
    server: SlackAppServer, settings: Settings, fake_slack: FakeSlack, engine: Engine
) -> None:
    fake_slack.add_user("U1")
    install(server)
    assert bots(engine) == fake_slack.bot_tokens[:1]
    where = installed(engine, settings)
    assert where is not None and where.team_id == fake_slack.team_id
    queue_one(engine)
    report = outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)
    assert report.sent == 1
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {fake_slack.bot_tokens[0]}"


def test_a_reinstall_replaces_the_token_everywhere(
    server: SlackAppServer, settings: Settings, fake_slack: FakeSlack, engine: Engine
) -> None:
    fake_slack.add_user("U1")
    install(server)
    install(server)
    assert len(fake_slack.bot_tokens) == 2
    installed_token(settings).forget()
    queue_one(engine)
    outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {fake_slack.bot_tokens[1]}"


def test_a_forged_or_expired_state_installs_nothing(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    forged = browser.get("/slack/oauth_redirect?code=anything&state=forged")
    assert forged.status >= 400
    start = browser.get("/slack/install")
    with engine.begin() as connection:  # the state's ten minutes are up
        connection.execute(update(SLACK_OAUTH_STATES).values(expire_at=datetime(2020, 1, 1)))
    slack = browser.get(start.location)
    late = browser.get(slack.location)
    assert late.status >= 400
    assert bots(engine) == []
    assert not fake_slack.calls_to("oauth.v2.access"), "no code is spent on a refused state"


def test_an_expiring_token_is_rotated_and_the_new_one_used(
    server: SlackAppServer, settings: Settings, fake_slack: FakeSlack, engine: Engine
) -> None:
    fake_slack.add_user("U1")
    fake_slack.token_rotation, fake_slack.token_seconds = True, 600  # expires within the 2-hour margin
    install(server)
    installed_token(settings).forget()
    queue_one(engine)
    outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)
    assert len(fake_slack.bot_tokens) == 2, "the refresh token bought a new bot token"
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {fake_slack.bot_tokens[1]}"
    assert bots(engine)[-1] == fake_slack.bot_tokens[1]


def test_uninstalling_stops_sending_and_loses_nothing(
    server: SlackAppServer,
    settings: Settings,
    fake_slack: FakeSlack,
    engine: Engine,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_slack.add_user("U1")
    install(server)
    assert server.event({"type": "app_uninstalled"}) == 200
    # Bolt acks first and deletes the installation on its listener thread right after.
    wait_for(lambda: installed(engine, settings) is None, what="the installation to be deleted")
    installed_token(settings).forget()
    queue_one(engine, "after-uninstall")
    report = outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)
    assert report.sent == 0 and (report.halted or "").startswith("not_authed")
    assert state_of(engine, "after-uninstall") == OutboxState.PENDING
    for name, value in {
        "SLACK_CLIENT_ID": settings.slack_client_id,
        "SLACK_CLIENT_SECRET": settings.slack_client_secret,
        "SLACK_STATE_SECRET": STATE_SECRET,
    }.items():
        monkeypatch.setenv(name, value or "")
    assert main(["outbox", "status", "--db", db_url]) == 0
    assert "not installed in Slack" in capsys.readouterr().out


def test_serve_in_oauth_mode_needs_the_public_address_not_a_bot_token(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "secret",
        "SLACK_STATE_SECRET": STATE_SECRET,
        "SLACK_SIGNING_SECRET": "signing",
        "DATABASE_URL": db_url,
    }.items():
        monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "ADOPTBOT_PUBLIC_URL" in err and "SLACK_BOT_TOKEN" not in err


def test_a_tick_from_cron_sends_with_the_installed_token(
    server: SlackAppServer,
    settings: Settings,
    fake_slack: FakeSlack,
    engine: Engine,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_slack.add_user("U1")
    install(server)
    queue_one(engine, "from-cron")
    for name, value in {
        "SLACK_CLIENT_ID": settings.slack_client_id,
        "SLACK_CLIENT_SECRET": settings.slack_client_secret,
        "SLACK_STATE_SECRET": STATE_SECRET,
        "SLACK_API_URL": fake_slack.url,
    }.items():
        monkeypatch.setenv(name, value or "")
    assert main(["tick", "--db", db_url]) == 0, capsys.readouterr().err
    assert state_of(engine, "from-cron") == OutboxState.SENT
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.headers["authorization"] == f"Bearer {fake_slack.bot_tokens[0]}"
