"""Recording what Slack answered: sent (with the on_sent hooks), retry, failed, skipped, released."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot.errors import error_classes, loggable
from bot.models import ChannelPace, OutboxMessage, OutboxState, Person
from bot.outbox.store import (
    GLOBAL_PACE,
    LEASE,
    NEW_MESSAGES,
    Claimed,
    hooks_for,
    is_dm,
    is_user_id,
    rowcount,
)

log = logging.getLogger(__name__)


def _mine(message_id: int, worker: str) -> Any:
    return and_(
        OutboxMessage.id == message_id,
        OutboxMessage.state == OutboxState.SENDING,
        OutboxMessage.claimed_by == worker,
    )


def record_sent(
    session: Session, message: Claimed, worker: str, *, channel: str, ts: str, now: datetime
) -> bool:
    """Mark it sent (where it landed: channel + ts) and run the `on_sent` hooks, in this transaction.

    Also accepted when the claim was released meanwhile (still `pending`): it *was* sent. False when another
    worker holds it now (its lease ran out here): that worker finds this post in the history and records it.
    """
    done = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            or_(
                OutboxMessage.state == OutboxState.PENDING,
                and_(OutboxMessage.state == OutboxState.SENDING, OutboxMessage.claimed_by == worker),
            ),
        )
        .values(state=OutboxState.SENT, sent_at=now, slack_channel=channel, slack_ts=ts, error=None),
        execution_options={"synchronize_session": False},
    )
    if rowcount(done) != 1:
        log.warning(
            "outbox %s was sent, but another worker holds it now; it will find it in Slack", message.key
        )
        return False
    hooks = hooks_for(message.kind)
    if hooks:
        row = session.get(OutboxMessage, message.id, populate_existing=True)
        assert row is not None
        for hook in hooks:
            try:
                with session.begin_nested():
                    hook(session, row)
            except Exception as error:  # a feature's bug must not make us send the message again
                log.error("on_sent hook for %s failed: %s", message.key, loggable(error))
                row.error = f"on_sent hook failed: {error_classes(error)}"[:300]
                session.flush()
    return True


def record_retry(
    session: Session,
    message: Claimed,
    worker: str,
    *,
    not_before: datetime,
    error: str,
    counted: bool,
    slack_channel: str | None = None,
    pause_all_until: datetime | None = None,
) -> None:
    """Back to `pending` until `not_before`. Uncounted (a 429): the attempt is given back.

    `pause_all_until`: Slack rate-limited the workspace, so every instance's next slot moves past it.
    """
    values: dict[str, Any] = {
        "state": OutboxState.PENDING,
        "not_before": not_before,
        "error": error[:300],
        "claimed_by": None,
        "claimed_at": None,
    }
    if not counted:
        values["attempts"] = OutboxMessage.attempts - 1
    if slack_channel:
        values["slack_channel"] = slack_channel
    session.execute(
        update(OutboxMessage).where(_mine(message.id, worker)).values(**values),
        execution_options={"synchronize_session": False},
    )
    if pause_all_until is not None:
        session.execute(
            update(ChannelPace)
            .where(ChannelPace.channel == GLOBAL_PACE, ChannelPace.next_at < pause_all_until)
            .values(next_at=pause_all_until)
        )


def record_failed(session: Session, message: Claimed, worker: str, *, error: str, unreachable: bool) -> int:
    """Mark it failed for good. `unreachable` (a DM the recipient cannot get): mark the person and skip
    their other pending DMs. Returns how many of those were skipped."""
    session.execute(
        update(OutboxMessage)
        .where(_mine(message.id, worker))
        .values(state=OutboxState.FAILED, error=error[:300], claimed_by=None, claimed_at=None),
        execution_options={"synchronize_session": False},
    )
    if not (unreachable and message.method in NEW_MESSAGES and is_dm(message.channel)):
        return 0
    who = [Person.slack_user_id == message.channel] if is_user_id(message.channel) else []
    if message.person_id is not None:
        who.append(Person.id == message.person_id)
    if not who:
        return 0
    session.execute(
        update(Person)
        .where(or_(*who), Person.unreachable_reason.is_(None))
        .values(unreachable_reason=error[:64]),
        execution_options={"synchronize_session": False},
    )
    users = set(session.execute(select(Person.slack_user_id).where(or_(*who))).scalars())
    users.discard(None)
    if is_user_id(message.channel):
        users.add(message.channel)
    if not users:
        return 0
    skipped = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state == OutboxState.PENDING,
            OutboxMessage.method.in_(NEW_MESSAGES),
            OutboxMessage.channel.in_(users),
        )
        .values(state=OutboxState.SKIPPED, error=f"recipient unreachable: {error}"[:300]),
        execution_options={"synchronize_session": False},
    )
    return rowcount(skipped)


def record_skipped(session: Session, message: Claimed, worker: str, *, reason: str) -> None:
    session.execute(
        update(OutboxMessage)
        .where(_mine(message.id, worker))
        .values(state=OutboxState.SKIPPED, error=reason[:300], claimed_by=None, claimed_at=None),
        execution_options={"synchronize_session": False},
    )


def release(
    session: Session, messages: Sequence[Claimed], worker: str, *, not_before: datetime | None = None
) -> None:
    """Give un-sent claims back (no attempt counted), e.g. when the worker stops."""
    for message in messages:
        values: dict[str, Any] = {
            "state": OutboxState.PENDING,
            "attempts": OutboxMessage.attempts - 1,
            "claimed_by": None,
            "claimed_at": None,
        }
        if not_before is not None:
            values["not_before"] = not_before
        session.execute(
            update(OutboxMessage).where(_mine(message.id, worker)).values(**values),
            execution_options={"synchronize_session": False},
        )


def release_stale(
    session: Session, now: datetime, *, dead_workers: Iterable[str] = (), lease: timedelta = LEASE
) -> int:
    """Claims whose holder died go back to `pending` for a re-check: those older than the lease, and those of
    `dead_workers` (processes on this machine known to be gone). The attempt stays counted, so the next
    attempt looks for the message in Slack before posting it."""
    held = or_(OutboxMessage.claimed_at < now - lease, OutboxMessage.claimed_by.in_(list(dead_workers)))
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.SENDING, held)
        .values(state=OutboxState.PENDING, claimed_by=None, claimed_at=None, not_before=now),
        execution_options={"synchronize_session": False},
    )
    return rowcount(result)


def claim_holders(session: Session) -> list[str]:
    """The workers holding `sending` claims now."""
    query = select(OutboxMessage.claimed_by).where(OutboxMessage.state == OutboxState.SENDING).distinct()
    return [w for w in session.execute(query).scalars() if w]


def due_count(session: Session, now: datetime) -> int:
    query = (
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before <= now)
    )
    return int(session.execute(query).scalar_one())


def prune_paces(session: Session, before: datetime) -> int:
    """Forget per-channel pace rows nobody needs any more (the global `*` row stays)."""
    result = session.execute(
        delete(ChannelPace).where(ChannelPace.channel != GLOBAL_PACE, ChannelPace.next_at < before)
    )
    return rowcount(result)
