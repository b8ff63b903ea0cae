"""The outbox's shared vocabulary and its way in: states, `enqueue`, `on_sent` hooks, claimed messages.

Every function takes a Session and runs inside the caller's transaction. Claiming lives in
`outbox_claim`, recording what Slack answered in `outbox_record`; `outbox_drain` gives each claim and each
recorded result a transaction of its own.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.clock import to_naive_utc, utcnow
from bot.models import Base, OutboxMessage

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, SKIPPED = "pending", "sending", "sent", "failed", "skipped"
POST, UPDATE, FILE = "chat.postMessage", "chat.update", "files.upload"
NEW_MESSAGES = (POST, FILE)  # methods that put a new message in a channel (UPDATE edits one)
MAX_FILE_BYTES = 4 * 1024 * 1024  # kept in the outbox row (base64, JSON): charts and CSVs, not archives
GLOBAL_PACE = "*"  # the ChannelPace row that paces the whole installation
CHANNEL_INTERVAL = timedelta(seconds=1)  # Slack: about one message a second per channel
SLOT_LEAD = timedelta(milliseconds=50)
LEASE = timedelta(seconds=60)  # a `sending` claim older than this belongs to a process that died
SESSION_QUEUED = "adoptbot.outbox.queued"  # session.info key: what this session enqueued

OnSent = Callable[[Session, OutboxMessage], None]
_hooks: dict[str, list[OnSent]] = {}


def on_sent(kind: str, hook: OnSent) -> None:
    """Run `hook(session, message)` in the transaction that marks a message of `kind` sent."""
    hooks = _hooks.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def hooks_for(kind: str) -> list[OnSent]:
    return list(_hooks.get(kind, []))


def is_dm(channel: str) -> bool:
    """A user ID (the outbox opens the DM) or a DM channel ID."""
    return channel[:1] in ("U", "W", "D")


def is_user_id(channel: str) -> bool:
    return channel[:1] in ("U", "W")


@dataclass(frozen=True)
class Queued:
    """One message a session enqueued (for `tick --dry-run` and the CLI summary)."""

    key: str
    kind: str
    channel: str
    person_id: int | None
    text: str


def enqueue(
    session: Session,
    *,
    key: str,
    kind: str,
    channel: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    person_id: int | None = None,
    not_before: datetime | None = None,
    metadata: dict[str, Any] | None = None,
) -> bool:
    """Queue a chat.postMessage; False (and nothing changes) if a message with `key` already exists."""
    _check(key=key, kind=kind, channel=channel, text=text)
    payload: dict[str, Any] = {"text": text}
    if blocks is not None:
        payload["blocks"] = blocks
    if metadata:
        payload["metadata"] = metadata
    return _insert(
        session,
        key=key,
        kind=kind,
        method=POST,
        channel=channel,
        person_id=person_id,
        payload=payload,
        update_of=None,
        not_before=not_before,
    )


@dataclass(frozen=True)
class NewMessage:
    """One chat.postMessage for `enqueue_many` (the same fields as `enqueue`)."""

    key: str
    kind: str
    channel: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    person_id: int | None = None
    not_before: datetime | None = None
    metadata: dict[str, Any] | None = None


def enqueue_many(session: Session, messages: Sequence[NewMessage], *, chunk: int = 1000) -> int:
    """Queue many messages with a few multi-row INSERTs; return how many were new (existing keys: no-op).

    The same rows and the same exactly-once guarantee as calling `enqueue` for each, at bulk speed: a
    nudge tick or a broadcast fan-out queues thousands at once.
    """
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for message in messages:
        _check(key=message.key, kind=message.kind, channel=message.channel, text=message.text)
        payload: dict[str, Any] = {"text": message.text}
        if message.blocks is not None:
            payload["blocks"] = message.blocks
        if message.metadata:
            payload["metadata"] = message.metadata
        rows.append(
            {
                "key": message.key,
                "kind": message.kind,
                "method": POST,
                "channel": message.channel,
                "person_id": message.person_id,
                "payload": payload,
                "update_of": None,
                "state": PENDING,
                "attempts": 0,
                "not_before": to_naive_utc(message.not_before) if message.not_before is not None else now,
                "created_at": now,
            }
        )
    table: Table = OutboxMessage.__table__  # type: ignore[assignment]
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted: set[str] = set()
    for start in range(0, len(rows), chunk):
        stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.key)
        result = session.connection().execute(stmt, rows[start : start + chunk])
        inserted.update(str(key) for key in result.scalars())
    queued = session.info.setdefault(SESSION_QUEUED, [])
    for message in messages:
        if message.key in inserted:
            queued.append(Queued(message.key, message.kind, message.channel, message.person_id, message.text))
    return len(inserted)


def enqueue_file(
    session: Session,
    *,
    key: str,
    kind: str,
    channel: str,
    filename: str,
    content: bytes,
    title: str,
    initial_comment: str | None = None,
    alt_text: str | None = None,
    person_id: int | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue a file upload (`files_upload_v2`); False (and nothing changes) if `key` already exists.

    The bytes travel base64-encoded in the payload. `filename` (with `title`) is how a retry recognises
    the file in the channel's history, so make it unique per channel and message (e.g. include the week).
    """
    if not filename or len(filename) > 200 or not title.strip():
        raise ValueError("a file upload needs a filename (1 to 200 characters) and a title")
    if not content or len(content) > MAX_FILE_BYTES:
        raise ValueError(f"a queued file must hold 1 to {MAX_FILE_BYTES:,} bytes")
    text = initial_comment or title
    _check(key=key, kind=kind, channel=channel, text=text)
    payload: dict[str, Any] = {
        "text": text,
        "file": base64.b64encode(content).decode("ascii"),
        "filename": filename,
        "title": title,
    }
    if initial_comment:
        payload["initial_comment"] = initial_comment
    if alt_text:
        payload["alt_text"] = alt_text[:1000]
    return _insert(
        session,
        key=key,
        kind=kind,
        method=FILE,
        channel=channel,
        person_id=person_id,
        payload=payload,
        update_of=None,
        not_before=not_before,
    )


