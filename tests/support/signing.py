"""Requests as Slack sends them: signed bodies for slash commands, interactivity and the Events API.

The signature is computed here independently (v0 HMAC-SHA256 of "v0:{timestamp}:{body}", hex, "v0=" prefix);
slack_sdk's SignatureVerifier is the oracle the tests check it against.

    body = slash_command_body(text="pause 2", user_id="U1")
    status, headers, answer = post_signed(f"{base}/slack/events", body, "test-secret")
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote_plus, urlencode

FORM = "application/x-www-form-urlencoded"
JSON_CONTENT = "application/json"
TEAM_ID = "T0FAKE"
TEAM_DOMAIN = "fake"
API_APP_ID = "A0FAKEAPP"
BOT_USER_ID = "U0BOT"
VERIFICATION_TOKEN = "fake-verification-token"  # deprecated by Slack, still sent in every payload

_serial = itertools.count(1)


def _unique(prefix: str) -> str:
    return f"{prefix}{int(time.time())}{next(_serial):06d}"


def new_trigger_id() -> str:
    """A fresh trigger_id shaped like Slack's ("12345.98765.abcd...")."""
    n = next(_serial)
    return f"{1000000 + n}.{2000000 + n}.{hashlib.sha1(str(n).encode()).hexdigest()[:32]}"


def _content_type_of(body: str | bytes) -> str:
    head = body.lstrip()[:1]
    return JSON_CONTENT if head in ("{", b"{") else FORM


def signature(secret: str, body: str | bytes, timestamp: int | str) -> str:
    """Slack's X-Slack-Signature for `body` sent at `timestamp` (Unix seconds)."""
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode() + b":" + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: str | bytes, timestamp: int | str | None = None, *, content_type: str | None = None
) -> dict[str, str]:
    """Headers Slack sends with `body`: timestamp, signature and Content-Type (guessed from the body:
    JSON for "{...}", form otherwise, unless given)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "Content-Type": content_type or _content_type_of(body),
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature(secret, body, ts),
    }


def slash_command_body(
    command: str = "/adopt",
    text: str = "help",
    *,
    user_id: str = "U0TEST",
    user_name: str = "test.user",
    team_id: str = TEAM_ID,
    channel_id: str = "C0FAKE",
    channel_name: str = "general",
    trigger_id: str | None = None,
    response_url: str | None = None,
    enterprise_id: str | None = None,
) -> str:
    """The form body of a slash command, fields in the order Slack sends them. `enterprise_id`: run in a
    workspace of that Enterprise Grid organisation, where the app is installed org-wide."""
    fields = [
        ("token", VERIFICATION_TOKEN),
        ("team_id", team_id),
        ("team_domain", TEAM_DOMAIN),
        *([("enterprise_id", enterprise_id), ("enterprise_name", "Grid Org")] if enterprise_id else []),
        ("channel_id", channel_id),
        ("channel_name", channel_name),
        ("user_id", user_id),
        ("user_name", user_name),
        ("command", command),
        ("text", text),
        ("api_app_id", API_APP_ID),
        ("is_enterprise_install", "true" if enterprise_id else "false"),
        ("response_url", response_url or f"https://hooks.slack.com/commands/{team_id}/{_unique('')}/fake"),
        ("trigger_id", trigger_id or new_trigger_id()),
    ]
    return urlencode(fields)


def interactivity_body(payload: dict[str, Any]) -> str:
    """The form body Slack posts for interactivity: a single `payload` field holding JSON."""
    return "payload=" + quote_plus(json.dumps(payload, separators=(",", ":")))


def _user(user_id: str, team_id: str) -> dict[str, Any]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str) -> dict[str, Any]:
    return {"id": team_id, "domain": TEAM_DOMAIN}


def input_state(values: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """view.state.values from {block_id: {action_id: value}}: a str becomes a plain_text_input value,
    a dict is kept as it is (e.g. {"type": "static_select", "selected_option": {...}})."""
    state: dict[str, dict[str, Any]] = {}
    for block_id, actions in values.items():
        state[block_id] = {
            action_id: value if isinstance(value, dict) else {"type": "plain_text_input", "value": value}
            for action_id, value in actions.items()
        }
    return state


def selected_option(value: str, text: str | None = None, *, kind: str = "static_select") -> dict[str, Any]:
    """A state value for a select (or radio_buttons) with `value` chosen."""
    option = {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}
    return {"type": kind, "selected_option": option}


def block_actions_payload(
    user_id: str,
    action_id: str,
    value: str | None = None,
    message: dict[str, Any] | None = None,
    *,
    block_id: str = "actions",
    action_type: str = "button",
    channel_id: str = "C0FAKE",
    view: dict[str, Any] | None = None,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    response_url: str | None = None,
    action: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A block_actions payload: a click on `action_id` in `message` (a message dict with its `ts`) or
    in `view` (a modal/Home view as views.* answered it, e.g. FakeSlack.home_views[user]).
    `action` adds or overrides fields of the action (e.g. {"selected_option": {...}})."""
    act: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": f"{time.time():.6f}",
    }
    if value is not None:
        act["value"] = value
    if action_type == "button":
        act["text"] = {"type": "plain_text", "text": action_id, "emoji": True}
    act.update(action or {})
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
        "actions": [act],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view.get("id", "V0FAKE")}
        payload["view"] = {"state": {"values": {}}, **view}
    else:
        msg = message or {"type": "message", "ts": f"{time.time():.6f}", "text": "", "blocks": []}
        payload["container"] = {
            "type": "message",
            "message_ts": msg.get("ts"),
            "channel_id": channel_id,
            "is_ephemeral": False,
        }
        payload["channel"] = {
            "id": channel_id,
            "name": "directmessage" if channel_id[:1] == "D" else "general",
        }
        payload["message"] = msg
        payload["state"] = {"values": {}}
        payload["response_url"] = (
            response_url or f"https://hooks.slack.com/actions/{team_id}/{_unique('')}/fake"
        )
    return payload


