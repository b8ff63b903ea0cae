"""A fake Slack Web API: a real HTTP server that the real `slack_sdk.WebClient` talks to.

It answers like Slack (response shapes, error names, HTTP 429 with `Retry-After`), keeps what was posted
(messages per channel, views, Home tabs, uploaded files) and records every call. Each request is answered
on its own thread; all state sits behind one lock, so tests may read it while the app is sending.

Honest to Slack where our code must cope with the real thing:
- a message to a user ID lands in that user's DM channel ("D" + user ID); unknown users (with
  `strict_users`) are `channel_not_found` (chat.postMessage) or `user_not_found` (conversations.open,
  views.publish, users.info); deactivated users are `user_disabled`;
- Block Kit limits are checked (`invalid_blocks` for messages; `invalid_arguments` for views, which is what
  Slack answers for views.open/update/push/publish) with Slack-style `[json-pointer:...]` messages;
- `delay()` sleeps *after* the request has been carried out, like a reply lost on a slow network;
- `grid()` plays an Enterprise Grid organisation: a workspace's token reaches only that workspace's
  members and channels (`add_channel(..., teams=...)`), an org-wide token reaches them all.

Standalone, for benchmarks where the app runs in another process:
    python -m tests.support.fake_slack --port 0 --rate-limit chat.postMessage=50
prints its base URL on the first line and serves until SIGTERM (or until its stdin pipe closes);
`GET <root>/_fake/stats` answers counters as JSON (see `remote_stats`).
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import os
import signal
import stat
import sys
import threading
import time
import urllib.request
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP as HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.models.blocks import Block

JSON = dict[str, Any]

MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40_000
VIEW_STACK_MAX = 3
# Parameters that slack_sdk (or a form post) sends as JSON text inside a field.
_JSON_PARAMS = ("blocks", "attachments", "metadata", "view", "files")


# --------------------------------------------------------------------------------------------------------
# Block Kit limits, as documented at docs.slack.dev/reference/block-kit (table-driven).
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """A text object {"type": "plain_text" | "mrkdwn", "text": ...} of at most `max_len` characters."""

    max_len: int
    plain: bool = False
    required: bool = False


@dataclass(frozen=True)
class _Str:
    max_len: int
    required: bool = False


@dataclass(frozen=True)
class _Int:
    low: int
    high: int


@dataclass(frozen=True)
class _Enum:
    values: tuple[str, ...]


@dataclass(frozen=True)
class _Items:
    """An array of `kind`: "element", "context", "option", "option_group", "text" or "any"."""

    kind: str
    max_items: int | None
    min_items: int = 0
    required: bool = False
    text_max: int = 0  # for "text" items and the text of "option" items
    plain: bool = False  # option text must be plain_text (selects, overflow)


@dataclass(frozen=True)
class _Element:
    required: bool = False


@dataclass(frozen=True)
class _Confirm:
    pass


_Rule = _Text | _Str | _Int | _Enum | _Items | _Element | _Confirm

BLOCK_RULES: dict[str, dict[str, _Rule]] = {
    "section": {"text": _Text(3000), "fields": _Items("text", 10, text_max=2000), "accessory": _Element()},
    "header": {"text": _Text(150, plain=True, required=True)},
    "divider": {},
    "context": {"elements": _Items("context", 10, min_items=1, required=True)},
    "actions": {"elements": _Items("element", 25, min_items=1, required=True)},
    "input": {
        "label": _Text(2000, plain=True, required=True),
        "hint": _Text(2000, plain=True),
        "element": _Element(required=True),
    },
    "image": {
        "image_url": _Str(3000),
        "alt_text": _Str(2000, required=True),
        "title": _Text(2000, plain=True),
    },
    "markdown": {"text": _Str(12_000, required=True)},
    "rich_text": {"elements": _Items("any", None, min_items=1, required=True)},
    "file": {"external_id": _Str(255, required=True), "source": _Enum(("remote",))},
    "video": {
        "title": _Text(200, plain=True, required=True),
        "alt_text": _Str(2000, required=True),
        "video_url": _Str(3000, required=True),
        "thumbnail_url": _Str(3000, required=True),
    },
}

_PLACEHOLDER = _Text(150, plain=True)
_SELECT: dict[str, _Rule] = {"placeholder": _PLACEHOLDER, "confirm": _Confirm()}
_STATIC_SELECT: dict[str, _Rule] = {
    **_SELECT,
    "options": _Items("option", 100, text_max=75, plain=True),
    "option_groups": _Items("option_group", 100),
}
_CHOICES = _Items("option", 10, min_items=1, required=True, text_max=75)
ELEMENT_RULES: dict[str, dict[str, _Rule]] = {
    "button": {
        "text": _Text(75, plain=True, required=True),
        "value": _Str(2000),
        "url": _Str(3000),
        "style": _Enum(("primary", "danger")),
        "accessibility_label": _Str(75),
        "confirm": _Confirm(),
    },
    "static_select": _STATIC_SELECT,
    "multi_static_select": {**_STATIC_SELECT, "max_selected_items": _Int(1, 100)},
    "external_select": _SELECT,
    "multi_external_select": _SELECT,
    "users_select": _SELECT,
    "multi_users_select": _SELECT,
    "conversations_select": _SELECT,
    "multi_conversations_select": _SELECT,
    "channels_select": _SELECT,
    "multi_channels_select": _SELECT,
    "overflow": {
        "options": _Items("option", 5, min_items=1, required=True, text_max=75, plain=True),
        "confirm": _Confirm(),
    },
    "checkboxes": {"options": _CHOICES, "confirm": _Confirm()},
    "radio_buttons": {"options": _CHOICES, "confirm": _Confirm()},
    "plain_text_input": {
        "placeholder": _PLACEHOLDER,
        "initial_value": _Str(3000),
        "min_length": _Int(0, 3000),
        "max_length": _Int(1, 3000),
    },
    "datepicker": {"placeholder": _PLACEHOLDER, "confirm": _Confirm()},
    "timepicker": {"placeholder": _PLACEHOLDER, "confirm": _Confirm()},
    "datetimepicker": {"confirm": _Confirm()},
    "email_text_input": {"placeholder": _PLACEHOLDER},
    "url_text_input": {"placeholder": _PLACEHOLDER},
    "number_input": {"placeholder": _PLACEHOLDER},
    "rich_text_input": {"placeholder": _PLACEHOLDER},
    "file_input": {"max_files": _Int(1, 10)},
    "image": {"image_url": _Str(3000), "alt_text": _Str(2000, required=True)},
}
_OPTION_GROUP: dict[str, _Rule] = {
    "label": _Text(75, plain=True, required=True),
    "options": _Items("option", 100, min_items=1, required=True, text_max=75, plain=True),
}
_CONFIRM: dict[str, _Rule] = {
    "title": _Text(100, plain=True, required=True),
    "text": _Text(300, required=True),
    "confirm": _Text(30, plain=True, required=True),
    "deny": _Text(30, plain=True, required=True),
    "style": _Enum(("primary", "danger")),
}


def _err(message: str, pointer: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


def _check_text(value: Any, rule: _Text, pointer: str) -> list[str]:
    if not isinstance(value, dict) or value.get("type") not in ("plain_text", "mrkdwn"):
        return [_err("must be a text object (plain_text or mrkdwn)", pointer)]
    if rule.plain and value["type"] != "plain_text":
        return [_err("must be a plain_text text object", pointer + "/type")]
    text = value.get("text")
    if not isinstance(text, str) or not text:
        return [_err("must be more than 0 characters", pointer + "/text")]
    if len(text) > rule.max_len:
        return [_err(f"must be less than {rule.max_len + 1} characters", pointer + "/text")]
    return []


def _check_items(value: Any, rule: _Items, pointer: str) -> list[str]:
    if not isinstance(value, list):
        return [_err("must be an array", pointer)]
    errors: list[str] = []
    if rule.max_items is not None and len(value) > rule.max_items:
        errors.append(_err(f"no more than {rule.max_items} items allowed", pointer))
    if len(value) < rule.min_items:
        errors.append(_err(f"must provide at least {rule.min_items} items", pointer))
    for index, item in enumerate(value):
        at = f"{pointer}/{index}"
        if rule.kind == "element":
            errors.extend(_check_element(item, at))
        elif rule.kind == "text":
            errors.extend(_check_text(item, _Text(rule.text_max), at))
        elif rule.kind == "option":
            errors.extend(_check_option(item, rule, at))
        elif rule.kind == "option_group":
            errors.extend(_check_fields(item, _OPTION_GROUP, at))
        elif rule.kind == "context":
            is_image = isinstance(item, dict) and item.get("type") == "image"
            errors.extend(_check_element(item, at) if is_image else _check_text(item, _Text(3000), at))
        elif not isinstance(item, dict):
            errors.append(_err("must be an object", at))
    return errors


def _check_option(value: Any, rule: _Items, pointer: str) -> list[str]:
    if not isinstance(value, dict):
        return [_err("must be an option object", pointer)]
    option_rules: dict[str, _Rule] = {
        "text": _Text(rule.text_max, plain=rule.plain, required=True),
        "value": _Str(150, required=True),
        "description": _Text(75, plain=rule.plain),
        "url": _Str(3000),
    }
    return _check_fields(value, option_rules, pointer)


def _check_fields(obj: Any, rules: dict[str, _Rule], pointer: str) -> list[str]:
    if not isinstance(obj, dict):
        return [_err("must be an object", pointer)]
    errors: list[str] = []
    for name, rule in rules.items():
        at = f"{pointer}/{name}"
        if name not in obj or obj[name] is None:
            if getattr(rule, "required", False):
                errors.append(_err(f"missing required field: {name}", pointer))
            continue
        value = obj[name]
        if isinstance(rule, _Text):
            errors.extend(_check_text(value, rule, at))
        elif isinstance(rule, _Str):
            if not isinstance(value, str):
                errors.append(_err("must be a string", at))
            elif len(value) > rule.max_len:
                errors.append(_err(f"must be less than {rule.max_len + 1} characters", at))
        elif isinstance(rule, _Int):
            if not isinstance(value, int) or isinstance(value, bool) or not rule.low <= value <= rule.high:
                errors.append(_err(f"must be an integer from {rule.low} to {rule.high}", at))
        elif isinstance(rule, _Enum):
            if value not in rule.values:
                errors.append(_err(f"must be one of {', '.join(rule.values)}", at))
        elif isinstance(rule, _Items):
            errors.extend(_check_items(value, rule, at))
        elif isinstance(rule, _Element):
            errors.extend(_check_element(value, at))
        else:
            errors.extend(_check_fields(value, _CONFIRM, at))
    return errors


def _check_id(obj: dict[str, Any], name: str, pointer: str) -> list[str]:
    value = obj.get(name)
    if value is None:
        return []
    if not isinstance(value, str) or not value or len(value) > 255:
        return [_err("must be a string of 1 to 255 characters", f"{pointer}/{name}")]
    return []


def _check_element(value: Any, pointer: str) -> list[str]:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str):
        return [_err("must be a block element object with a type", pointer)]
    rules = ELEMENT_RULES.get(value["type"])
    if rules is None:
        return [_err(f"unsupported element type: {value['type']}", pointer + "/type")]
    return _check_id(value, "action_id", pointer) + _check_fields(value, rules, pointer)


def _sdk_check(block: dict[str, Any], pointer: str) -> list[str]:
    """slack_sdk's own model of the block must accept it too (it mirrors Slack's documented limits)."""
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return [_err(f"unsupported type: {block.get('type')}", pointer + "/type")]
        parsed.to_dict()
    except Exception as exc:  # slack_sdk raises SlackObjectFormationError, or TypeError on malformed input
        return [_err(f"invalid block: {exc}", pointer)]
    return []


def _check_block(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return [_err("must be a block object with a type", pointer)]
    rules = BLOCK_RULES.get(block["type"])
    if rules is None:  # a block type our table does not describe: slack_sdk decides
        return _sdk_check(block, pointer)
    errors = _check_id(block, "block_id", pointer) + _check_fields(block, rules, pointer)
    if block["type"] == "section" and not block.get("text") and not block.get("fields"):
        errors.append(_err("must provide either text or fields", pointer))
    return errors or _sdk_check(block, pointer)


def validate_blocks(
    blocks: Any, *, max_blocks: int = MESSAGE_BLOCKS_MAX, pointer: str = "/blocks"
) -> list[str]:
    """Slack's complaints about `blocks` (empty when Slack would accept them)."""
    if not isinstance(blocks, list):
        return [_err("must be an array of blocks", pointer)]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(_err(f"no more than {max_blocks} items allowed", pointer))
    for index, block in enumerate(blocks):
        errors.extend(_check_block(block, f"{pointer}/{index}"))
    return errors


