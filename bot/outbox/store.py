"""The outbox's shared vocabulary and its way in: states, `enqueue`, `on_sent` hooks, claimed messages.

Every function takes a Session and runs inside the caller's transaction. Claiming lives in
`bot.outbox.claim`, recording what Slack answered in `bot.outbox.record`; `bot.outbox.drain` gives each
claim and each recorded result a transaction of its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import registry
from bot.clock import to_naive_utc, utcnow
from bot.models import Base, OutboxBody, OutboxMessage, OutboxState

log = logging.getLogger(__name__)


POST, UPDATE, FILE = "chat.postMessage", "chat.update", "files.upload"
NEW_MESSAGES = (POST, FILE)  # methods that put a new message in a channel (UPDATE edits one)
MAX_FILE_BYTES = 4 * 1024 * 1024  # kept in the outbox row (base64, JSON): charts and CSVs, not archives
GLOBAL_PACE = "*"  # the ChannelPace row that paces the whole installation
CHANNEL_INTERVAL = timedelta(seconds=1)  # Slack: about one message a second per channel
SLOT_LEAD = timedelta(milliseconds=50)
LEASE = timedelta(seconds=60)  # a `sending` claim older than this belongs to a process that died
SESSION_QUEUED = "adoptbot.outbox.queued"  # session.info key: what this session enqueued


@dataclass(frozen=True)
class FilledBlocks:
    """A message's blocks as a template plus its own values, for bulk producers (one template, thousands
    of messages): `template` is the blocks as JSON text in which each key of `values` appears as a JSON
    string; the message's blocks are the template with each such string replaced by its value's."""

    template: str
    values: dict[str, str]

    def json(self) -> str:
        text = self.template
        for mark, value in self.values.items():
            text = text.replace(json.dumps(mark), json.dumps(value))
        return text

    def blocks(self) -> list[dict[str, Any]]:
        loaded: list[dict[str, Any]] = json.loads(self.json())
        return loaded


OnSent = Callable[[Session, OutboxMessage], None]
_hooks = cast("dict[str, list[OnSent]]", registry.ON_SENT)  # filled by bot.wiring.wire()


def on_sent(kind: str, hook: OnSent) -> None:
    """Run `hook(session, message)` in the transaction that marks a message of `kind` sent."""
    registry.add_on_sent(kind, hook)


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
    """One chat.postMessage for `enqueue_many` (the same fields as `enqueue`).

    `blocks` may be `FilledBlocks` (a template and this message's values), for a producer that renders
    one template for thousands of messages (a nudge tick).
    """

    key: str
    kind: str
    channel: str
    text: str
    blocks: list[dict[str, Any]] | FilledBlocks | None = None
    person_id: int | None = None
    not_before: datetime | None = None
    metadata: dict[str, Any] | None = None


def enqueue_many(session: Session, messages: Sequence[NewMessage], *, chunk: int = 5000) -> int:
    """Queue many messages in a few statements; return how many were new (existing keys: no-op).

    The same exactly-once guarantee as calling `enqueue` for each, at bulk speed: a nudge tick or a
    broadcast fan-out queues thousands at once. Blocks are stored once per distinct body (`OutboxBody`,
    shared by every message built from the same template or list) and each row keeps only its own
    values: a tick's 10,000 nudges are a few dozen bodies and 10,000 small rows, not 25 MB of copies.
    """
    if not messages:
        return 0
    now = utcnow()
    bodies: dict[int, tuple[str, str]] = {}  # id(list or template) -> (digest, JSON); inputs stay alive
    rows: list[dict[str, Any]] = []
    for message in messages:
        _check(key=message.key, kind=message.kind, channel=message.channel, text=message.text)
        rows.append(
            {
                "key": message.key,
                "kind": message.kind,
                "channel": message.channel,
                "person_id": message.person_id,
                "payload": _payload_json(message, bodies),
                "not_before": to_naive_utc(message.not_before) if message.not_before is not None else now,
            }
        )
    new_bodies = {digest: text for digest, text in bodies.values()}
    if session.get_bind().dialect.name == "postgresql":
        _store_bodies(session, new_bodies, now, postgresql.insert)
        inserted = _insert_rows_postgresql(session, rows, now, chunk)
    else:
        _store_bodies(session, new_bodies, now, sqlite.insert)
        inserted = _insert_rows_sqlite(session, rows, now)
    queued = session.info.setdefault(SESSION_QUEUED, [])
    for message in messages:
        if message.key in inserted:
            queued.append(Queued(message.key, message.kind, message.channel, message.person_id, message.text))
    return len(inserted)


def _payload_json(message: NewMessage, bodies: dict[int, tuple[str, str]]) -> str:
    """The row's payload as JSON text: text, the body's digest and this message's values, metadata."""
    parts = ['{"text": ', json.dumps(message.text)]
    blocks = message.blocks
    if blocks is not None:
        template = blocks.template if isinstance(blocks, FilledBlocks) else blocks
        body = bodies.get(id(template))
        if body is None:
            text = template if isinstance(template, str) else json.dumps(template)
            body = bodies[id(template)] = (hashlib.sha256(text.encode()).hexdigest(), text)
        parts += [', "body": "', body[0], '"']
        if isinstance(blocks, FilledBlocks) and blocks.values:
            parts += [', "fill": ', json.dumps(blocks.values)]
    if message.metadata:
        parts += [', "metadata": ', json.dumps(message.metadata)]
    parts.append("}")
    return "".join(parts)


def _store_bodies(session: Session, bodies: dict[str, str], now: datetime, insert: Any) -> None:
    if bodies:
        # In digest order: transactions queueing the same bodies at once (two ticks, the halves of one)
        # take their keys in one order, so one may wait for the other but they never deadlock.
        rows = [
            {"digest": digest, "blocks": text, "created_at": now} for digest, text in sorted(bodies.items())
        ]
        session.execute(insert(OutboxBody).on_conflict_do_nothing(index_elements=["digest"]), rows)


_bodies_seen: dict[str, str] = {}  # digest -> blocks JSON; bodies never change, so any copy is current
_BODIES_KEPT = 2000


def with_blocks(session: Session, payload: dict[str, Any]) -> dict[str, Any]:
    """`payload` with its blocks in place: a stored body filled with the message's values, if it has one."""
    digest = payload.get("body")
    if not isinstance(digest, str):
        return payload
    text = _bodies_seen.get(digest)
    if text is None:
        text = session.scalar(select(OutboxBody.blocks).where(OutboxBody.digest == digest))
        if text is None:
            raise LookupError(f"outbox body {digest} is missing")
        if len(_bodies_seen) >= _BODIES_KEPT:
            _bodies_seen.clear()
        _bodies_seen[digest] = text
    values = payload.get("fill") or {}
    expanded = {k: v for k, v in payload.items() if k not in ("body", "fill")}
    expanded["blocks"] = FilledBlocks(text, dict(values)).blocks()
    return expanded


# The outbox table as the bulk insert sees it: the payload column takes JSON text as it is.
_BULK = Table(
    "outbox",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("key", String),
    Column("kind", String),
    Column("method", String),
    Column("channel", String),
    Column("person_id", Integer),
    Column("payload", Text),
    Column("state", String),
    Column("attempts", Integer),
    Column("not_before", DateTime),
    Column("created_at", DateTime),
)

_PG_BULK_INSERT = sql_text(
    "INSERT INTO outbox (key, kind, method, channel, person_id, payload, state, attempts, not_before, "
    "created_at) "
    "SELECT k, kind, :method, channel, person_id, payload, :state, 0, not_before, :now "
    "FROM ROWS FROM (unnest(CAST(:keys AS varchar[])), unnest(CAST(:kinds AS varchar[])), "
    "unnest(CAST(:channels AS varchar[])), unnest(CAST(:person_ids AS integer[])), "
    "unnest(CAST(:not_befores AS timestamp[])), json_array_elements(CAST(:payloads AS json))) "
    "AS u(k, kind, channel, person_id, not_before, payload) "
    "ON CONFLICT (key) DO NOTHING RETURNING key"
)


def _insert_rows_postgresql(
    session: Session, rows: list[dict[str, Any]], now: datetime, chunk: int
) -> set[str]:
    """One INSERT ... SELECT per chunk, each column one parameter: a multi-row VALUES of thousands of rows
    costs the driver more to build and parse than PostgreSQL needs to store them. The payloads travel as
    one JSON array (in an array of strings the driver would escape every quote in them)."""
    inserted: set[str] = set()
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        result = session.execute(
            _PG_BULK_INSERT,
            {
                "method": POST,
                "state": OutboxState.PENDING,
                "now": now,
                "keys": [row["key"] for row in part],
                "kinds": [row["kind"] for row in part],
                "channels": [row["channel"] for row in part],
                "person_ids": [row["person_id"] for row in part],
                "payloads": "[" + ",".join(row["payload"] for row in part) + "]",
                "not_befores": [row["not_before"] for row in part],
            },
        )
        inserted.update(str(key) for key in result.scalars())
    return inserted


def _insert_rows_sqlite(session: Session, rows: list[dict[str, Any]], now: datetime) -> set[str]:
    """INSERT ... ON CONFLICT DO NOTHING as one executemany, then read back which keys are new.

    On SQLite every write transaction holds the database's write lock from its first statement
    (`BEGIN IMMEDIATE`, see bot.db), so the rows with an id above the largest one before this insert are
    exactly the ones it added: no RETURNING (which would turn the executemany into batches of
    multi-row VALUES) is needed.
    """
    before = session.scalar(select(func.max(OutboxMessage.id))) or 0
    for row in rows:
        row.update(method=POST, state=OutboxState.PENDING, attempts=0, created_at=now)
    insert = sqlite.insert(_BULK).on_conflict_do_nothing(index_elements=["key"])
    session.connection().execute(insert, rows)
    added = session.scalars(select(OutboxMessage.key).where(OutboxMessage.id > before))
    return set(added)


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
        "state": OutboxState.PENDING,
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
    workspace: str | None = None  # the recipient's Slack workspace (T...), which picks the installed token


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (never used for INSERT: psycopg reports -1 there)."""
    return int(getattr(result, "rowcount", 0) or 0)
