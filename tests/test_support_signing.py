"""Requests built by tests/support/signing.py are signed and shaped exactly as Slack sends them.

The oracles are slack_sdk's SignatureVerifier and a real Bolt app served over HTTP (wsgiref): the bodies
must verify, parse into the payloads Bolt dispatches, and a forged or stale request must get 401.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.signature import Clock, SignatureVerifier

from tests.support.fake_slack import FakeSlack
from tests.support.signing import (
    block_actions_payload,
    event_body,
    input_state,
    interactivity_body,
    message_shortcut_payload,
    post_signed,
    selected_option,
    signed_headers,
    slash_command_body,
    url_verification_body,
    view_submission_payload,
)

SECRET = "test-secret"


class FixedClock(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


BODIES = {
    "slash command": slash_command_body(text="pause 2 & <more>"),
    "interactivity": interactivity_body(block_actions_payload("U1", "nudge_tried", "n-1")),
    "event": event_body({"type": "app_home_opened", "user": "U1", "tab": "home"}),
}


@pytest.mark.parametrize("kind", list(BODIES))
def test_signed_headers_verify_with_slack_sdk(kind: str) -> None:
    body = BODIES[kind]
    headers = signed_headers(SECRET, body)

    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert SignatureVerifier(SECRET).is_valid_request(body.encode(), signed_headers(SECRET, body.encode()))
    expected = "application/json" if kind == "event" else "application/x-www-form-urlencoded"
    assert headers["Content-Type"] == expected


def test_a_tampered_body_a_wrong_secret_or_an_old_timestamp_does_not_verify() -> None:
    body = BODIES["slash command"]
    headers = signed_headers(SECRET, body)
    stale = signed_headers(SECRET, body, timestamp=int(time.time()) - 6 * 60)

    assert not SignatureVerifier(SECRET).is_valid_request(body.replace("pause", "resume"), headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET).is_valid_request(body, stale)


def test_an_explicit_timestamp_is_the_one_signed() -> None:
    body = BODIES["event"]
    headers = signed_headers(SECRET, body, timestamp=1_700_000_000)

    assert headers["X-Slack-Request-Timestamp"] == "1700000000"
    assert SignatureVerifier(SECRET, clock=FixedClock(1_700_000_100)).is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET, clock=FixedClock(1_700_000_000 + 301)).is_valid_request(
        body, headers
    )


# ---- a real Bolt app behind a real HTTP server -----------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def bolt(fake_slack: FakeSlack) -> Iterator[tuple[str, list[tuple[str, Any]]]]:
    """A Bolt app recording what its listeners received; yields (URL of /slack/events, records)."""
    seen: list[tuple[str, Any]] = []
    app = App(
        signing_secret=SECRET,
        token="xoxb-test",
        token_verification_enabled=False,
        process_before_response=True,
        client=WebClient(token="xoxb-test", base_url=fake_slack.url),
    )

    @app.command("/adopt")
    def command(ack: Any, command: dict[str, Any]) -> None:
        ack("Paused.")
        seen.append(("command", command))

    @app.action("nudge_tried")
    def action(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.append(("action", body))

    @app.action("pick_role")
    def pick(ack: Any, action: dict[str, Any]) -> None:
        ack()
        seen.append(("select", action))

    @app.view("win_modal")
    def submission(ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        ack()
        seen.append(("view", {"view": view, "user": body["user"]["id"]}))

    @app.shortcut("share_win")
    def shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        ack()
        seen.append(("shortcut", shortcut))

    @app.event("app_home_opened")
    def home(event: dict[str, Any], request: Any) -> None:
        seen.append(("event", {"event": event, "headers": request.headers}))

    server: WSGIServer = make_server("127.0.0.1", 0, SlackRequestHandler(app), handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/events", seen
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_a_signed_slash_command_reaches_bolt_with_its_fields(bolt: tuple[str, list[tuple[str, Any]]]) -> None:
    url, seen = bolt
    body = slash_command_body(text="pause 2 & <more>", user_id="U42", channel_id="D0DM", trigger_id="1.2.abc")

    status, _, answer = post_signed(url, body, SECRET)

    assert status == 200 and "Paused." in answer
    [(kind, command)] = seen
    assert kind == "command"
    assert (command["command"], command["text"], command["user_id"]) == ("/adopt", "pause 2 & <more>", "U42")
    assert (command["channel_id"], command["trigger_id"]) == ("D0DM", "1.2.abc")
    assert command["response_url"].startswith("https://hooks.slack.com/commands/")


def test_forged_or_stale_requests_get_401(bolt: tuple[str, list[tuple[str, Any]]]) -> None:
    url, seen = bolt
    body = slash_command_body()

    forged, _, _ = post_signed(url, body, "not-the-secret")
    stale, _, _ = post_signed(url, body, SECRET, timestamp=int(time.time()) - 301)
    unsigned, _, _ = post_signed(url, body, SECRET, headers={"X-Slack-Signature": ""})

    assert (forged, stale, unsigned) == (401, 401, 401)
    assert seen == []


def test_a_button_click_on_a_message_reaches_its_action_listener(
    bolt: tuple[str, list[tuple[str, Any]]],
) -> None:
    url, seen = bolt
    message = {"type": "message", "ts": "1700000000.000100", "text": "Try this", "blocks": []}
    payload = block_actions_payload("U7", "nudge_tried", "nudge-42", message, channel_id="DU7")

    status, _, _ = post_signed(url, interactivity_body(payload), SECRET)

    assert status == 200
    [(_, body)] = seen
    assert body["user"]["id"] == "U7"
    assert body["actions"][0]["value"] == "nudge-42"
    assert body["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "DU7",
        "is_ephemeral": False,
    }


def test_a_select_in_a_home_tab_reaches_its_listener(bolt: tuple[str, list[tuple[str, Any]]]) -> None:
    url, seen = bolt
    home = {"id": "V0HOME", "type": "home", "blocks": []}
    option = selected_option("sales", "Sales")
    payload = block_actions_payload("U7", "pick_role", view=home, action_type="static_select", action=option)

    status, _, _ = post_signed(url, interactivity_body(payload), SECRET)

    assert status == 200
    [(_, action)] = seen
    assert action["selected_option"]["value"] == "sales"


def test_a_view_submission_carries_its_state(bolt: tuple[str, list[tuple[str, Any]]]) -> None:
    url, seen = bolt
    state = input_state(
        {
            "story": {"text": "Drafted the QBR deck"},
            "hours": {"value": {"type": "number_input", "value": "2"}},
        }
    )
    payload = view_submission_payload("U9", "win_modal", state, private_metadata='{"from": "shortcut"}')

    status, _, _ = post_signed(url, interactivity_body(payload), SECRET)

    assert status == 200
    [(_, got)] = seen
    assert got["user"] == "U9"
    assert got["view"]["state"]["values"]["story"]["text"]["value"] == "Drafted the QBR deck"
    assert got["view"]["state"]["values"]["hours"]["value"]["value"] == "2"
    assert json.loads(got["view"]["private_metadata"]) == {"from": "shortcut"}


def test_a_message_shortcut_reaches_its_listener(bolt: tuple[str, list[tuple[str, Any]]]) -> None:
    url, seen = bolt
    payload = message_shortcut_payload("U3", "I used AI to draft the QBR deck, saved 2 h", author_id="U4")

    status, _, _ = post_signed(url, interactivity_body(payload), SECRET)

    assert status == 200
    [(_, shortcut)] = seen
    assert shortcut["callback_id"] == "share_win"
    assert shortcut["message"]["text"] == "I used AI to draft the QBR deck, saved 2 h"
    assert shortcut["message"]["user"] == "U4" and shortcut["user"]["id"] == "U3"


def test_an_event_redelivery_carries_slacks_retry_headers(bolt: tuple[str, list[tuple[str, Any]]]) -> None:
    url, seen = bolt
    body = event_body({"type": "app_home_opened", "user": "U5", "tab": "home"}, event_id="Ev0001")

    first, _, _ = post_signed(url, body, SECRET)
    again, _, _ = post_signed(url, body, SECRET, retry_num=1)

    assert (first, again) == (200, 200)
    (_, original), (_, retry) = seen
    assert original["event"]["user"] == "U5"
    assert "x-slack-retry-num" not in original["headers"]
    assert retry["headers"]["x-slack-retry-num"] == ["1"]
    assert retry["headers"]["x-slack-retry-reason"] == ["http_timeout"]


def test_url_verification_is_answered_with_the_challenge(bolt: tuple[str, list[tuple[str, Any]]]) -> None:
    url, _ = bolt

    status, _, answer = post_signed(url, url_verification_body("c-123"), SECRET)

    assert status == 200 and json.loads(answer) == {"challenge": "c-123"}
