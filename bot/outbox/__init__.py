"""The outbox: the only way Adoptbot sends anything to Slack, each logical message exactly once.

A feature calls `enqueue()` (or `enqueue_update()`, or `enqueue_file()` for a chart or CSV uploaded with
`files_upload_v2`) inside its own transaction, with a unique `key` naming the logical message
(`nudge:42:2026-11-24`): enqueueing the same key again is a no-op, so jobs can re-run.
`drain()` (called by `adoptbot tick`, and by `OutboxWorker` in `adoptbot serve`) sends what is due:

- A claim is one transaction: one UPDATE ... RETURNING turns due `pending` rows into `sending` for this
  worker (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's BEGIN IMMEDIATE makes it atomic), and reserves
  each a send time: the global rate `ADOPTBOT_SEND_RATE` is shared by every instance through the `*` row of
  `channel_pace` (slots `max(now, next_at) + i/rate`), and each channel gets at most one message a second.
- Each message is posted once at its slot, carrying Slack message metadata
  `{"event_type": "adoptbot_outbox", "event_payload": {"key": <key>}}`, and its result is committed right
  after Slack answers: `sent` (with `slack_channel` and `slack_ts`, and the `on_sent` hooks in the same
  transaction), `failed` with the reason, or back to `pending` for a retry.
- 429: that message waits `Retry-After` (no attempt counted) and so does every instance's next slot.
  5xx, transient errors and connection failures: exponential back-off with jitter; after
  `ADOPTBOT_SEND_MAX_ATTEMPTS` attempts, `failed`. Permanent errors are not retried; for a DM that the
  person cannot receive (`user_not_found`, `user_disabled`, `account_inactive`, `cannot_dm_bot`, ...) the
  person is marked unreachable (`people.unreachable_reason`) and their other pending DMs are `skipped`.
  Token and scope errors (`invalid_auth`, `missing_scope`, ...) stop the drain and keep every message.
- `drain(keys=...)` sends only those messages (a command sends what it queued); `drain(due_by=...)` also
  what is due by a later moment (`adoptbot tick --now`). `outbox_admin` counts the outbox by kind and puts
  failed messages back in the queue for `adoptbot outbox retry`.

Exactly once, and the one window left (for the README)
------------------------------------------------------
A message is never re-posted blindly. When an attempt may have reached Slack without us recording it, the
next attempt first reads the channel's history (`conversations.history` with `include_all_metadata`, from
10 minutes before the message was queued; a DM is opened with `conversations.open` to learn its channel)
and, if a post carrying the message's key is there, records that post instead of posting again. That covers
a crash or `kill -9` between Slack's answer and our commit (the claim is taken over as soon as its process
is known dead on the same machine, else when its 60-second lease has run out), a 5xx or transient error
after which Slack had in fact posted, a timeout, and a dropped connection. A 429 is a clean refusal: the
message is simply posted again after `Retry-After`. The result of every post is committed right after
Slack answers, so the window is one message wide per worker and per crash.

So a duplicate needs Slack to have accepted a post that the next attempt's history read does not show:
1. the post was deleted (by an admin or a retention policy) before the re-check;
2. Slack had not finished the post when the re-check read the history: the re-check comes 1-2 s after a
   5xx, timeout or dropped connection (longer after later attempts), after the restart when a process on
   the same machine died, and 60 s after the claim when a process on another machine died;
3. a worker stalled for longer than its lease (it starts a post only while at least 35 s of the 60-second
   lease remain, and a call times out after 30 s) posted after another instance had taken the message over
   and looked; the database then refuses the late result, but the post has happened;
4. the clock of the instance that queued the message ran more than 10 minutes ahead of Slack's, or more
   than 10,000 messages were posted in that channel between queueing and the re-check (the search stops).
Nothing is lost: a message stays `pending`/`sending` until it is `sent`, or ends `failed` (a permanent
error, or out of attempts: the last look in Slack, 1 s after the last error, found nothing) or `skipped`
(recipient unreachable; an update whose original was not sent, or that a later update superseded), with
the reason in `error`.
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
