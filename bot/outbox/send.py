"""The outbox's Slack side: post or update one claimed message, or find it already posted.

Pure transport and classification: no database here. `deliver()` turns whatever Slack (or the network)
answered into one Outcome that the drain records.
"""

from __future__ import annotations

import base64
import http.client
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.outbox.store import FILE, NEW_MESSAGES, UPDATE, Claimed, is_dm, is_user_id

log = logging.getLogger(__name__)

EVENT_TYPE = "adoptbot_outbox"  # Slack message metadata that marks our posts with their outbox key
HISTORY_MARGIN = timedelta(minutes=10)  # clock skew between us and Slack when reading history back
HISTORY_PAGES = (
    50  # 200 messages a page: a channel with more since the message was queued is searched no further
)
_EPOCH = datetime(1970, 1, 1)

# The recipient cannot get it (deleted, deactivated, no DMs with bots, channel gone): never retried.
RECIPIENT_ERRORS = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "user_not_visible",
        "restricted_action",
        "is_inactive",
    }
)
# Slack could not finish, and may have done part of it: retried with back-off, after a look in the history.
TRANSIENT_ERRORS = frozenset(
    {
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
        "team_added_to_org",
    }
)
# The token or the app's setup is wrong: every message would fail alike, so the drain stops, keeping them.
HALT_ERRORS = frozenset(
    {
        "not_authed",
        "invalid_auth",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "not_allowed_token_type",
        "no_permission",
        "org_login_required",
        "ekm_access_denied",
        "team_access_not_granted",
        "access_denied",
        "two_factor_setup_required",
        "accesslimited",
    }
)


@dataclass(frozen=True)
class Sent:
    channel: str
    ts: str
    found_in_history: bool = False


@dataclass(frozen=True)
class Retry:
    """Not sent, or not known to be: try again. `rate_limited` (a 429) and `counted=False` (nothing was
    posted) give the attempt back."""

    error: str
    retry_after: float | None = None
    rate_limited: bool = False
    slack_channel: str | None = None
    counted: bool = True


@dataclass(frozen=True)
class Failed:
    error: str
    unreachable: bool = False


@dataclass(frozen=True)
class Skipped:
    reason: str


@dataclass(frozen=True)
class Halt:
    error: str


Outcome = Sent | Retry | Failed | Skipped | Halt


def epoch(moment: datetime) -> float:
    """Seconds since 1970 for a naive UTC datetime (what time.time() counts)."""
    return (moment - _EPOCH).total_seconds()


def from_epoch(seconds: float) -> datetime:
    return _EPOCH + timedelta(seconds=seconds)


def real_now() -> datetime:
    """The real time as naive UTC, for pacing, back-off and claim leases only.

    Those are real seconds shared with Slack's limits and with other instances, so they follow the wall
    clock even while the product's clock (`bot.clock`) is set to another moment, by a test or by
    `adoptbot tick --now`. Whatever the product records (when a message was sent) uses `bot.clock`.
    """
    return from_epoch(time.time())


def deliver(client: WebClient, message: Claimed, *, verify: bool, post_by: float | None = None) -> Outcome:
    """Send `message` once. With `verify` (an earlier attempt may have reached Slack) look for it first.

    `post_by` (a time.time()): do not start posting later than this (the claim's lease would be at risk).
    """
    channel = message.slack_channel
    try:
        if message.method == UPDATE:
            return _update(client, message)
        if message.method not in NEW_MESSAGES:
            return Failed(f"unsupported outbox method {message.method}")
        if verify:
            channel, found = find_posted(client, message)
            if found is not None:
                return Sent(channel, found, found_in_history=True)
            if post_by is not None and time.time() > post_by:
                return Retry(
                    "the history check took too long to post safely", slack_channel=channel, counted=False
                )
        return _upload(client, message, channel) if message.method == FILE else _post(client, message)
    except SlackApiError as error:
        dm = message.method in NEW_MESSAGES and is_dm(message.channel)
        return classify(error, dm=dm, slack_channel=channel)
    except (OSError, http.client.HTTPException, SlackRequestError) as error:
        return Retry(f"connection error: {type(error).__name__}: {error}", slack_channel=channel)


