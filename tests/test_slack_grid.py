"""Enterprise Grid: Adoptbot installed in an organisation of two workspaces, played by the fake Slack
(`FakeSlack.grid()`: a workspace's token reaches only that workspace's members and channels; an org-wide
token reaches every workspace, and users.list with it needs `team_id`, as Slack's do).

Installed org-wide (one install for the whole organisation) or workspace by workspace (each with its own
token): people in both workspaces get broadcasts and digests, each message with a token that reaches them
(a channel's workspace, and that of someone not seen yet, are asked of Slack), requests from either
workspace are answered, and uninstalling one workspace stops only its messages.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, select, update

from bot import outbox
from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.models import OutboxMessage, OutboxState, Person
from bot.slack import ids
from bot.slack.client import installed_token, make_web_client
from bot.slack.install import installed
from tests import test_broadcasts_slack as broadcasts_slack
from tests.support.factories import add_person
from tests.support.fake_slack import Call, FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_digest import build_world
from tests.test_slack_oauth import STATE_SECRET, install

ONE, TWO, ORG = "T0ONE", "T0TWO", "E0GRID"


@pytest.fixture
def grid(fake_slack: FakeSlack) -> FakeSlack:
    fake_slack.grid({ONE: "Workspace One", TWO: "Workspace Two"}, enterprise_id=ORG)
    return fake_slack


@pytest.fixture
def settings(slack_settings: Settings, grid: FakeSlack) -> Settings:
    client_id, secret = grid.oidc_client
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


@pytest.fixture
def oauth_env(settings: Settings, grid: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment of `adoptbot` commands for this install: OAuth, no bot token."""
    for name, value in {
        "SLACK_CLIENT_ID": settings.slack_client_id,
        "SLACK_CLIENT_SECRET": settings.slack_client_secret,
        "SLACK_STATE_SECRET": STATE_SECRET,
        "SLACK_API_URL": grid.url,
    }.items():
        monkeypatch.setenv(name, value or "")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)


def token_of(call: Call) -> str:
    return str(call.headers["authorization"]).removeprefix("Bearer ")


def posts_to(fake: FakeSlack, user: str) -> list[Call]:
    return [c for c in fake.calls_to("chat.postMessage") if c.params.get("channel") in (user, "D" + user)]


def workspace_of(engine: Engine, user: str) -> str | None:
    with session_scope(engine, readonly=True) as session:
        return session.scalar(select(Person.slack_workspace_id).where(Person.slack_user_id == user))


def install_each_workspace(server: SlackAppServer, grid: FakeSlack) -> tuple[str, str]:
    """Workspace One installs the app, then workspace Two: their bot tokens, in that order."""
    for workspace in (ONE, TWO):
        grid.install_workspace = workspace
        install(server)
    token_one, token_two = grid.bot_tokens
    return token_one, token_two


