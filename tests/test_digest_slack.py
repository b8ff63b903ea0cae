"""The digest in Slack: `/adopt digest [TEAM]` as a private preview, and the leader and change-manager
dashboards in App Home, through the real app, signed requests and the fake Slack."""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.config import Settings
from bot.db import session_scope
from bot.models import OutboxMessage
from bot.outbox import OutboxState
from bot.slack import ids
from tests.support import signing
from tests.support.fake_slack import FakeSlack, validate_blocks, validate_view
from tests.support.slack_app import ResponseSink, SlackAppServer, wait_for
from tests.test_digest import K, World, build_world


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, min_group_size=K)


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def user(world: World, key: str) -> str:
    found = world.people[key].slack_user_id
    assert found is not None
    return found


_asked = itertools.count()


def ask(server: SlackAppServer, sink: ResponseSink, who: str, text: str = "digest") -> dict[str, Any]:
    """Run `/adopt <text>` as `who`; the ack if it says something, else what was posted to response_url."""
    name = f"{who}-{next(_asked)}"
    status, answer = server.command(text, user_id=who, response_url=sink.url(name))
    assert status == 200
    if answer:
        return answer
    [posted] = wait_for(lambda: sink.posts(name), what=f"the answer to {who}")
    return posted


def test_a_leader_gets_a_private_preview_of_their_teams_digest(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, world: World
) -> None:
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        answer = ask(server, sink, user(world, "bea"))

    assert answer["response_type"] == "ephemeral"
    assert validate_blocks(answer["blocks"]) == [] and len(answer["blocks"]) <= 50
    text = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "AI adoption digest" in text and "*Your 3 teams*" in text
    assert "*Alpha*" in text and "*Beta*" in text and "*Tiny* · 5 people" in text
    assert "survey hidden" in text and "👀 Preview: only you can see this." in text
    assert answer["text"].startswith("AI adoption digest, week ")
    assert fake_slack.calls_to("chat.postMessage") == []  # nothing was sent to anyone


def test_a_leader_may_ask_for_one_of_their_teams_but_not_for_another(
    settings: Settings, engine: Engine, world: World
) -> None:
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        mine = ask(server, sink, user(world, "ada"), "digest alpha")
        other = ask(server, sink, user(world, "tim"), "digest Alpha")
        unknown = ask(server, sink, user(world, "sam"), "digest Gamma <!channel>")

    assert "*Alpha* · 16 people" in json.dumps(mine["blocks"], ensure_ascii=False)
    assert "blocks" not in other
    assert (
        other["text"]
        == "You can see the digest of the teams you lead: Tiny. `/adopt digest` shows all of them."
    )
    assert unknown["text"] == (
        "I don't know a team called “Gamma &lt;!channel&gt;”. Try one of: Alpha, Beta, Solo, Tiny."
    )


def test_change_managers_see_any_team_and_everyone_else_is_refused(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, world: World
) -> None:
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        tiny = ask(server, sink, user(world, "cora"), "digest Tiny")
        everything = ask(server, sink, user(world, "cora"), "digest")
        refused = ask(server, sink, user(world, "eve"))

    tiny_text = json.dumps(tiny["blocks"], ensure_ascii=False)
    assert "*Tiny* · 5 people" in tiny_text and "survey hidden" in tiny_text and "1.00" not in tiny_text
    assert "*Whole organisation* · 4 teams" in json.dumps(everything["blocks"], ensure_ascii=False)
    assert "blocks" not in refused
    assert refused["text"] == (
        "Sorry, `/adopt digest` is only for team leaders and change managers. Nothing was opened or sent."
    )
    assert fake_slack.calls_to("views.open") == []


def home_of(server: SlackAppServer, fake: FakeSlack, who: str) -> dict[str, Any]:
    assert server.event({"type": "app_home_opened", "user": who, "tab": "home"}) == 200
    view = wait_for(lambda: fake.home_views.get(who), what=f"the Home of {who}")
    assert isinstance(view, dict)
    return view


def test_home_shows_leaders_their_teams_with_suppression_and_the_latest_digest(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, world: World
) -> None:
    with session_scope(engine) as session:
        session.add(
            OutboxMessage(
                key=f"digest:{world.person_id('tim')}:2026-W47",
                kind="digest",
                channel=user(world, "tim"),
                person_id=world.person_id("tim"),
                payload={"text": "digest"},
                state=OutboxState.SENT,
                sent_at=world.people["tim"].created_at,
                slack_channel="DTIM0001",
                slack_ts="1.2",
            )
        )
    with SlackAppServer(settings, engine) as server:
        tim = home_of(server, fake_slack, user(world, "tim"))
        eve = home_of(server, fake_slack, user(world, "eve"))
        cora = home_of(server, fake_slack, user(world, "cora"))

    assert validate_view(tim) == [] and len(tim["blocks"]) <= 100
    text = json.dumps(tim["blocks"], ensure_ascii=False)
    assert "Your teams · week" in text and "*Tiny* · 5 people" in text and "survey hidden" in text
    assert "1.00" not in text and "used AI 0%" not in text
    assert "Your latest digest: week 2026-W47" in text
    link = next(
        b["accessory"]
        for b in tim["blocks"]
        if b.get("accessory", {}).get("action_id") == ids.DIGEST_OPEN_LATEST
    )
    assert link["url"] == "https://slack.com/app_redirect?channel=DTIM0001"
    eve_text = json.dumps(eve["blocks"])
    assert "Your teams" not in eve_text and "Programme at a glance" not in eve_text
    cora_text = json.dumps(cora["blocks"], ensure_ascii=False)
    assert "Programme at a glance" in cora_text and "All teams · week" in cora_text
    assert "*Pulse*\\n#3 " in cora_text and "*Wins to review*\\n1" in cora_text
    assert validate_view(cora) == []


def test_the_home_preview_button_opens_the_digest_in_a_modal(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, world: World
) -> None:
    payload = signing.block_actions_payload(
        user(world, "ada"), ids.DIGEST_PREVIEW, block_id=ids.DIGEST_HOME_BLOCK, trigger_id="T.1"
    )
    with SlackAppServer(settings, engine) as server:
        status, _ = server.interact(payload)
        updated = wait_for(lambda: fake_slack.calls_to("views.update", ok=True), what="the digest modal")

    assert status == 200
    [opened] = fake_slack.calls_to("views.open", ok=True)
    assert "Putting this week's digest together" in json.dumps(opened.params["view"])
    view = updated[0].params["view"]
    assert validate_view(view) == []
    assert "*Alpha* · 16 people" in json.dumps(view["blocks"], ensure_ascii=False)
