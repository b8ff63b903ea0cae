"""The sender's status message: how far a broadcast got, edited in place as it goes.

Figures come from the outbox (delivered, refused, waiting) and the recipients (acknowledged), never from a
counter kept alongside, so they stay right across crashes and instances. An edit is a message too and takes
a slot of the send rate: the outbox's `on_sent` hook counts each delivered DM and refreshes the status at
most every STATUS_EVERY seconds, and at once after the last DM; the `broadcasts.progress` job finishes
broadcasts whose last messages failed rather than sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.broadcasts import blocks
from bot.broadcasts.blocks import Progress
from bot.broadcasts.messages import queue_edit, sender_language, status_key
from bot.clock import local_label, utcnow
from bot.i18n import use_language
from bot.models import Broadcast, BroadcastRecipient, BroadcastStatus, OutboxMessage
from bot.outbox import OutboxState

STATUS_EVERY = timedelta(seconds=5)


def measure(session: Session, broadcast: Broadcast) -> Progress:
    """Where a broadcast stands, from the outbox (delivered, refused, waiting) and the recipients (acks)."""
    states = dict(
        session.execute(
            select(OutboxMessage.state, func.count())
            .select_from(BroadcastRecipient)
            .join(OutboxMessage, OutboxMessage.key == BroadcastRecipient.outbox_key)
            .where(BroadcastRecipient.broadcast_id == broadcast.id)
            .group_by(OutboxMessage.state)
        ).all()
    )
    acked = session.scalar(
        select(func.count())
        .select_from(BroadcastRecipient)
        .where(BroadcastRecipient.broadcast_id == broadcast.id, BroadcastRecipient.acked_at.is_not(None))
    )
    excluded = broadcast.excluded_count or 0
    waiting = states.get(OutboxState.PENDING, 0) + states.get(OutboxState.SENDING, 0)
    refused = states.get(OutboxState.FAILED, 0) + states.get(OutboxState.SKIPPED, 0)
    return Progress(
        broadcast_id=broadcast.id,
        excerpt=blocks.excerpt(broadcast.text),
        audience=(broadcast.recipient_count or 0) + excluded,
        delivered=states.get(OutboxState.SENT, 0),
        unreachable=excluded + refused,
        acked=int(acked or 0),
        ask_ack=broadcast.ask_ack,
        done=waiting == 0 and broadcast.status in (BroadcastStatus.SENDING, BroadcastStatus.SENT),
    )


def finish(broadcast: Broadcast, now: datetime) -> None:
    broadcast.status = BroadcastStatus.SENT
    broadcast.finished_at = now


def refresh_status(session: Session, broadcast: Broadcast, *, now: datetime, defer: bool = False) -> bool:
    """Edit the sender's status message if what it says has changed; finish the broadcast when done.

    `defer`: at most one edit per STATUS_EVERY; a later one is queued for then (the newest text wins)."""
    progress = measure(session, broadcast)
    if progress.done and broadcast.status == BroadcastStatus.SENDING:
        finish(broadcast, now)
    with use_language(sender_language(session, broadcast)):  # the sender's status message, in their language
        return _refresh(session, broadcast, progress, defer=defer)


def _refresh(session: Session, broadcast: Broadcast, progress: Progress, *, defer: bool) -> bool:
    line = blocks.progress_line(progress)
    if line == broadcast.status_line:
        return False
    real_now = utcnow()
    send_at = None
    last = broadcast.status_at
    if defer and last is not None and last + STATUS_EVERY > real_now:
        # An edit already waiting for its moment is replaced by this one (the outbox sends the newest).
        send_at = last if last > real_now else last + STATUS_EVERY
    suffix = f"{progress.delivered}-{progress.unreachable}-{progress.acked}{'-done' if progress.done else ''}"
    edited = queue_edit(
        session,
        key=f"{status_key(broadcast.id)}:{suffix}",
        original=status_key(broadcast.id),
        text=blocks.status_text(progress),
        blocks=blocks.status_blocks(progress, updated=local_label(send_at or real_now, broadcast.timezone)),
        not_before=send_at,
    )
    broadcast.status_line = line
    broadcast.status_at = send_at or real_now
    return edited


def on_delivered(session: Session, message: OutboxMessage) -> None:
    """on_sent hook for each recipient's DM: count it; refresh the status when due (throttled)."""
    broadcast_id = (message.payload.get("metadata") or {}).get("broadcast_id")
    if not isinstance(broadcast_id, int):
        return
    row = session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(sent_count=Broadcast.sent_count + 1)
        .returning(Broadcast.sent_count, Broadcast.recipient_count, Broadcast.status_at),
        execution_options={"synchronize_session": False},
    ).first()
    if row is None:
        return
    sent, total, last = int(row[0]), int(row[1] or 0), row[2]
    now = utcnow()
    if sent >= total or last is None or now - last >= STATUS_EVERY:
        broadcast = session.get(Broadcast, broadcast_id, populate_existing=True)
        if broadcast is not None:
            refresh_status(session, broadcast, now=now)


def update_progress(session: Session, *, now: datetime) -> int:
    """Bring status messages up to date, and finish broadcasts whose last DMs failed rather than sent."""
    for broadcast in session.scalars(
        select(Broadcast).where(Broadcast.status == BroadcastStatus.SENDING).with_for_update()
    ):
        refresh_status(session, broadcast, now=now)
    return 0