def test_an_org_wide_install_reaches_people_of_both_workspaces_with_a_broadcast(
    server: SlackAppServer,
    settings: Settings,
    grid: FakeSlack,
    engine: Engine,
    db_url: str,
    oauth_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    grid.install_workspace = None  # the organisation's admin installs it for every workspace at once
    install(server)
    server.grid = (ONE, ORG, True)  # the change manager works in workspace One
    where = installed(engine, settings)
    assert where is not None and where.org_wide and where.enterprise_id == ORG
    [org_token] = grid.bot_tokens
    assert grid.token_workspace[org_token] is None

    broadcasts_slack.seed(engine)  # a change manager and people of four teams
    for user in (broadcasts_slack.MANAGER, "USALES1", "USALES2"):
        grid.add_user(user, team_id=ONE, email=f"{user.lower()}@example.com", tz="Europe/Paris")
    for user in ("UENG1", "USUP1", "UBLOCKED"):
        grid.add_user(user, team_id=TWO, email=f"{user.lower()}@example.com", tz="Asia/Tokyo")

    # roster sync reads both workspaces (auth.teams.list, then users.list with each team_id)
    assert main(["roster", "sync", "--db", db_url]) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith("6 Slack users read, 6 on the roster")
    listed = {c.params.get("team_id") for c in grid.calls_to("users.list", ok=True)}
    assert listed == {ONE, TWO} and not grid.calls_to("users.list", ok=False)
    assert workspace_of(engine, "USALES1") == ONE and workspace_of(engine, "UENG1") == TWO
    with session_scope(engine, readonly=True) as session:
        tz = session.scalar(select(Person.slack_timezone).where(Person.slack_user_id == "UENG1"))
    assert tz == "Asia/Tokyo"

    # a change manager in workspace One broadcasts to everyone: both workspaces get it, once each
    modal = broadcasts_slack.composer(server, grid, user=broadcasts_slack.MANAGER)
    broadcasts_slack.submit(server, modal, message="Prompting clinic on Friday", everyone=True)
    broadcasts_slack.send_queued(engine, settings)
    broadcasts_slack.click(
        server, broadcasts_slack.preview(grid), ids.BROADCAST_SEND, broadcasts_slack.MANAGER
    )
    wait_for(lambda: broadcasts_slack.only(engine).status == "sending", what="the fan-out")
    broadcasts_slack.send_queued(engine, settings)
    reached = {"USALES1": 1, "USALES2": 1, "UENG1": 1, "USUP1": 1, broadcasts_slack.MANAGER: 1}
    assert broadcasts_slack.broadcast_dms(grid) == reached
    for user in ("USALES1", "UENG1"):
        assert {token_of(c) for c in posts_to(grid, user)} == {org_token}

    assert main(["outbox", "status", "--db", db_url]) == 0
    assert "org-wide in Slack organisation Grid Org" in capsys.readouterr().out


def test_an_org_wide_install_answers_requests_from_either_workspace(
    server: SlackAppServer, grid: FakeSlack, engine: Engine
) -> None:
    install(server)
    server.grid = (TWO, ORG, True)
    with session_scope(engine) as session:
        add_person(session, "UTWO1", team="Platform", role="engineering", name="Tomo Two")
    grid.add_user("UTWO1", team_id=TWO)

    # Bolt finds the organisation's installation for a command run in workspace Two
    status, answer = server.command("me", user_id="UTWO1")
    assert status == 200 and "install" not in str(answer).lower()
    assert "Tomo" in str(answer) or "nudge" in str(answer).lower(), answer
    # the workspace a person acts from is remembered (after the answer, once)
    wait_for(lambda: workspace_of(engine, "UTWO1") == TWO, what="the person's workspace")

    # App Home opened in workspace Two is published with the organisation's token
    home_opened = {"type": "app_home_opened", "user": "UTWO1", "channel": "DUTWO1", "tab": "home"}
    assert server.event(home_opened) == 200
    view = wait_for(lambda: grid.home_views.get("UTWO1"), what="the Home tab")
    assert "Platform" in str(view["blocks"])  # their own profile: team and role
    [publish] = [c for c in grid.calls_to("views.publish") if c.params.get("user_id") == "UTWO1"]
    assert publish.ok and token_of(publish) == grid.bot_tokens[0]


def test_workspace_by_workspace_installs_send_each_dm_with_its_own_workspaces_token(
    server: SlackAppServer,
    settings: Settings,
    grid: FakeSlack,
    engine: Engine,
    db_url: str,
    oauth_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token_one, token_two = install_each_workspace(server, grid)
    where = installed(engine, settings)
    assert where is not None and not where.org_wide
    assert {w.team_id for w in where.workspaces} == {ONE, TWO}

    build_world(engine)  # leaders Ada and Tim in workspace One, Bea and Sam in workspace Two
    home = {"UADA0001": ONE, "UTIM0001": ONE, "UBEA0001": TWO, "USAM0001": TWO}
    for user, workspace in home.items():
        grid.add_user(user, team_id=workspace)
    assert main(["roster", "sync", "--db", db_url]) == 0, capsys.readouterr().err
    assert {user: workspace_of(engine, user) for user in home} == home

    # every leader's digest goes out, each with the token of the leader's own workspace
    assert main(["digest", "--db", db_url, "--week", "2026-W47", "--send"]) == 0, capsys.readouterr().err
    assert "failed 0" in capsys.readouterr().out
    for user, workspace in home.items():
        calls = posts_to(grid, user)
        assert calls and all(c.ok for c in calls), user
        assert {token_of(c) for c in calls} == {token_one if workspace == ONE else token_two}, user

    # workspace Two uninstalls: its people's messages wait, workspace One's still go
    server.grid = (TWO, ORG, False)
    assert server.event({"type": "app_uninstalled"}) == 200
    wait_for(
        lambda: len((installed(engine, settings) or where).workspaces) == 1, what="workspace Two's uninstall"
    )
    installed_token(settings).forget()
    with session_scope(engine) as session:
        for user in ("UADA0001", "UBEA0001"):
            outbox.enqueue(session, key=f"after:{user}", kind="test", channel=user, text="Still here?")
    report = outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)
    assert report.sent == 1 and not report.halted and not report.failed
    with session_scope(engine, readonly=True) as session:
        states = {
            key: state for key, state in session.execute(select(OutboxMessage.key, OutboxMessage.state))
        }
    assert states["after:UADA0001"] == OutboxState.SENT
    assert states["after:UBEA0001"] == OutboxState.PENDING, "kept for when workspace Two installs again"
    assert main(["outbox", "status", "--db", db_url]) == 0
    assert "Installed in Slack workspace Workspace One" in capsys.readouterr().out


def test_a_workspace_token_cannot_reach_the_other_workspace_so_the_right_one_is_needed(
    server: SlackAppServer, settings: Settings, grid: FakeSlack, engine: Engine
) -> None:
    """The fake plays Grid strictly: this is what would go wrong if the outbox used any one token."""
    grid.install_workspace = ONE
    install(server)
    grid.add_user("UTWO1", team_id=TWO)
    client = make_web_client(settings, retry_rate_limits=False)
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="UTWO1", text="hello")
    assert refused.value.response["error"] == "channel_not_found"