def validate_view(view: Any) -> list[str]:
    """Slack's complaints about a modal or Home tab view object."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        return [_err("must be a view object of type modal or home", "/view")]
    rules: dict[str, _Rule] = {
        "private_metadata": _Str(3000),
        "callback_id": _Str(255),
        "external_id": _Str(255),
    }
    if view["type"] == "modal":
        rules |= {
            "title": _Text(24, plain=True, required=True),
            "submit": _Text(24, plain=True),
            "close": _Text(24, plain=True),
        }
    errors = _check_fields(view, rules, "/view")
    blocks = view.get("blocks")
    if blocks is None:
        errors.append(_err("missing required field: blocks", "/view"))
    else:
        errors.extend(validate_blocks(blocks, max_blocks=VIEW_BLOCKS_MAX, pointer="/view/blocks"))
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if view["type"] == "modal" and has_input and not view.get("submit"):
            errors.append(_err("submit is required when an input block is present", "/view/submit"))
    return errors


# --------------------------------------------------------------------------------------------------------
# Recorded traffic and Slack-side state.
# --------------------------------------------------------------------------------------------------------


class Headers(dict[str, str]):
    """Request headers; lookups ignore case (`headers["authorization"]` == `headers["Authorization"]`)."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__((k.lower(), v) for k, v in items)

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class Call:
    """One request the fake answered: Web API method, decoded params, headers and what it replied."""

    method: str
    params: dict[str, Any]
    headers: Headers
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    at: float = 0.0  # time.monotonic() when it arrived

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None

    @property
    def token(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return str(auth[7:].strip())
        token = self.params.get("token")
        return token if isinstance(token, str) else None


@dataclass
class Message:
    """A message as Slack keeps it; `chat.update` changes it in place (previous versions in `history`)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    user: str | None = None  # for a DM: the person it was sent to
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def updates(self) -> int:
        return len(self.history)

    @property
    def event_type(self) -> str | None:
        return (self.metadata or {}).get("event_type")

    @property
    def payload(self) -> dict[str, Any]:
        payload = (self.metadata or {}).get("event_payload")
        return payload if isinstance(payload, dict) else {}

    def block_text(self) -> str:
        """Every text string inside the blocks, joined: handy for asserting on what a person reads."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if isinstance(node.get("text"), str):
                    found.append(node["text"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for item in node:
                    walk(item)

        walk(self.blocks or [])
        return "\n".join(found)

    def to_slack(self, *, bot_id: str, bot_user_id: str, include_metadata: bool = True) -> JSON:
        data: JSON = {
            "type": "message",
            "subtype": "bot_message",
            "ts": self.ts,
            "text": self.text,
            "bot_id": bot_id,
            "user": bot_user_id,
            "app_id": "A0FAKEAPP",
        }
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.files:
            data["files"] = self.files
        if self.history:
            data["edited"] = {"user": bot_user_id, "ts": self.history[-1]["edited_ts"]}
        if include_metadata and self.metadata is not None:
            data["metadata"] = self.metadata
        return data


@dataclass
class FakeUser:
    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str = "America/Los_Angeles"  # Slack's default for a new member
    deleted: bool = False
    is_bot: bool = False
    is_admin: bool = False
    status_emoji: str = ""
    status_text: str = ""
    status_expiration: int = 0
    team_id: str = "T0FAKE"
    locale: str = "en-US"  # returned only when the caller asks (`include_locale`), as Slack does
    enterprise_id: str | None = None  # on Enterprise Grid: the organisation, and every workspace they are in
    teams: tuple[str, ...] = ()

    def to_slack(self, *, include_locale: bool = False) -> JSON:
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        now = datetime.now(UTC).astimezone(zone)
        offset = now.utcoffset()
        profile: JSON = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "status_text": self.status_text,
            "status_emoji": self.status_emoji,
            "status_expiration": self.status_expiration,
            "team": self.team_id,
        }
        if self.email:
            profile["email"] = self.email
        grid: JSON = {}
        if self.enterprise_id:
            grid["enterprise_user"] = {
                "id": self.id,
                "enterprise_id": self.enterprise_id,
                "enterprise_name": "Grid",
                "is_admin": False,
                "is_owner": False,
                "teams": list(self.teams or (self.team_id,)),
            }
        return (
            grid
            | {
                "id": self.id,
                "team_id": self.team_id,
                "name": self.name,
                "deleted": self.deleted,
                "real_name": self.real_name,
                "tz": self.tz,
                "tz_label": now.tzname() or self.tz,
                "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
                "is_admin": self.is_admin,
                "is_owner": False,
                "is_primary_owner": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_bot": self.is_bot,
                "is_app_user": False,
                "updated": int(time.time()),
                "profile": profile,
            }
            | ({"locale": self.locale} if include_locale else {})
        )


@dataclass
class FakeChannel:
    id: str
    name: str
    archived: bool = False
    deleted: bool = False
    is_member: bool = True
    teams: tuple[str, ...] = ()  # on Grid, the workspaces it is in (empty: every one)


@dataclass
class View:
    """A modal (views.open/push/update) or a Home tab (views.publish) as Slack answered it."""

    id: str
    view: JSON  # the view object as Slack returns it (id, hash, state, ...)
    user_id: str | None
    trigger_id: str | None
    method: str


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    content: bytes | None = None
    title: str | None = None
    channel: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None


@dataclass
class _Fault:
    status: int
    error: str
    retry_after: int
    remaining: int
    after_processing: bool


@dataclass
class _Bucket:
    """Token bucket: `capacity` requests at once, refilled at `rate` per second."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    def take(self, now: float) -> int:
        """0 when the request may pass; else the whole seconds to wait (at least 1), as Retry-After."""
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0
        return max(1, math.ceil((1 - self.tokens) / self.rate))


@dataclass
class _Reply:
    status: int
    body: JSON
    headers: dict[str, str] = field(default_factory=dict)


class SlackError(Exception):
    """Raised inside a method handler: answered as HTTP 200 {"ok": false, "error": ...}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _status_error(status: int) -> str:
    return {429: "ratelimited", 500: "internal_error", 503: "service_unavailable"}.get(status, "fatal_error")


# --------------------------------------------------------------------------------------------------------
# The server.
# --------------------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Senders open a connection per call; a slow moment in this process must not overflow the listen
    # queue (socketserver's default is 5), where the kernel resets connections Slack itself would take.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeSlack) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return  # the client went away (killed, or timed out): nothing to answer
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is dropped after this

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        return


class FakeSlack:
    """A fake Slack Web API on 127.0.0.1; use `url` as SLACK_API_URL. Also a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.team_id = "T0FAKE"
        self.team_name = "Fake Team"
        self.bot_user_id = "U0BOT"
        self.bot_id = "B0BOT"
        self.app_id = "A0FAKEAPP"
        self.strict_users = False  # True: only users added with add_user() exist
        self._lock = threading.RLock()
        self._users: dict[str, FakeUser] = {}
        self._channels: dict[str, FakeChannel] = {}
        self._faults: dict[str, deque[_Fault]] = defaultdict(deque)
        self._limits: dict[str, tuple[float, float, bool]] = {}
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._delays: dict[str, float] = {}
        # Sign in with Slack: the app's OAuth client, and who is signed in to Slack in "the browser".
        self.oidc_client = ("1234.5678", "fake-client-secret")
        self.oidc_user: str | None = None
        # Installing the app (oauth.v2.access): who installs it, and whether its tokens rotate.
        self.installer = "UINSTALLER"
        self.token_rotation = False
        self.token_seconds = 43_200
        # Enterprise Grid (`grid()`): the organisation, its workspaces, and what the next install covers:
        # one workspace (`install_workspace`, a team id) or, when None, the whole organisation.
        self.enterprise_id: str | None = None
        self.enterprise_name: str | None = None
        self.workspaces: dict[str, str] = {}
        self.install_workspace: str | None = None
        self._reset_state()
        self._server = _Server((host, port), self)
        # A short poll interval: stop() (shutdown) waits for the loop to notice, once per test.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )
        self._thread.start()
        self._stopped = False

    def _reset_state(self) -> None:
        self._calls: list[Call] = []
        self._messages: dict[str, list[Message]] = defaultdict(list)
        self._ephemerals: list[JSON] = []
        self._views: dict[str, View] = {}
        self._view_order: list[View] = []
        self._stacks: dict[str, list[str]] = {}  # root view id -> stack of view ids
        self.home_views: dict[str, JSON] = {}
        self.files: dict[str, UploadedFile] = {}
        self._used_triggers: set[str] = set()
        self._opened_dms: set[str] = set()
        self._rejected: Counter[str] = Counter()
        self._last_ts_us = 0
        self._serial = 0
        self._oidc_codes: dict[str, tuple[str, str]] = {}  # code -> (user id, redirect URI), used once
        self._oidc_tokens: dict[str, str] = {}  # user access token -> user id
        self._install_codes: dict[str, str] = {}  # code -> redirect URI, used once
        self._refresh_tokens: set[str] = set()
        self.bot_tokens: list[str] = []  # every bot token handed out, oldest first
        # Installed tokens on Grid: token -> the workspace it acts in (None: every workspace of the org).
        self.token_workspace: dict[str, str | None] = {}
        self._refresh_workspace: dict[str, str | None] = {}
        self._caller: str | None = None  # the token of the call being answered

    # ---- lifecycle ---------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def url(self) -> str:
        """Base URL of the Web API (ends with /api/), for SLACK_API_URL / WebClient(base_url=...)."""
        return self.root + "api/"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget traffic and Slack-side state (calls, messages, views, files); keep users, channels,
        faults, rate limits and delays."""
        with self._lock:
            self._reset_state()
            self._buckets.clear()

    # ---- set-up ------------------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "America/Los_Angeles",
        deleted: bool = False,
        is_bot: bool = False,
        is_admin: bool = False,
        status_emoji: str = "",
        status_text: str = "",
        status_expiration: int = 0,
        locale: str = "en-US",
        team_id: str | None = None,
        teams: tuple[str, ...] = (),
    ) -> FakeUser:
        """Add (or replace) a workspace member; users.info/list/lookupByEmail answer from these.

        On Grid (`grid()`), `team_id` is the workspace they belong to (default: the first), `teams` every
        workspace they are a member of (default: that one)."""
        base = name or user_id.lower()
        home = team_id or (next(iter(self.workspaces)) if self.workspaces else self.team_id)
        user = FakeUser(
            id=user_id,
            name=base,
            real_name=real_name or base,
            email=email,
            tz=tz,
            deleted=deleted,
            is_bot=is_bot,
            is_admin=is_admin,
            status_emoji=status_emoji,
            status_text=status_text,
            status_expiration=status_expiration,
            team_id=home,
            locale=locale,
            enterprise_id=self.enterprise_id,
            teams=teams or (home,),
        )
        with self._lock:
            self._users[user_id] = user
        return user

    def grid(
        self,
        workspaces: dict[str, str] | None = None,
        *,
        enterprise_id: str = "E0GRID",
        enterprise_name: str = "Grid Org",
    ) -> None:
        """Play an Enterprise Grid organisation of several workspaces (default: two). Tokens handed out by
        an install then act only where they were installed: a workspace's token reaches that workspace's
        members and channels (else `channel_not_found` / `user_not_found`), an org-wide token every
        workspace, and users.list with an org-wide token needs `team_id`, as Slack's do. Call before adding
        users."""
        self.enterprise_id, self.enterprise_name = enterprise_id, enterprise_name
        self.workspaces = dict(workspaces or {"T0ONE": "Workspace One", "T0TWO": "Workspace Two"})
        self.team_id, self.team_name = next(iter(self.workspaces.items()))

    def revoke(self, token: str) -> None:
        """From now on Slack answers `token_revoked` to this token (an uninstall, as Slack sees it)."""
        with self._lock:
            self.token_workspace[token] = "revoked"

    def update_user(self, user_id: str, **changes: Any) -> FakeUser:
        """Change fields of a user added before, e.g. `update_user("U1", deleted=True, tz="Asia/Tokyo")`."""
        with self._lock:
            user = self._users[user_id]
            for key, value in changes.items():
                if not hasattr(user, key):
                    raise AttributeError(f"FakeUser has no field {key!r}")
                setattr(user, key, value)
            return user

    def user(self, user_id: str) -> FakeUser | None:
        with self._lock:
            return self._users.get(user_id)

    def add_channel(
        self,
        channel_id: str,
        *,
        name: str | None = None,
        archived: bool = False,
        is_member: bool = True,
        teams: Iterable[str] = (),
    ) -> FakeChannel:
        """Register a channel; unregistered C/G channel IDs are accepted as existing public channels.

        On Grid (`grid()`), `teams` are the workspaces the channel is in: a token installed in another
        workspace gets `channel_not_found` for it, as from Slack. Empty: every workspace sees it."""
        channel = FakeChannel(
            channel_id, name or channel_id.lower(), archived=archived, is_member=is_member, teams=tuple(teams)
        )
        with self._lock:
            self._channels[channel_id] = channel
        return channel

    def archive_channel(self, channel_id: str) -> None:
        with self._lock:
            self._channels.setdefault(channel_id, FakeChannel(channel_id, channel_id.lower())).archived = True

    def delete_channel(self, channel_id: str) -> None:
        """From now on the channel is `channel_not_found`."""
        with self._lock:
            self._channels.setdefault(channel_id, FakeChannel(channel_id, channel_id.lower())).deleted = True

    # ---- faults and limits -------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int | None = None,
        *,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        after_processing: bool = False,
    ) -> None:
        """Answer the next `times` calls to `method` with a failure.

        Default HTTP 429 + Retry-After (`ratelimited`); `status=500|503` for server errors; `error="x"` alone
        means HTTP 200 {"ok": false, "error": "x"}. With `after_processing=True` the call is carried out
        first (the message is posted) and only the reply fails: "some aspect of the operation succeeded".
        """
        if status is None:
            status = 200 if error else 429
        fault = _Fault(status, error or _status_error(status), max(0, retry_after), times, after_processing)
        with self._lock:
            self._faults[method].append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def rate_limit(
        self, method: str, per_second: float = 50.0, *, burst: float | None = None, per_channel: bool = False
    ) -> None:
        """Beyond `per_second` calls to `method` (token bucket of `burst`, default one second's worth)
        answer HTTP 429 with a whole-second Retry-After. `per_channel`: one bucket per `channel` param,
        like chat.postMessage's one message a second per channel."""
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        capacity = burst if burst is not None else max(1.0, per_second)
        with self._lock:
            self._limits[method] = (per_second, capacity, per_channel)
            for key in [k for k in self._buckets if k[0] == method]:
                del self._buckets[key]

    def clear_rate_limit(self, method: str) -> None:
        with self._lock:
            self._limits.pop(method, None)

    def delay(self, method: str, seconds: float) -> None:
        """Hold each reply to `method` ("*" = every method) for `seconds`, after carrying the call out."""
        with self._lock:
            if seconds > 0:
                self._delays[method] = seconds
            else:
                self._delays.pop(method, None)

    def rejected(self, method: str | None = None) -> int:
        """How many calls (to `method`, or to any) rate_limit() turned away with 429."""
        with self._lock:
            return self._rejected[method] if method else sum(self._rejected.values())

    # ---- inspection --------------------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls to `method`, in arrival order; `ok=True` keeps only the successful ones."""
        with self._lock:
            return [c for c in self._calls if c.method == method and (ok is None or c.ok == ok)]

    def messages(self, channel: str | None = None) -> list[Message]:
        """Messages as they are now (after chat.update), oldest first; `channel` may be a user ID (its DM)."""
        with self._lock:
            if channel is not None:
                return list(self._messages.get(self._dm_channel(channel), []))
            every = [m for msgs in self._messages.values() for m in msgs]
        return sorted(every, key=lambda m: m.ts)

    def posted_to(self, user_or_channel: str) -> list[Message]:
        return self.messages(user_or_channel)

    def message(self, channel: str, ts: str) -> Message | None:
        with self._lock:
            return next((m for m in self._messages.get(channel, []) if m.ts == ts), None)

    @property
    def ephemerals(self) -> list[JSON]:
        with self._lock:
            return list(self._ephemerals)

    @property
    def views(self) -> list[View]:
        """Every modal opened, pushed or updated and every Home tab published, in order."""
        with self._lock:
            return list(self._view_order)

    def view(self, view_id: str) -> View | None:
        with self._lock:
            return self._views.get(view_id)

    def count_by(self, key: Callable[[Message], Hashable]) -> Counter[Hashable]:
        """Count messages by `key(message)`, e.g. `count_by(lambda m: (m.channel, m.text))`."""
        return Counter(key(m) for m in self.messages())

    def metadata_counts(self, payload_key: str) -> Counter[Hashable]:
        """How many messages carry each value of metadata.event_payload[payload_key] (None = absent)."""
        return self.count_by(lambda m: _hashable(m.payload.get(payload_key)))

    def duplicates(self, payload_key: str) -> dict[Hashable, int]:
        """Values of event_payload[payload_key] that more than one message carries: {} for exactly-once."""
        return {k: n for k, n in self.metadata_counts(payload_key).items() if k is not None and n > 1}

    def stats(self) -> JSON:
        """Counters, also served as JSON at GET <root>/_fake/stats for other processes."""
        with self._lock:
            calls = Counter(c.method for c in self._calls)
            ok_calls = Counter(c.method for c in self._calls if c.ok)
            messages = sum(len(m) for m in self._messages.values())
            return {
                "calls": dict(calls),
                "ok_calls": dict(ok_calls),
                "rejected": dict(self._rejected),
                "messages": messages,
                "channels": len(self._messages),
            }

    # ---- HTTP plumbing -----------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = Headers(list(handler.headers.items()))
        if parts.path.startswith("/api/"):
            method = parts.path[len("/api/") :]
            try:
                params = self._parse_params(parts.query, body, headers)
            except ValueError as exc:
                reply = _Reply(200, {"ok": False, "error": str(exc)})
                self._record(Call(method, {}, headers, reply.status, reply.body, time.monotonic()))
            else:
                reply = self._dispatch(method, params, headers)
        elif parts.path.startswith("/upload/v1/"):
            reply = self._receive_upload(parts.path.rsplit("/", 1)[-1], body, headers)
        elif parts.path == "/oauth/v2/authorize" and handler.command == "GET":
            reply = self._install_authorize(dict(parse_qsl(parts.query, keep_blank_values=True)))
        elif parts.path == "/openid/connect/authorize" and handler.command == "GET":
            reply = self._oidc_authorize(dict(parse_qsl(parts.query, keep_blank_values=True)))
        elif parts.path == "/_fake/stats":
            reply = _Reply(200, self.stats())
        elif parts.path == "/_fake/messages":
            with self._lock:
                listing = [
                    {"channel": m.channel, **m.to_slack(bot_id=self.bot_id, bot_user_id=self.bot_user_id)}
                    for m in self.messages()
                ]
            reply = _Reply(200, {"messages": listing})
        elif parts.path == "/_fake/reset" and handler.command == "POST":
            self.reset()
            reply = _Reply(200, {"ok": True})
        else:
            reply = _Reply(404, {"ok": False, "error": "not_found"})
        self._write(handler, reply)

    def _write(self, handler: _Handler, reply: _Reply) -> None:
        if "text/plain" in reply.headers.get("Content-Type", ""):
            payload = str(reply.body.get("text", "")).encode()
        else:
            payload = json.dumps(reply.body).encode()
        handler.send_response(reply.status)
        if "Content-Type" not in reply.headers:
            handler.send_header("Content-Type", "application/json; charset=utf-8")
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    @staticmethod
    def _parse_params(query: str, body: bytes, headers: Headers) -> dict[str, Any]:
        params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        content_type = headers.get("content-type", "").lower()
        if body:
            if content_type.startswith("application/json"):
                try:
                    decoded = json.loads(body)
                except ValueError:
                    raise ValueError("invalid_json") from None
                if not isinstance(decoded, dict):
                    raise ValueError("invalid_json")
                params.update(decoded)
            elif content_type.startswith("multipart/form-data"):
                message = BytesParser(policy=HTTP_POLICY).parsebytes(
                    b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
                )
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if isinstance(name, str):
                        raw = part.get_payload(decode=True)
                        params[name] = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
            else:
                params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        for name in _JSON_PARAMS:
            value = params.get(name)
            if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
                try:
                    params[name] = json.loads(value)
                except ValueError:
                    raise ValueError(
                        "invalid_blocks_format" if name == "blocks" else "invalid_arguments"
                    ) from None
        return params

    def _record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def _dispatch(self, method: str, params: dict[str, Any], headers: Headers) -> _Reply:
        arrived = time.monotonic()
        with self._lock:
            reply = self._answer(method, params, headers, arrived)
            self._calls.append(Call(method, params, headers, reply.status, reply.body, arrived))
            pause = self._delays.get(method, self._delays.get("*", 0.0))
        if pause:
            time.sleep(pause)
        return reply

    def _answer(self, method: str, params: dict[str, Any], headers: Headers, now: float) -> _Reply:
        fault: _Fault | None = None
        queue = self._faults.get(method)
        if queue:
            fault = queue[0]
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.popleft()
        if fault is not None and not fault.after_processing:
            return self._fault_reply(fault)
        limit = self._limits.get(method)
        if limit is not None:
            rate, capacity, per_channel = limit
            key = (method, str(params.get("channel", "")) if per_channel else "")
            bucket = self._buckets.setdefault(key, _Bucket(rate, capacity, capacity, now))
            wait = bucket.take(now)
            if wait:
                self._rejected[method] += 1
                return _Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)})
        handler = self._methods().get(method)
        if method.startswith("openid.connect."):
            reply = self._oidc_call(method, params, headers)
        elif method == "oauth.v2.access":
            try:
                reply = _Reply(200, {"ok": True, **self._oauth_access(params, headers)})
            except SlackError as exc:
                reply = _Reply(200, {"ok": False, "error": exc.error})
        elif handler is None:
            reply = _Reply(200, {"ok": False, "error": "unknown_method", "req_method": method})
        elif not (headers.get("authorization", "").lower().startswith("bearer ") or params.get("token")):
            reply = _Reply(200, {"ok": False, "error": "not_authed"})
        else:
            auth = headers.get("authorization", "")
            bearer = auth.lower().startswith("bearer ")
            self._caller = auth[7:].strip() if bearer else str(params.get("token"))
            try:
                self._check_workspace(method, params)
                reply = _Reply(200, {"ok": True, **handler(params)})
            except SlackError as exc:
                reply = _Reply(200, {"ok": False, "error": exc.error, **exc.extra})
            finally:
                self._caller = None
        if fault is not None:
            return self._fault_reply(fault)
        return reply

    @staticmethod
    def _fault_reply(fault: _Fault) -> _Reply:
        headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
        return _Reply(fault.status, {"ok": False, "error": fault.error}, headers)

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], JSON]]:
        return {
            "api.test": lambda p: {"args": {k: v for k, v in p.items() if k != "token"}},
            "auth.test": self._auth_test,
            "auth.teams.list": self._auth_teams_list,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.list": self._users_list,
            "users.lookupByEmail": self._users_lookup_by_email,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ---- Sign in with Slack (OpenID Connect) --------------------------------------------------------------

    # ---- installing the app (OAuth v2) -------------------------------------------------------------------

    # ---- Enterprise Grid: where a token may act ------------------------------------------------------

    def _caller_workspace(self) -> tuple[bool, str | None]:
        """(whether the calling token is an installed Grid token, the workspace it acts in or None for
        an org-wide one). Other tokens (SLACK_BOT_TOKEN in tests) act in the one workspace, unchecked."""
        if self._caller not in self.token_workspace:
            return False, None
        return True, self.token_workspace[self._caller]

    def _check_workspace(self, method: str, params: dict[str, Any]) -> None:
        installed, workspace = self._caller_workspace()
        if not installed:
            return
        if workspace == "revoked":
            raise SlackError("token_revoked")
        if workspace is None or not self.workspaces:
            return
        user: str | None = None
        if method in ("chat.postMessage", "chat.postEphemeral"):
            raw = str(params.get("channel") or "")
            user = raw if raw[:1] in ("U", "W") else raw[1:] if raw[:1] == "D" and raw[1:2] in "UW" else None
            if method == "chat.postEphemeral":
                user = str(params.get("user") or "") or user
        elif method == "conversations.open":
            raw = params.get("users")
            user = str(raw).split(",")[0].strip() if raw else None
        elif method in ("views.publish", "users.info"):
            user = str(params.get("user_id") or params.get("user") or "") or None
        if user is None:
            return
        member = self._users.get(user)
        if member is not None and workspace not in (member.teams or (member.team_id,)):
            raise SlackError("channel_not_found" if method.startswith("chat.") else "user_not_found")

    def _auth_teams_list(self, params: dict[str, Any]) -> JSON:
        installed, workspace = self._caller_workspace()
        if installed and workspace is None and self.workspaces:
            teams = [{"id": t, "name": n} for t, n in self.workspaces.items()]
        elif installed and workspace in self.workspaces:
            teams = [{"id": workspace, "name": self.workspaces[workspace]}]
        else:
            teams = [{"id": self.team_id, "name": self.team_name}]
        page, cursor = self._page(params, teams, 0)
        return {"teams": page, "response_metadata": {"next_cursor": cursor}}

    # ---- installing the app (OAuth v2) -------------------------------------------------------------------

    def _install_authorize(self, query: dict[str, str]) -> _Reply:
        """Slack's install page, accepted at once by `installer`: back to the redirect URI with a code."""
        if query.get("client_id") != self.oidc_client[0] or not query.get("scope"):
            return _Reply(400, {"text": "invalid_client_id"}, {"Content-Type": "text/plain"})
        redirect = query.get("redirect_uri") or ""
        with self._lock:
            code = self._next_id("install-code-")
            self._install_codes[code] = redirect
        target = f"{redirect}?{urlencode({'code': code, 'state': query.get('state', '')})}"
        return _Reply(302, {"text": ""}, {"Location": target, "Content-Type": "text/plain"})

    def _client_of(self, params: dict[str, Any], headers: Headers) -> tuple[Any, Any]:
        client = (params.get("client_id"), params.get("client_secret"))
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:].strip()).decode("utf-8", "replace")
            client_id, _, secret = decoded.partition(":")
            client = (client_id, secret)
        return client

    def _oauth_access(self, params: dict[str, Any], headers: Headers) -> JSON:
        """oauth.v2.access: a code for the bot's token, or (token rotation) a refresh token for a new one."""
        client = self._client_of(params, headers)
        if client[0] != self.oidc_client[0]:
            raise SlackError("invalid_client_id")
        if client[1] != self.oidc_client[1]:
            raise SlackError("bad_client_secret")
        if params.get("grant_type") == "refresh_token":
            if params.get("refresh_token") not in self._refresh_tokens:
                raise SlackError("invalid_refresh_token")
        else:
            redirect = self._install_codes.pop(str(params.get("code", "")), None)
            if redirect is None:
                raise SlackError("invalid_code")
            if params.get("redirect_uri") and params.get("redirect_uri") != redirect:
                raise SlackError("bad_redirect_uri")
        if params.get("grant_type") == "refresh_token":
            covers = self._refresh_workspace.get(str(params.get("refresh_token")), self.install_workspace)
        else:
            covers = self.install_workspace
        token = self._next_id("xoxb-installed-")
        self.bot_tokens.append(token)
        if self.workspaces:
            self.token_workspace[token] = covers
        answer: JSON = {
            "access_token": token,
            "token_type": "bot",
            "scope": "commands,chat:write,im:write,im:history,channels:history,groups:history,users:read,"
            "users:read.email,files:write",
            "bot_user_id": self.bot_user_id,
            "app_id": self.app_id,
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None,
            "authed_user": {"id": self.installer},
            "is_enterprise_install": False,
        }
        if self.workspaces:
            answer["enterprise"] = {"id": self.enterprise_id, "name": self.enterprise_name}
            if covers is None:
                answer |= {"team": None, "is_enterprise_install": True}
            else:
                answer["team"] = {"id": covers, "name": self.workspaces[covers]}
        if self.token_rotation:
            refresh = self._next_id("xoxe-1-")
            self._refresh_tokens.add(refresh)
            self._refresh_workspace[refresh] = covers
            answer |= {"refresh_token": refresh, "expires_in": self.token_seconds}
        return answer

    def oidc_code(self, user_id: str, redirect_uri: str) -> str:
        """A fresh authorization code for `user_id`, as Slack hands one to the app's redirect URI."""
        with self._lock:
            code = self._next_id("oidc-code-")
            self._oidc_codes[code] = (user_id, redirect_uri)
            return code

    def _oidc_authorize(self, query: dict[str, str]) -> _Reply:
        """Slack's authorize page with `oidc_user` signed in who accepts at once: a redirect to the app's
        redirect URI with a code and the state it was given; an unknown client gets Slack's error page."""
        if query.get("client_id") != self.oidc_client[0] or query.get("response_type") != "code":
            return _Reply(400, {"text": "invalid_client_id"}, {"Content-Type": "text/plain"})
        if not set(str(query.get("scope", "")).split()) >= {"openid"} or not query.get("redirect_uri"):
            return _Reply(400, {"text": "invalid_scope"}, {"Content-Type": "text/plain"})
        if self.oidc_user is None:
            return _Reply(200, {"text": "Sign in to your workspace"}, {"Content-Type": "text/plain"})
        code = self.oidc_code(self.oidc_user, query["redirect_uri"])
        target = query["redirect_uri"] + "?" + urlencode({"code": code, "state": query.get("state", "")})
        return _Reply(302, {"text": ""}, {"Location": target, "Content-Type": "text/plain"})

    def _oidc_call(self, method: str, params: dict[str, Any], headers: Headers) -> _Reply:
        """openid.connect.token (client ID and secret by HTTP Basic auth or in the form, as slack_sdk and
        Slack accept) and openid.connect.userInfo (the user's token as bearer)."""
        try:
            if method == "openid.connect.token":
                body = self._oidc_token(params, headers)
            elif method == "openid.connect.userInfo":
                body = self._oidc_user_info(headers)
            else:
                return _Reply(200, {"ok": False, "error": "unknown_method", "req_method": method})
        except SlackError as exc:
            return _Reply(200, {"ok": False, "error": exc.error})
        return _Reply(200, {"ok": True, **body})

    def _oidc_token(self, params: dict[str, Any], headers: Headers) -> JSON:
        client = (params.get("client_id"), params.get("client_secret"))
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            decoded = base64.b64decode(basic[6:].strip()).decode("utf-8", "replace")
            client_id, _, secret = decoded.partition(":")
            client = (client_id, secret)
        if client[0] is None and client[1] is None:
            raise SlackError("not_authed")
        if client[0] != self.oidc_client[0]:
            raise SlackError("invalid_client_id")
        if client[1] != self.oidc_client[1]:
            raise SlackError("bad_client_secret")
        found = self._oidc_codes.pop(str(params.get("code", "")), None)
        if found is None:
            raise SlackError("invalid_code")
        user_id, redirect_uri = found
        if params.get("redirect_uri") != redirect_uri:
            raise SlackError("bad_redirect_uri")
        token = self._next_id("xoxp-oidc-")
        self._oidc_tokens[token] = user_id
        return {"access_token": token, "token_type": "Bearer", "id_token": "fake.id.token"}

    def _oidc_user_info(self, headers: Headers) -> JSON:
        auth = headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            raise SlackError("not_authed")
        user_id = self._oidc_tokens.get(auth[7:].strip())
        if user_id is None:
            raise SlackError("invalid_auth")
        user = self._users.get(user_id)
        answer: JSON = {
            "sub": user_id,
            "https://slack.com/user_id": user_id,
            "https://slack.com/team_id": self.team_id,
            "https://slack.com/team_name": self.team_name,
            "email_verified": True,
        }
        if user is not None:
            answer["name"] = user.real_name or user.name
            if user.email:
                answer["email"] = user.email
        return answer

    # ---- helpers for handlers (called with the lock held) ------------------------------------------------

    def _next_ts(self) -> str:
        now_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = now_us
        return f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}0FAKE{self._serial:06d}"

    @staticmethod
    def _dm_channel(user_or_channel: str) -> str:
        return "D" + user_or_channel if user_or_channel[:1] in ("U", "W") else user_or_channel

    def _require(self, params: dict[str, Any], *names: str) -> None:
        for name in names:
            if params.get(name) in (None, ""):
                raise SlackError("invalid_arguments", response_metadata={"messages": [f"missing {name}"]})

    def _known_user(self, user_id: str, *, missing_error: str = "user_not_found") -> FakeUser | None:
        user = self._users.get(user_id)
        if user is None and self.strict_users:
            raise SlackError(missing_error)
        if user is not None and user.deleted:
            raise SlackError("user_disabled")
        return user

    def _target_channel(self, raw: Any) -> tuple[str, str | None]:
        """(channel id, DM user or None) for a `channel` argument, or a SlackError as Slack answers."""
        if not isinstance(raw, str) or not raw:
            raise SlackError("channel_not_found")
        if raw[:1] in ("U", "W"):
            self._known_user(raw, missing_error="channel_not_found")
            return self._dm_channel(raw), raw
        if raw[:1] == "D" and raw[1:2] in ("U", "W"):
            self._known_user(raw[1:], missing_error="channel_not_found")
            return raw, raw[1:]
        channel = self._channels.get(raw)
        if channel is not None:
            if channel.deleted or not self._in_reach(channel):
                raise SlackError("channel_not_found")
            if channel.archived:
                raise SlackError("is_archived")
            if not channel.is_member:
                raise SlackError("not_in_channel")
        return raw, None

    def _existing_channel(self, raw: Any) -> str:
        if not isinstance(raw, str) or not raw:
            raise SlackError("channel_not_found")
        channel = self._channels.get(raw)
        if channel is not None and (channel.deleted or not self._in_reach(channel)):
            raise SlackError("channel_not_found")
        return raw

    def _in_reach(self, channel: FakeChannel) -> bool:
        """Whether the calling token sees `channel`: a Grid workspace's token sees only its own channels."""
        installed, workspace = self._caller_workspace()
        if not installed or workspace is None or not channel.teams or not self.workspaces:
            return True
        return workspace in channel.teams

    def _content(self, params: dict[str, Any], *, require: bool = True) -> tuple[str, list[JSON] | None]:
        text = params.get("text")
        text = text if isinstance(text, str) else ""
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            if blocks.strip():
                raise SlackError("invalid_blocks_format")
            blocks = None
        if blocks is not None:
            errors = validate_blocks(blocks)
            if errors:
                raise SlackError(
                    "invalid_blocks",
                    errors=errors,
                    response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
                )
        if require and not text.strip() and not blocks and not params.get("attachments"):
            raise SlackError("no_text")
        if len(text) > MESSAGE_TEXT_MAX:
            raise SlackError("msg_too_long")
        return text, blocks

    @staticmethod
    def _metadata(params: dict[str, Any]) -> JSON | None:
        metadata = params.get("metadata")
        if metadata in (None, ""):
            return None
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    def _slack_message(self, message: Message) -> JSON:
        return message.to_slack(bot_id=self.bot_id, bot_user_id=self.bot_user_id)

    # ---- methods -----------------------------------------------------------------------------------------

    def _auth_test(self, params: dict[str, Any]) -> JSON:
        return {
            "url": "https://fake.slack.com/",
            "team": self.team_name,
            "user": "adoptbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any]) -> JSON:
        channel, dm_user = self._target_channel(params.get("channel"))
        text, blocks = self._content(params)
        metadata = self._metadata(params)
        thread_ts = params.get("thread_ts") or None
        message = Message(
            channel=channel,
            ts=self._next_ts(),
            text=text,
            blocks=blocks,
            metadata=metadata,
            thread_ts=str(thread_ts) if thread_ts else None,
            user=dm_user,
        )
        self._messages[channel].append(message)
        return {"channel": channel, "ts": message.ts, "message": self._slack_message(message)}

    def _chat_update(self, params: dict[str, Any]) -> JSON:
        channel = self._existing_channel(params.get("channel"))
        message = next((m for m in self._messages.get(channel, []) if m.ts == params.get("ts")), None)
        if message is None:
            raise SlackError("message_not_found")
        text, blocks = self._content(params, require=False)
        if not text and blocks is None and "metadata" not in params and "file_ids" not in params:
            raise SlackError("no_text")
        previous = {"text": message.text, "blocks": message.blocks, "metadata": message.metadata}
        message.history.append({**previous, "edited_ts": self._next_ts()})
        if "text" in params:
            message.text = text
        if blocks is not None:
            message.blocks = blocks
        metadata = self._metadata(params)
        if metadata is not None:
            message.metadata = metadata
        return {
            "channel": channel,
            "ts": message.ts,
            "text": message.text,
            "message": self._slack_message(message),
        }

    def _chat_delete(self, params: dict[str, Any]) -> JSON:
        channel = self._existing_channel(params.get("channel"))
        messages = self._messages.get(channel, [])
        message = next((m for m in messages if m.ts == params.get("ts")), None)
        if message is None:
            raise SlackError("message_not_found")
        messages.remove(message)
        return {"channel": channel, "ts": message.ts}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> JSON:
        self._require(params, "user")
        channel, _ = self._target_channel(params.get("channel"))
        user = str(params["user"])
        self._known_user(user)
        text, blocks = self._content(params)
        ts = self._next_ts()
        self._ephemerals.append({"channel": channel, "user": user, "text": text, "blocks": blocks, "ts": ts})
        return {"message_ts": ts}

    def _chat_get_permalink(self, params: dict[str, Any]) -> JSON:
        channel = self._existing_channel(params.get("channel"))
        ts = str(params.get("message_ts", ""))
        if not any(m.ts == ts for m in self._messages.get(channel, [])):
            raise SlackError("message_not_found")
        return {
            "channel": channel,
            "permalink": f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _conversations_open(self, params: dict[str, Any]) -> JSON:
        raw = params.get("users")
        if not raw:
            if params.get("channel"):
                return {"channel": {"id": self._existing_channel(params["channel"])}}
            raise SlackError("users_list_not_supplied")
        users = [u.strip() for u in (raw if isinstance(raw, list) else str(raw).split(",")) if u.strip()]
        if len(users) > 8:
            raise SlackError("too_many_users")
        for user in users:
            self._known_user(user)
        if len(users) == 1:
            channel_id = self._dm_channel(users[0])
            info: JSON = {"id": channel_id}
            if _truthy(params.get("return_im")):
                info |= {"created": int(time.time()), "is_im": True, "user": users[0], "is_open": True}
        else:
            channel_id = "G" + base64.b32encode(",".join(sorted(users)).encode()).decode().rstrip("=")[:12]
            info = {"id": channel_id}
        answer: JSON = {"channel": info}
        if channel_id in self._opened_dms:
            answer |= {"no_op": True, "already_open": True}
        self._opened_dms.add(channel_id)
        return answer

    def _page(self, params: dict[str, Any], items: list[JSON], default_limit: int) -> tuple[list[JSON], str]:
        try:
            limit = int(params.get("limit") or default_limit)
        except (TypeError, ValueError):
            raise SlackError("invalid_limit") from None
        limit = len(items) if limit <= 0 else min(limit, 1000)
        start = 0
        if params.get("cursor"):
            try:
                start = int(base64.b64decode(str(params["cursor"])).decode().split(":", 1)[1])
            except (ValueError, IndexError):
                raise SlackError("invalid_cursor") from None
        page = items[start : start + limit]
        following = start + len(page)
        cursor = base64.b64encode(f"next:{following}".encode()).decode() if following < len(items) else ""
        return page, cursor

    def _conversations_history(self, params: dict[str, Any]) -> JSON:
        channel = self._existing_channel(params.get("channel"))
        inclusive = _truthy(params.get("inclusive"))
        oldest = float(params.get("oldest") or 0)
        latest = float(params["latest"]) if params.get("latest") else math.inf
        include_metadata = _truthy(params.get("include_all_metadata"))
        chosen = [
            m
            for m in self._messages.get(channel, [])
            if (not m.thread_ts or m.thread_ts == m.ts)
            and (oldest <= float(m.ts) <= latest if inclusive else oldest < float(m.ts) < latest)
        ]
        newest_first = [
            m.to_slack(bot_id=self.bot_id, bot_user_id=self.bot_user_id, include_metadata=include_metadata)
            for m in sorted(chosen, key=lambda m: m.ts, reverse=True)
        ]
        page, cursor = self._page(params, newest_first, 100)
        return {
            "messages": page,
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    def _conversations_replies(self, params: dict[str, Any]) -> JSON:
        channel = self._existing_channel(params.get("channel"))
        ts = str(params.get("ts", ""))
        thread = [m for m in self._messages.get(channel, []) if m.ts == ts or m.thread_ts == ts]
        if not thread:
            raise SlackError("thread_not_found")
        include_metadata = _truthy(params.get("include_all_metadata"))
        listed = [
            m.to_slack(bot_id=self.bot_id, bot_user_id=self.bot_user_id, include_metadata=include_metadata)
            for m in sorted(thread, key=lambda m: m.ts)
        ]
        page, cursor = self._page(params, listed, 1000)
        return {"messages": page, "has_more": bool(cursor), "response_metadata": {"next_cursor": cursor}}

    def _view_object(self, params: dict[str, Any]) -> JSON:
        view = params.get("view")
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing view"]})
        errors = validate_view(view)
        if errors:
            raise SlackError(
                "invalid_arguments",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return view

    def _store_view(
        self,
        view: JSON,
        *,
        method: str,
        user_id: str | None,
        trigger_id: str | None,
        view_id: str | None = None,
    ) -> JSON:
        view_id = view_id or self._next_id("V")
        answer: JSON = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view["type"],
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{self._next_id('h')}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "external_id": view.get("external_id", ""),
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "app_installed_team_id": self.team_id,
        }
        for key in ("title", "submit", "close"):
            if key in view:
                answer[key] = view[key]
        record = View(view_id, answer, user_id, trigger_id, method)
        self._views[view_id] = record
        self._view_order.append(record)
        return answer

    def _use_trigger(self, params: dict[str, Any]) -> str:
        trigger_id = params.get("trigger_id")
        if not trigger_id:
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing trigger_id"]}
            )
        if trigger_id in self._used_triggers:
            raise SlackError("exchanged_trigger_id")
        self._used_triggers.add(str(trigger_id))
        return str(trigger_id)

    def _views_open(self, params: dict[str, Any]) -> JSON:
        view = self._view_object(params)
        if view["type"] != "modal":
            raise SlackError("invalid_arguments")
        trigger_id = self._use_trigger(params)
        answer = self._store_view(view, method="views.open", user_id=None, trigger_id=trigger_id)
        answer |= {"root_view_id": answer["id"], "previous_view_id": None}
        self._stacks[answer["id"]] = [answer["id"]]
        return {"view": answer}

    def _views_push(self, params: dict[str, Any]) -> JSON:
        view = self._view_object(params)
        trigger_id = self._use_trigger(params)
        stack = self._stacks[next(reversed(self._stacks))] if self._stacks else []
        if len(stack) >= VIEW_STACK_MAX:
            raise SlackError("push_limit_reached")
        answer = self._store_view(view, method="views.push", user_id=None, trigger_id=trigger_id)
        answer |= {
            "root_view_id": stack[0] if stack else answer["id"],
            "previous_view_id": stack[-1] if stack else None,
        }
        stack.append(answer["id"])
        return {"view": answer}

    def _views_update(self, params: dict[str, Any]) -> JSON:
        view = self._view_object(params)
        target = None
        if params.get("view_id"):
            target = self._views.get(str(params["view_id"]))
        elif params.get("external_id"):
            wanted = params["external_id"]
            target = next(
                (v for v in reversed(self._view_order) if v.view.get("external_id") == wanted), None
            )
        else:
            raise SlackError("invalid_arguments")
        if target is None:
            raise SlackError("not_found")
        if params.get("hash") and params["hash"] != target.view["hash"]:
            raise SlackError("hash_conflict")
        answer = self._store_view(
            view, method="views.update", user_id=target.user_id, trigger_id=None, view_id=target.id
        )
        for key in ("root_view_id", "previous_view_id"):
            if key in target.view:
                answer[key] = target.view[key]
        if target.method == "views.publish" and target.user_id:
            self.home_views[target.user_id] = answer
        return {"view": answer}

    def _views_publish(self, params: dict[str, Any]) -> JSON:
        self._require(params, "user_id")
        view = self._view_object(params)
        if view["type"] != "home":
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] type must be home"]}
            )
        user_id = str(params["user_id"])
        self._known_user(user_id)
        current = self.home_views.get(user_id)
        if params.get("hash") and current is not None and params["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view_id = current["id"] if current is not None else None
        answer = self._store_view(
            view, method="views.publish", user_id=user_id, trigger_id=None, view_id=view_id
        )
        self.home_views[user_id] = answer
        return {"view": answer}

    def _users_info(self, params: dict[str, Any]) -> JSON:
        self._require(params, "user")
        user = self._users.get(str(params["user"]))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.to_slack()}

    def _users_list(self, params: dict[str, Any]) -> JSON:
        locale = _truthy(params.get("include_locale"))
        users = list(self._users.values())
        installed, workspace = self._caller_workspace()
        if installed and self.workspaces:
            wanted = workspace or params.get("team_id")
            if not wanted:
                raise SlackError("missing_argument", response_metadata={"messages": ["team_id required"]})
            users = [u for u in users if wanted in (u.teams or (u.team_id,))]
        members = [u.to_slack(include_locale=locale) for u in users]
        page, cursor = self._page(params, members, 0)
        return {"members": page, "cache_ts": int(time.time()), "response_metadata": {"next_cursor": cursor}}

    def _users_lookup_by_email(self, params: dict[str, Any]) -> JSON:
        self._require(params, "email")
        wanted = str(params["email"]).strip().lower()
        user = next(
            (u for u in self._users.values() if u.email and u.email.lower() == wanted and not u.deleted), None
        )
        if user is None:
            raise SlackError("users_not_found")
        return {"user": user.to_slack()}

    def _files_get_upload_url(self, params: dict[str, Any]) -> JSON:
        self._require(params, "filename", "length")
        try:
            length = int(params["length"])
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments") from None
        file_id = self._next_id("F")
        self.files[file_id] = UploadedFile(file_id, str(params["filename"]), length)
        return {"upload_url": f"{self.root}upload/v1/{file_id}", "file_id": file_id}

    def _receive_upload(self, file_id: str, body: bytes, headers: Headers) -> _Reply:
        content = body
        if headers.get("content-type", "").lower().startswith("multipart/form-data"):
            message = BytesParser(policy=HTTP_POLICY).parsebytes(
                b"Content-Type: " + headers["content-type"].encode() + b"\r\n\r\n" + body
            )
            for part in message.iter_parts():
                payload = part.get_payload(decode=True)
                if isinstance(payload, bytes):
                    content = payload
                    break
        with self._lock:
            upload = self.files.get(file_id)
            if upload is None:
                return _Reply(404, {"text": "file not found"}, {"Content-Type": "text/plain"})
            upload.content = content
        return _Reply(200, {"text": f"OK - {len(content)}"}, {"Content-Type": "text/plain"})

    def _files_complete_upload(self, params: dict[str, Any]) -> JSON:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise SlackError("invalid_arguments")
        channel = params.get("channel_id") or None
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        targets = ([str(channel)] if channel else []) + channels
        for target in targets:
            self._target_channel(target)
        shared: list[JSON] = []
        for entry in entries:
            upload = self.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if upload is None or upload.content is None:
                raise SlackError("file_not_found")
            upload.title = entry.get("title") or upload.filename
            upload.channel = targets[0] if targets else None
            upload.initial_comment = params.get("initial_comment") or None
            upload.thread_ts = params.get("thread_ts") or None
            shared.append(
                {
                    "id": upload.id,
                    "name": upload.filename,
                    "title": upload.title,
                    "size": len(upload.content),
                    "created": int(time.time()),
                    "permalink": f"https://fake.slack.com/files/{self.bot_user_id}/{upload.id}/{upload.filename}",
                    "channels": targets,
                }
            )
        for target in targets:
            channel_id, dm_user = self._target_channel(target)
            message = Message(
                channel=channel_id,
                ts=self._next_ts(),
                text=str(params.get("initial_comment") or ""),
                files=shared,
                thread_ts=str(params["thread_ts"]) if params.get("thread_ts") else None,
                user=dm_user,
            )
            self._messages[channel_id].append(message)
        return {"files": shared}