def view_submission_payload(
    user_id: str,
    callback_id: str,
    state_values: dict[str, dict[str, Any]],
    private_metadata: str = "",
    *,
    view_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
) -> dict[str, Any]:
    """A view_submission payload for a modal `callback_id`; `state_values` as Slack nests them (see
    `input_state` for a shorthand)."""
    vid = view_id or _unique("V")
    return {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": vid,
            "team_id": team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": state_values},
            "hash": f"{int(time.time())}.fakehash",
            "title": {"type": "plain_text", "text": "Adoptbot", "emoji": True},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
            "previous_view_id": None,
            "root_view_id": vid,
            "app_id": API_APP_ID,
            "external_id": "",
            "app_installed_team_id": team_id,
            "bot_id": "B0BOT",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def message_shortcut_payload(
    user_id: str,
    text: str,
    *,
    callback_id: str = "share_win",
    author_id: str | None = None,
    channel_id: str = "C0FAKE",
    message_ts: str | None = None,
    team_id: str = TEAM_ID,
    trigger_id: str | None = None,
    response_url: str | None = None,
) -> dict[str, Any]:
    """A message shortcut (type message_action) run by `user_id` on a message saying `text`."""
    ts = message_ts or f"{time.time():.6f}"
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": f"{time.time():.6f}",
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "channel": {"id": channel_id, "name": "general"},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": response_url or f"https://hooks.slack.com/app/{team_id}/{_unique('')}/fake",
        "message_ts": ts,
        "message": {"type": "message", "user": author_id or user_id, "ts": ts, "text": text},
    }


def event_body(
    event: dict[str, Any],
    *,
    event_id: str | None = None,
    team_id: str = TEAM_ID,
    event_time: int | None = None,
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> str:
    """An Events API request body (type event_callback) carrying `event`. `enterprise_id`: from a
    workspace of that Grid organisation; `org_wide`: to the app's org-wide installation there."""
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            **({"enterprise_id": enterprise_id} if enterprise_id else {}),
            "api_app_id": API_APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or _unique("Ev"),
            "event_time": event_time if event_time is not None else int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": enterprise_id,
                    "team_id": None if org_wide else team_id,
                    "user_id": BOT_USER_ID,
                    "is_bot": True,
                    "is_enterprise_install": org_wide,
                }
            ],
            "is_ext_shared_channel": False,
        }
    )


def url_verification_body(challenge: str) -> str:
    """The body Slack posts once when the Request URL is saved."""
    return json.dumps({"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"})


def post_signed(
    url: str,
    body: str | bytes,
    secret: str,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
    timestamp: int | str | None = None,
    retry_num: int | None = None,
    *,
    retry_reason: str = "http_timeout",
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], str]:
    """POST `body` signed with `secret` like Slack does; (status, headers, body text), errors included.
    `retry_num` adds X-Slack-Retry-Num / X-Slack-Retry-Reason, as on Slack's redeliveries."""
    raw = body.encode() if isinstance(body, str) else body
    sent = signed_headers(secret, raw, timestamp, content_type=content_type)
    if retry_num is not None:
        sent["X-Slack-Retry-Num"] = str(retry_num)
        sent["X-Slack-Retry-Reason"] = retry_reason
    sent.update(headers or {})
    request = urllib.request.Request(url, data=raw, headers=sent, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read().decode("utf-8", "replace")
