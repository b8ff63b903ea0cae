"""Claiming due outbox messages for one worker, with send slots paced globally and per channel."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from bot.models import ChannelPace, OutboxMessage, OutboxState, Person
from bot.outbox.store import (
    CHANNEL_INTERVAL,
    GLOBAL_PACE,
    NEW_MESSAGES,
    SLOT_LEAD,
    UPDATE,
    Claimed,
    insert_new,
    is_user_id,
    with_blocks,
)


@dataclass
class ClaimResult:
    messages: list[Claimed]
    skipped: int = 0  # skipped while claiming (unreachable person, superseded or orphaned update)
    wait_until: datetime | None = None  # the global slots are taken until then (other instances)
    # When the messages put back for their channel's pace (one a second) are due.
    deferred: list[datetime] = field(default_factory=list)


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    rate: float,
    horizon: float,
    min_batch: int,
    max_batch: int,
    due_by: datetime | None = None,
    keys: Collection[str] | None = None,
    channel_interval: timedelta = CHANNEL_INTERVAL,
) -> ClaimResult:
    """Claim due messages and reserve each a send time, atomically, for `worker`.

    Send times honour the global rate (the `*` ChannelPace row: slots `max(now, next_at) + i/rate`, shared
    by every instance through the database) and one message per `channel_interval` (a second) per
    channel; only slots within `horizon` seconds are handed out, so claims never outlive their lease.

    `now` is the real time (slots, the lease). A message is due when its `not_before` is at or before
    `due_by` (default `now`): the moment the product acts at, which `adoptbot tick --now` may set apart
    from the real time. One the outbox already tried and put back (a back-off) also waits until its
    `not_before` has really come. `keys`: only messages with these keys are claimed (a command sending
    what it queued itself, not the rest of the outbox).
    """
    due_at = due_by if due_by is not None else now
    chosen = _chosen(now, due_at, keys)
    step = timedelta(seconds=1.0 / rate)
    end = now + timedelta(seconds=horizon)
    # The first slot is a moment ahead, so the sender is at its mark when it comes, not late by this commit.
    start = max(now + SLOT_LEAD, _lock_global_pace(session, now))
    free = int((end - start) / step) + 1 if start <= end else 0
    want = max(1, min(min_batch, max_batch))
    if free < want:
        # Other instances (or our own earlier claims) hold the next slots: come back when `want` are free.
        if not _any_due(session, chosen):
            return ClaimResult([])
        return ClaimResult([], wait_until=start - timedelta(seconds=horizon) + (want - 1) * step)
    rows = _claim_rows(session, worker=worker, now=now, chosen=chosen, limit=min(free, max_batch))
    if not rows:
        return ClaimResult([])
    result = ClaimResult([])
    rows, targets = _settle_updates(session, rows, due_at, result)
    rows = _skip_unreachable(session, rows, result)
    workspaces = _workspaces(session, rows)
    paces = _channel_paces(session, {r.channel for r in rows})
    kept: list[Claimed] = []
    put_back: list[dict[str, Any]] = []
    cursor = start
    waiting = list(rows)  # oldest first; each turn the one that can go soonest takes the next slot
    while waiting:
        row = min(waiting, key=lambda r: max(cursor, paces.get(r.channel, start)))
        waiting.remove(row)
        slot = max(cursor, paces.get(row.channel, start))
        if slot > end:  # its channel is busy beyond this claim's slots: put it back until then
            put_back.append(_release_values(row.id, row.attempts - 1, not_before=slot))
            result.deferred.append(slot)
            continue
        cursor = slot + step
        paces[row.channel] = slot + channel_interval
        kept.append(
            _claimed(session, row, slot, now, targets.get(row.update_of or ""), workspaces.get(row.id))
        )
    if put_back:
        session.execute(update(OutboxMessage), put_back, execution_options={"synchronize_session": False})
    if kept:
        session.execute(update(ChannelPace).where(ChannelPace.channel == GLOBAL_PACE).values(next_at=cursor))
        _upsert_paces(session, {m.channel: paces[m.channel] for m in kept})
    result.messages = kept
    return result


def _claimed(
    session: Session,
    row: Any,
    slot: datetime,
    now: datetime,
    target: tuple[str, str] | None,
    workspace: str | None,
) -> Claimed:
    return Claimed(
        id=row.id,
        key=row.key,
        kind=row.kind,
        method=row.method,
        channel=row.channel,
        person_id=row.person_id,
        payload=dict(with_blocks(session, row.payload)),
        attempts=row.attempts,
        created_at=row.created_at,
        slot=slot,
        claimed_at=now,
        slack_channel=row.slack_channel,
        target_channel=target[0] if target else None,
        target_ts=target[1] if target else None,
        workspace=workspace,
    )


def _lock_global_pace(session: Session, now: datetime) -> datetime:
    """Lock the `*` row (PostgreSQL: FOR UPDATE; SQLite: the transaction's write lock) and read it."""
    query = select(ChannelPace.next_at).where(ChannelPace.channel == GLOBAL_PACE).with_for_update()
    next_at = session.execute(query).scalar_one_or_none()
    if next_at is None:
        insert_new(session, ChannelPace, {"channel": GLOBAL_PACE, "next_at": now}, conflict=["channel"])
        next_at = session.execute(query).scalar_one()
    return next_at


def _chosen(now: datetime, due_at: datetime, keys: Collection[str] | None) -> list[ColumnElement[bool]]:
    """The pending messages a claim may take: due by `due_at` (and, once tried, by `now` too), and among
    `keys` when given."""
    where = [OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before <= due_at]
    if due_at > now:
        where.append(or_(OutboxMessage.attempts == 0, OutboxMessage.not_before <= now))
    if keys is not None:
        where.append(OutboxMessage.key.in_(list(keys)))
    return where


def _any_due(session: Session, chosen: list[ColumnElement[bool]]) -> bool:
    query = select(OutboxMessage.id).where(*chosen).limit(1)
    return session.execute(query).first() is not None


def _claim_rows(
    session: Session, *, worker: str, now: datetime, chosen: list[ColumnElement[bool]], limit: int
) -> list[Any]:
    """One statement: the due rows nobody holds become `sending` for `worker` (SKIP LOCKED on PostgreSQL)."""
    outbox = OutboxMessage
    original, earlier = aliased(OutboxMessage), aliased(OutboxMessage)
    update_ready = and_(
        exists().where(
            original.key == outbox.update_of,
            original.state.in_((OutboxState.SENT, OutboxState.FAILED, OutboxState.SKIPPED)),
        ),
        ~exists().where(
            earlier.update_of == outbox.update_of,
            earlier.id < outbox.id,
            earlier.state.in_((OutboxState.PENDING, OutboxState.SENDING)),
        ),
    )
    due = (
        select(outbox.id)
        .where(*chosen, or_(outbox.method != UPDATE, update_ready))
        .order_by(outbox.not_before, outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=outbox)
    )
    stmt = (
        update(outbox)
        .where(outbox.id.in_(due))
        .values(state=OutboxState.SENDING, claimed_by=worker, claimed_at=now, attempts=outbox.attempts + 1)
        .returning(
            outbox.id,
            outbox.key,
            outbox.kind,
            outbox.method,
            outbox.channel,
            outbox.person_id,
            outbox.payload,
            outbox.attempts,
            outbox.created_at,
            outbox.not_before,
            outbox.update_of,
            outbox.slack_channel,
        )
    )
    rows = list(session.execute(stmt, execution_options={"synchronize_session": False}).all())
    rows.sort(key=lambda r: (r.not_before, r.id))
    return rows


def _settle_updates(
    session: Session, rows: list[Any], now: datetime, result: ClaimResult
) -> tuple[list[Any], dict[str, tuple[str, str]]]:
    """Skip updates whose original was not sent or which a later update supersedes; find the targets."""
    originals = {r.update_of for r in rows if r.method == UPDATE}
    if not originals:
        return rows, {}
    found = session.execute(
        select(
            OutboxMessage.key, OutboxMessage.state, OutboxMessage.slack_channel, OutboxMessage.slack_ts
        ).where(OutboxMessage.key.in_(originals))
    ).all()
    targets = {
        f.key: (f.slack_channel, f.slack_ts) for f in found if f.state == OutboxState.SENT and f.slack_ts
    }
    newest: dict[str | None, int] = dict(
        session.execute(
            select(OutboxMessage.update_of, func.max(OutboxMessage.id))
            .where(
                OutboxMessage.method == UPDATE,
                OutboxMessage.update_of.in_(originals),
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.not_before <= now,
            )
            .group_by(OutboxMessage.update_of)
        ).all()
    )
    keep: list[Any] = []
    skips: list[dict[str, Any]] = []
    for row in rows:
        if row.method != UPDATE:
            keep.append(row)
        elif row.update_of not in targets:
            skips.append(_skip_values(row.id, f"the message it updates ({row.update_of}) was not sent"))
        elif (newest.get(row.update_of) or 0) > row.id:
            skips.append(_skip_values(row.id, "superseded by a later update of the same message"))
        else:
            keep.append(row)
    _write_skips(session, skips, result)
    return keep, targets


def _skip_unreachable(session: Session, rows: list[Any], result: ClaimResult) -> list[Any]:
    users = {r.channel for r in rows if r.method in NEW_MESSAGES and is_user_id(r.channel)}
    if not users:
        return rows
    found = session.execute(
        select(Person.slack_user_id, Person.unreachable_reason).where(
            Person.slack_user_id.in_(users), Person.unreachable_reason.is_not(None)
        )
    )
    unreachable = {user: reason for user, reason in found if user is not None}
    skips = [
        _skip_values(r.id, f"recipient unreachable: {unreachable[r.channel]}")
        for r in rows
        if r.method in NEW_MESSAGES and r.channel in unreachable
    ]
    _write_skips(session, skips, result)
    return [r for r in rows if not (r.method in NEW_MESSAGES and r.channel in unreachable)]


def _workspaces(session: Session, rows: list[Any]) -> dict[int, str]:
    """Each message's recipient's Slack workspace, where known (by the person it is for, else by the user
    ID it is sent to): on Enterprise Grid installed workspace by workspace, it picks the token."""
    people = {r.person_id for r in rows if r.person_id is not None}
    users = {r.channel for r in rows if r.person_id is None and is_user_id(r.channel)}
    if not people and not users:
        return {}
    found = session.execute(
        select(Person.id, Person.slack_user_id, Person.slack_workspace_id).where(
            or_(Person.id.in_(people), Person.slack_user_id.in_(users)),
            Person.slack_workspace_id.is_not(None),
        )
    ).all()
    by_person = {pid: ws for pid, _, ws in found}
    by_user = {user: ws for _, user, ws in found if user is not None}
    result: dict[int, str] = {}
    for row in rows:
        ws = by_person.get(row.person_id) if row.person_id is not None else by_user.get(row.channel)
        if ws:
            result[row.id] = ws
    return result


def _write_skips(session: Session, skips: list[dict[str, Any]], result: ClaimResult) -> None:
    if skips:
        session.execute(update(OutboxMessage), skips, execution_options={"synchronize_session": False})
        result.skipped += len(skips)


def _skip_values(message_id: int, reason: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "state": OutboxState.SKIPPED,
        "error": reason[:300],
        "claimed_by": None,
        "claimed_at": None,
    }


def _release_values(message_id: int, attempts: int, *, not_before: datetime | None = None) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": message_id,
        "state": OutboxState.PENDING,
        "attempts": attempts,
        "claimed_by": None,
        "claimed_at": None,
    }
    if not_before is not None:
        values["not_before"] = not_before
    return values


def _channel_paces(session: Session, channels: set[str]) -> dict[str, datetime]:
    if not channels:
        return {}
    rows = session.execute(
        select(ChannelPace.channel, ChannelPace.next_at).where(ChannelPace.channel.in_(channels))
    )
    return {channel: next_at for channel, next_at in rows}


def _upsert_paces(session: Session, paces: dict[str, datetime]) -> None:
    rows = [{"channel": channel, "next_at": next_at} for channel, next_at in paces.items()]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(ChannelPace)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["channel"], set_={"next_at": stmt.excluded.next_at}), rows
    )