def test_workspace_by_workspace_installs_post_to_each_channel_with_the_token_of_the_channels_workspace(
    server: SlackAppServer,
    settings: Settings,
    grid: FakeSlack,
    engine: Engine,
    db_url: str,
    oauth_env: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token_one, token_two = install_each_workspace(server, grid)  # Two's, the newest, sees no channel of One
    grid.add_channel("C0DIGEST", teams=[ONE])
    grid.add_channel("C0WINS", teams=[TWO])
    grid.add_channel("C0SHARED", teams=[ONE, TWO])
    grid.add_channel("C0ELSEWHERE", teams=["T0THREE"])  # in a workspace without the app
    monkeypatch.setenv("ADOPTBOT_DIGEST_CHANNEL", "C0DIGEST")
    build_world(engine)
    for user, workspace in {"UADA0001": ONE, "UTIM0001": ONE, "UBEA0001": TWO, "USAM0001": TWO}.items():
        grid.add_user(user, team_id=workspace)
    assert main(["roster", "sync", "--db", db_url]) == 0, capsys.readouterr().err

    # the org-wide digest, its chart and its CSV reach the digest channel in workspace One
    assert main(["digest", "--db", db_url, "--week", "2026-W47", "--send"]) == 0, capsys.readouterr().err
    assert "failed 0" in capsys.readouterr().out
    in_digest = [
        c
        for c in grid.calls
        if "C0DIGEST" in (c.params.get("channel"), c.params.get("channel_id"))
        and c.method != "conversations.history"
    ]
    assert {c.method for c in in_digest} == {"chat.postMessage", "files.completeUploadExternal"}
    assert all(c.ok for c in in_digest) and {token_of(c) for c in in_digest} == {token_one}
    assert len(grid.messages("C0DIGEST")) == 1 + 2  # the digest, then its chart and CSV

    # other channels: each reached with a token that sees it; one no installed workspace sees fails plainly
    with session_scope(engine) as session:
        for channel in ("C0WINS", "C0SHARED", "C0ELSEWHERE", "C0DIGEST"):
            outbox.enqueue(session, key=f"post:{channel}", kind="test", channel=channel, text="A win")
    report = outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)
    assert (report.sent, report.failed) == (3, 1)
    posted = {c.params["channel"]: c for c in grid.calls_to("chat.postMessage", ok=True)}
    assert token_of(posted["C0WINS"]) == token_two and token_of(posted["C0DIGEST"]) == token_one
    assert token_of(posted["C0SHARED"]) in (token_one, token_two)
    with session_scope(engine, readonly=True) as session:
        failed = session.scalar(select(OutboxMessage).where(OutboxMessage.key == "post:C0ELSEWHERE"))
        assert failed is not None and failed.state == OutboxState.FAILED
        assert "channel_not_found" in (failed.error or "")

    # Slack is asked where a channel is once per channel (newest install first), not for every post
    asked = Counter(c.params["channel"] for c in grid.calls_to("conversations.history"))
    assert asked == {"C0DIGEST": 2, "C0WINS": 1, "C0SHARED": 1, "C0ELSEWHERE": 2}


