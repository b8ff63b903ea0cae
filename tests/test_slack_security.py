"""Every HTTP request is signature-checked: forged, unsigned and stale requests get 401 and do nothing."""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.db import session_scope
from bot.models import Base, Broadcast, Person, ProcessedEvent, Win
from bot.outbox import drain
from bot.slack.client import make_web_client
from tests import test_broadcasts_slack as broadcasts_slack
from tests import test_wins_slack as wins_slack
from tests.support import signing
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for


def _unsigned_post(url: str, body: str) -> int:
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": signing.FORM}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


def _rows(engine: Engine, model: type[Base]) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.mark.parametrize("fault", ["forged", "unsigned", "six minutes old"])
def test_a_request_slack_did_not_sign_now_gets_401_and_no_side_effect(
    fault: str, slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    team_join = signing.event_body({"type": "team_join", "user": {"id": "U0NEW", "name": "new"}})
    open_modal = signing.slash_command_body(slack_settings.command, "role", user_id="U0NEW")
    with SlackAppServer(slack_settings, engine) as server:
        calls_before = len(fake_slack.calls)  # auth.test when the app was built
        statuses = []
        for body in (open_modal, team_join):
            if fault == "forged":
                status, _ = server.post(body, secret="not-the-signing-secret")
            elif fault == "unsigned":
                status = _unsigned_post(server.events_url, body)
            else:
                status, _ = server.post(body, timestamp=int(time.time()) - 6 * 60)
            statuses.append(status)
        time.sleep(0.3)  # anything the app would do runs after the answer: give it the chance to misbehave
    assert statuses == [401, 401]
    assert fake_slack.calls[calls_before:] == []
    assert _rows(engine, Person) == 0
    assert _rows(engine, ProcessedEvent) == 0


def test_the_same_requests_signed_now_are_served(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with SlackAppServer(slack_settings, engine) as server:
        status, _ = server.command("role", user_id="U0NEW")
        assert status == 200
        wait_for(lambda: fake_slack.calls_to("views.open"), what="the role modal")
        assert server.event({"type": "team_join", "user": {"id": "U0NEW", "name": "new"}}) == 200
        wait_for(lambda: _rows(engine, Person) == 1, what="the newcomer's record")


def test_a_signature_four_minutes_old_is_still_accepted(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with SlackAppServer(slack_settings, engine) as server:
        status, answer = server.command("help", user_id="U0ANY", timestamp=int(time.time()) - 4 * 60)
    assert status == 200
    assert "help" in answer["text"]


MALFORMED = {
    "broken JSON": ("{oops", signing.JSON_CONTENT),
    "broken interactivity form": ("payload=%7Bnot", signing.FORM),
    "a JSON list": ("[1, 2]", signing.JSON_CONTENT),
    "not UTF-8": (b"payload=\xff\xfe", signing.FORM),
}


def _post_raw(url: str, body: str | bytes, content_type: str) -> int:
    raw = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=raw, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        error.close()
        return error.code


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_an_unsigned_malformed_body_gets_401_without_being_read_or_logged(
    kind: str,
    slack_settings: Settings,
    engine: Engine,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, content_type = MALFORMED[kind]
    with caplog.at_level(logging.WARNING), SlackAppServer(slack_settings, engine) as server:
        calls_before = len(fake_slack.calls)
        status = _post_raw(server.events_url, body, content_type)
    assert status == 401
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    assert fake_slack.calls[calls_before:] == []


@pytest.mark.parametrize("kind", list(MALFORMED))
def test_a_signed_malformed_body_gets_400_and_no_traceback(
    kind: str,
    slack_settings: Settings,
    engine: Engine,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body, content_type = MALFORMED[kind]
    with caplog.at_level(logging.WARNING), SlackAppServer(slack_settings, engine) as server:
        calls_before = len(fake_slack.calls)
        status, _ = server.post(body, content_type=content_type)
    assert status == 400
    assert [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info] == []
    assert fake_slack.calls[calls_before:] == []
    assert _rows(engine, ProcessedEvent) == 0


def test_a_replayed_win_submission_is_acked_and_stores_one_win(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with session_scope(engine) as session:
        add_person(session, wins_slack.AUTHOR, team="Sales EMEA")
    with SlackAppServer(slack_settings, engine) as server:
        view = wins_slack.open_modal(server, fake_slack)
        payload = signing.view_submission_payload(
            wins_slack.AUTHOR, view["callback_id"], wins_slack.state(view), view.get("private_metadata", "")
        )
        body = signing.interactivity_body(payload)
        timestamp = int(time.time())
        answers = [server.post(body, timestamp=timestamp) for _ in range(2)]  # the very same signed request
    assert [status for status, _ in answers] == [200, 200]
    assert all("Thank you" in text for _, text in answers)
    assert _rows(engine, Win) == 1


def test_a_replayed_broadcast_submission_makes_one_draft_and_one_preview(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with session_scope(engine) as session:
        add_person(session, broadcasts_slack.MANAGER, team="Change", role="hr", change_manager=True)
        add_person(session, "USALES1", team="Sales", role="sales")
    with SlackAppServer(slack_settings, engine) as server:
        modal = broadcasts_slack.composer(server, fake_slack)
        payload = signing.view_submission_payload(
            broadcasts_slack.MANAGER,
            modal["callback_id"],
            broadcasts_slack.state(modal, message="Office hours on Friday", everyone=True),
            modal.get("private_metadata", ""),
        )
        body = signing.interactivity_body(payload)
        timestamp = int(time.time())
        statuses = [server.post(body, timestamp=timestamp)[0] for _ in range(2)]
    drain(engine, make_web_client(slack_settings), slack_settings)
    assert statuses == [200, 200]
    assert _rows(engine, Broadcast) == 1
    previews = [m for m in fake_slack.messages(broadcasts_slack.MANAGER) if "Office hours" in m.block_text()]
    assert len(previews) == 1
