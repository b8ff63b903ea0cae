"""Every HTTP request is signature-checked: forged, unsigned and stale requests get 401 and do nothing."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.models import Person, ProcessedEvent
from tests.support import signing
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


def _rows(engine: Engine, model: type[Person] | type[ProcessedEvent]) -> int:
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