def find_posted(client: WebClient, message: Claimed) -> tuple[str, str | None]:
    """(channel, ts of our post with this key or None): reads the channel's history since the message was
    queued (less a margin), with metadata, newest first. A DM is opened first to learn its channel ID.

    A file upload carries no metadata: it is recognised by a shared file with its filename and title, and
    the ts returned is then the file's ID (what a sent upload records, see `_upload`)."""
    channel = _open_dm(client, message.slack_channel or message.channel)
    oldest = f"{epoch(message.created_at - HISTORY_MARGIN):.6f}"
    cursor: str | None = None
    for _ in range(HISTORY_PAGES):
        page = client.conversations_history(
            channel=channel, oldest=oldest, limit=200, include_all_metadata=True, cursor=cursor
        )
        for posted in page.get("messages") or []:
            if message.method == FILE:
                found = _file_of(posted, message.payload)
                if found is not None:
                    return channel, found
            elif _key_of(posted) == message.key:
                return channel, str(posted["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    return channel, None


def _open_dm(client: WebClient, channel: str) -> str:
    """The DM channel ID for a user ID (conversations.open is idempotent); other channels as they are."""
    if is_user_id(channel):
        opened = client.conversations_open(users=channel)
        return str(opened["channel"]["id"])
    return channel


def _file_of(posted: dict[str, Any], payload: dict[str, Any]) -> str | None:
    for shared in posted.get("files") or []:
        if shared.get("name") == payload.get("filename") and shared.get("title") == payload.get("title"):
            return str(shared.get("id") or posted.get("ts"))
    return None


def _upload(client: WebClient, message: Claimed, channel: str | None) -> Outcome:
    """files_upload_v2 into the channel (a DM is opened first: uploads need a conversation ID).

    Slack answers with the file, not a message ts, so the file's ID is recorded as `slack_ts`."""
    target = _open_dm(client, channel or message.slack_channel or message.channel)
    payload = message.payload
    arguments: dict[str, Any] = {
        "channel": target,
        "content": base64.b64decode(payload["file"]),
        "filename": payload["filename"],
        "title": payload["title"],
    }
    if payload.get("initial_comment"):
        arguments["initial_comment"] = payload["initial_comment"]
    if payload.get("alt_text"):
        arguments["alt_txt"] = payload["alt_text"]
    response = client.files_upload_v2(**arguments)
    files = response.get("files") or []
    file_id = str(files[0].get("id")) if files and isinstance(files[0], dict) else ""
    return Sent(target, file_id or "file")


def _key_of(posted: dict[str, Any]) -> str | None:
    metadata = posted.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return key if isinstance(key, str) else None


def _post(client: WebClient, message: Claimed) -> Outcome:
    payload = message.payload
    extra = payload.get("metadata") or {}
    arguments: dict[str, Any] = {
        "channel": message.channel,
        "text": payload["text"],
        "metadata": {"event_type": EVENT_TYPE, "event_payload": {**extra, "key": message.key}},
    }
    if payload.get("blocks") is not None:
        arguments["blocks"] = payload["blocks"]
    response = client.chat_postMessage(**arguments)
    return Sent(str(response["channel"]), str(response["ts"]))


def _update(client: WebClient, message: Claimed) -> Outcome:
    if not message.target_channel or not message.target_ts:
        return Skipped("the message it updates has no Slack timestamp")
    arguments: dict[str, Any] = {
        "channel": message.target_channel,
        "ts": message.target_ts,
        "text": message.payload["text"],
    }
    if message.payload.get("blocks") is not None:
        arguments["blocks"] = message.payload["blocks"]
    response = client.chat_update(**arguments)
    return Sent(str(response["channel"]), str(response["ts"]))


def classify(error: SlackApiError, *, dm: bool, slack_channel: str | None = None) -> Outcome:
    """What to do about a refusal: 429 -> wait Retry-After; 5xx and transient errors -> retry; token or
    scope problems -> halt the drain; anything else is permanent (for a DM: the person is unreachable)."""
    response = error.response
    status = int(getattr(response, "status_code", 0) or 0)
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or f"HTTP {status}")
    if status == 429 or code == "ratelimited":
        return Retry(
            "rate limited (HTTP 429)",
            retry_after=_retry_after(response.headers),
            rate_limited=True,
            slack_channel=slack_channel,
        )
    if status >= 500 or code in TRANSIENT_ERRORS:
        return Retry(f"HTTP {status}: {code}" if status != 200 else code, slack_channel=slack_channel)
    if code in HALT_ERRORS:
        method = str(getattr(response, "api_url", "") or "").rsplit("/", 1)[-1].split("?")[0]
        needed = f", needs {data['needed']}" if data.get("needed") else ""
        return Halt(f"{code} on {method}{needed}" if method else code)
    return Failed(code, unreachable=dm and code in RECIPIENT_ERRORS)


def _retry_after(headers: Any) -> float:
    raw = None
    if isinstance(headers, dict):
        raw = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    try:
        return max(1.0, float(raw)) if raw is not None else 1.0
    except (TypeError, ValueError):
        return 1.0