def _hashable(value: Any) -> Hashable:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return value  # type: ignore[no-any-return]


def remote_stats(root_or_api_url: str, timeout: float = 5.0) -> JSON:
    """Counters of a FakeSlack running in another process (its `url` or `root`)."""
    root = root_or_api_url.removesuffix("api/").removesuffix("/") + "/"
    with urllib.request.urlopen(root + "_fake/stats", timeout=timeout) as response:
        data = json.loads(response.read())
    return data if isinstance(data, dict) else {}


def _stdin_is_pipe() -> bool:
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.fake_slack", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--rate-limit", action="append", default=[], metavar="METHOD=PER_SECOND")
    parser.add_argument("--delay", action="append", default=[], metavar="METHOD=SECONDS")
    parser.add_argument("--strict-users", action="store_true")
    args = parser.parse_args(argv)
    fake = FakeSlack(args.host, args.port)
    fake.strict_users = args.strict_users
    try:
        for spec in args.rate_limit:
            method, _, rate = spec.partition("=")
            fake.rate_limit(method, float(rate))
        for spec in args.delay:
            method, _, seconds = spec.partition("=")
            fake.delay(method, float(seconds))
    except ValueError:
        parser.error("--rate-limit and --delay take METHOD=NUMBER")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    if _stdin_is_pipe():

        def watch_stdin() -> None:
            while sys.stdin.readline():
                pass
            done.set()

        threading.Thread(target=watch_stdin, daemon=True).start()
    print(fake.url, flush=True)
    while not done.wait(0.5):
        pass
    print(json.dumps(fake.stats()), file=sys.stderr, flush=True)
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