def test_a_channel_post_waits_when_slack_cannot_say_which_workspace_the_channel_is_in(
    server: SlackAppServer, settings: Settings, grid: FakeSlack, engine: Engine
) -> None:
    token_one, _ = install_each_workspace(server, grid)
    grid.add_channel("C0WINSONE", teams=[ONE])
    with session_scope(engine) as session:
        outbox.enqueue(session, key="win:1", kind="test", channel="C0WINSONE", text="A win")
    client = make_web_client(settings, retry_rate_limits=False)

    grid.fail_next("conversations.history", retry_after=30)  # rate limited while asking
    report = outbox.drain(engine, client, settings, deadline=time.time() + 3)
    assert (report.sent, report.failed) == (0, 0)
    assert not grid.calls_to("chat.postMessage"), "never posted with a token that may not see the channel"
    with session_scope(engine, readonly=True) as session:
        waiting = session.scalar(select(OutboxMessage).where(OutboxMessage.key == "win:1"))
        assert waiting is not None and waiting.state == OutboxState.PENDING and waiting.attempts == 0
        held_until = waiting.not_before

    with session_scope(engine) as session:  # half a minute later
        session.execute(update(OutboxMessage).values(not_before=held_until - timedelta(seconds=31)))
    assert outbox.drain(engine, client, settings).sent == 1
    [post] = grid.calls_to("chat.postMessage")
    assert post.ok and token_of(post) == token_one


def test_a_person_whose_workspace_is_not_known_yet_gets_their_dm_with_a_token_that_reaches_them(
    server: SlackAppServer, settings: Settings, grid: FakeSlack, engine: Engine
) -> None:
    """Imported from a CSV, never synced nor seen in Slack: their workspace is asked of Slack, not guessed
    (the newest install's token would get `channel_not_found` and mark them unreachable)."""
    token_one, token_two = install_each_workspace(server, grid)
    grid.add_user("UONE1", team_id=ONE)
    grid.add_user("UTWO1", team_id=TWO)
    grid.add_user("UOUT1", team_id="T0THREE")  # in a workspace without the app
    with session_scope(engine) as session:
        for user in ("UONE1", "UTWO1", "UOUT1"):
            add_person(session, user)
            outbox.enqueue(session, key=f"first:{user}", kind="test", channel=user, text="Your first nudge")
    client = make_web_client(settings, retry_rate_limits=False)
    report = outbox.drain(engine, client, settings)
    assert (report.sent, report.failed) == (2, 1)
    assert {token_of(c) for c in posts_to(grid, "UONE1")} == {token_one}
    assert {token_of(c) for c in posts_to(grid, "UTWO1")} == {token_two}
    with session_scope(engine, readonly=True) as session:
        unreachable = dict(session.execute(select(Person.slack_user_id, Person.unreachable_reason)).all())
    assert unreachable == {"UONE1": None, "UTWO1": None, "UOUT1": "channel_not_found"}

    with session_scope(engine) as session:
        for user in ("UONE1", "UTWO1"):
            outbox.enqueue(session, key=f"second:{user}", kind="test", channel=user, text="Your next nudge")
    assert outbox.drain(engine, client, settings).sent == 2
    assert [token_of(c) for c in posts_to(grid, "UONE1")] == [token_one, token_one]
    asked = Counter(c.params["user"] for c in grid.calls_to("users.info"))
    assert asked == {"UONE1": 2, "UTWO1": 1, "UOUT1": 2}  # each install once, newest first; not again
