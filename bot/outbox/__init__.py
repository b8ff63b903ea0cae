"""The outbox: the only way Adoptbot sends anything to Slack, each logical message exactly once.

A feature calls `enqueue()` (or `enqueue_many()`, `enqueue_update()`, or `enqueue_file()` for a chart or
CSV uploaded with `files_upload_v2`) inside its own transaction, with a unique `key` naming the logical
message (`nudge:42:2026-11-24`): enqueueing the same key again is a no-op, so jobs can re-run. `on_sent`
hooks run in the transaction that marks a message of their kind sent.

`drain()` (called by `adoptbot tick`, `bot.slack.replies` and `OutboxWorker` in `adoptbot serve`) sends
what is due: claim (`bot.outbox.claim`, paced by ADOPTBOT_SEND_RATE across instances and one message a
second per channel), send once (`bot.outbox.send`), record the result at once (`bot.outbox.record`).
A message that may have reached Slack unrecorded is looked for in the channel's history (by the key in its
message metadata) before it is posted again. `bot.outbox.admin` counts the outbox and requeues failed
messages (`adoptbot outbox status|retry`). Guarantees, retries and the one window left for a duplicate:
docs/outbox.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from bot.models import OutboxState
from bot.outbox import store as outbox_store
from bot.outbox.drain import DrainReport, drain
from bot.outbox.send import EVENT_TYPE
from bot.outbox.store import NewMessage, OnSent, Queued, on_sent, with_blocks
from bot.outbox.worker import OutboxWorker, wake

__all__ = [
    "EVENT_TYPE",
    "DrainReport",
    "NewMessage",
    "OnSent",
    "OutboxState",
    "OutboxWorker",
    "Queued",
    "drain",
    "enqueue",
    "enqueue_file",
    "enqueue_many",
    "enqueue_update",
    "on_sent",
    "queued_in",
    "wake",
    "with_blocks",
]

_WAKE_HOOKED = "adoptbot.outbox.wake_hooked"


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
    """Queue a message; False if `key` was queued before (nothing changes).

    `channel`: a user ID (a DM; the outbox opens it) or a channel ID. `text`: the plain-text notification
    fallback, required. `not_before`: not sent earlier (naive = UTC). `metadata`: extra fields for the
    Slack message metadata's event_payload (the outbox adds `key`); hooks see it in `message.payload`.
    This process's OutboxWorker is woken when the transaction commits.
    """
    queued = outbox_store.enqueue(
        session,
        key=key,
        kind=kind,
        channel=channel,
        text=text,
        blocks=blocks,
        person_id=person_id,
        not_before=not_before,
        metadata=metadata,
    )
    if queued:
        _wake_after_commit(session)
    return queued


def enqueue_many(session: Session, messages: Sequence[NewMessage]) -> int:
    """Queue many messages at bulk speed; return how many were new (keys queued before are skipped)."""
    queued = outbox_store.enqueue_many(session, messages)
    if queued:
        _wake_after_commit(session)
    return queued


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
    """Queue a file (a chart, a CSV) for `files_upload_v2` into `channel`; False if `key` was queued before.

    Sent exactly once like a message: a retry first looks in the channel's history for a file with this
    `filename` and `title`, so keep the pair unique per channel. It goes out in queue order with the
    channel's other messages (after a message queued before it in the same transaction).
    """
    queued = outbox_store.enqueue_file(
        session,
        key=key,
        kind=kind,
        channel=channel,
        filename=filename,
        content=content,
        title=title,
        initial_comment=initial_comment,
        alt_text=alt_text,
        person_id=person_id,
        not_before=not_before,
    )
    if queued:
        _wake_after_commit(session)
    return queued


def enqueue_update(
    session: Session,
    *,
    key: str,
    update_of: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    kind: str = "update",
) -> bool:
    """Queue a chat.update of the message queued as `update_of` (which must exist).

    It waits until that message is sent, then edits it there; if the original fails or is skipped, so is
    the update. Updates of one message go out in order, and one superseded by a later one still waiting is
    skipped (the latest text wins).
    """
    queued = outbox_store.enqueue_update(
        session, key=key, update_of=update_of, text=text, blocks=blocks, kind=kind
    )
    if queued:
        _wake_after_commit(session)
    return queued


def queued_in(session: Session) -> list[Queued]:
    """What was enqueued through `session` so far (newly queued keys only)."""
    return list(session.info.get(outbox_store.SESSION_QUEUED, []))


def _wake_after_commit(session: Session) -> None:
    if not session.info.get(_WAKE_HOOKED):
        session.info[_WAKE_HOOKED] = True
        event.listen(session, "after_commit", lambda _session: wake())