def enqueue_update(
    session: Session,
    *,
    key: str,
    update_of: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    kind: str = "update",
) -> bool:
    """Queue a chat.update of the message queued as `update_of`; it goes out once that one is sent."""
    _check(key=key, kind=kind, channel="-", text=text)
    original = session.execute(
        select(OutboxMessage.channel, OutboxMessage.person_id, OutboxMessage.method).where(
            OutboxMessage.key == update_of
        )
    ).first()
    if original is None:
        raise ValueError(f"there is no outbox message with key {update_of!r} to update")
    if original.method != POST:  # an update, or a file (files are not edited)
        raise ValueError(f"outbox message {update_of!r} is an update itself; update the original")
    payload: dict[str, Any] = {"text": text}
    if blocks is not None:
        payload["blocks"] = blocks
    return _insert(
        session,
        key=key,
        kind=kind,
        method=UPDATE,
        channel=original.channel,
        person_id=original.person_id,
        payload=payload,
        update_of=update_of,
        not_before=None,
    )


def insert_new(session: Session, model: type[Base], row: dict[str, Any], *, conflict: list[str]) -> bool:
    """INSERT one row unless it collides with the unique key `conflict`; True if this call inserted it.

    Exact on SQLite and PostgreSQL alike (bot.db.insert_ignore's rowcount reads -1 under psycopg 3).
    """
    dialect_insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(model).values(row).on_conflict_do_nothing(index_elements=conflict)
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT that SQLAlchemy issues.
    return session.execute(stmt.returning(getattr(model, conflict[0]))).first() is not None


def _check(*, key: str, kind: str, channel: str, text: str) -> None:
    if not key or len(key) > 200:
        raise ValueError("an outbox key must be 1 to 200 characters")
    if not kind or len(kind) > 32:
        raise ValueError("an outbox kind must be 1 to 32 characters")
    if not channel or len(channel) > 32:
        raise ValueError("an outbox channel must be a Slack user or channel ID")
    if not text.strip():
        raise ValueError("an outbox message needs a plain-text `text` (Slack's notification fallback)")


def _insert(
    session: Session,
    *,
    key: str,
    kind: str,
    method: str,
    channel: str,
    person_id: int | None,
    payload: dict[str, Any],
    update_of: str | None,
    not_before: datetime | None,
) -> bool:
    now = utcnow()
    row = {
        "key": key,
        "kind": kind,
        "method": method,
        "channel": channel,
        "person_id": person_id,
        "payload": payload,
        "update_of": update_of,
        "state": PENDING,
        "attempts": 0,
        "not_before": to_naive_utc(not_before) if not_before is not None else now,
        "created_at": now,
    }
    inserted = insert_new(session, OutboxMessage, row, conflict=["key"])
    if inserted:
        session.info.setdefault(SESSION_QUEUED, []).append(
            Queued(key, kind, channel, person_id, str(payload["text"]))
        )
    return inserted


@dataclass(frozen=True)
class Claimed:
    """A message this worker holds (state `sending`), with the moment reserved for sending it."""

    id: int
    key: str
    kind: str
    method: str
    channel: str
    person_id: int | None
    payload: dict[str, Any]
    attempts: int  # including this one
    created_at: datetime
    slot: datetime  # reserved send time (naive UTC): global rate and per-channel pacing
    claimed_at: datetime
    slack_channel: str | None = None  # where earlier messages to this channel landed (a DM's D id)
    target_channel: str | None = None  # chat.update: the original message's channel and ts
    target_ts: str | None = None


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (never used for INSERT: psycopg reports -1 there)."""
    return int(getattr(result, "rowcount", 0) or 0)
