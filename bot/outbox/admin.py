"""What is in the outbox, and sending failed messages again (`adoptbot outbox status|retry`).

A failed message is one of two sorts, told apart by its recipient, not by its error text:
- *unreachable*: a DM to a person Slack will not deliver to (deleted, deactivated: the person is marked
  unreachable when Slack says so). Sending again would fail again, so a retry leaves it alone, for as long
  as the person is marked so.
- everything else: out of attempts after 5xx or network errors, or refused for a reason an admin can mend
  (the bot was not in the channel, the channel was archived). A retry sends it again.

Retrying keeps "exactly once": only rows still `failed` are moved (one UPDATE, so two retries at once move
each row once), and each goes back with one attempt counted, so the sender first looks in the channel's
history for a post carrying the message's key (one that Slack accepted after all) and records it instead
of posting again.

An edit (`chat.update`) of a message that had failed was skipped when its turn came ("the message it
updates was not sent"). When that message is sent again, its newest skipped edit goes back to pending with
it, so the message lands showing what it should show now (a closed pulse, an acknowledged broadcast), not
what it said when it was first queued.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from bot.models import OutboxMessage, OutboxState, Person

QUEUED_STATES = (OutboxState.PENDING, OutboxState.SENDING)


def _recipient_unreachable() -> ColumnElement[bool]:
    """The message's recipient is a person Slack currently refuses to deliver to."""
    return exists().where(
        Person.unreachable_reason.is_not(None),
        or_(
            Person.id == OutboxMessage.person_id,
            and_(Person.slack_user_id.is_not(None), Person.slack_user_id == OutboxMessage.channel),
        ),
    )


def by_count(reasons: Counter[str]) -> list[tuple[str, int]]:
    """Reasons, most frequent first, then alphabetically: the same order on every run."""
    return sorted(reasons.items(), key=lambda item: (-item[1], item[0]))


def short_reason(error: str | None) -> str:
    """`gave up after 6 attempts: HTTP 500: internal_error` -> `gave up after 6 attempts`."""
    return (error or "unknown").split(":", 1)[0].strip() or "unknown"


@dataclass
class KindStatus:
    kind: str
    queued: int = 0  # pending or being sent
    failed: int = 0  # failed; `outbox retry` sends these again
    unreachable: int = 0  # failed, to someone Slack cannot deliver to; not retried
    sent: int = 0
    skipped: int = 0
    reasons: Counter[str] = field(default_factory=Counter)  # why the failed ones failed


def status(session: Session) -> list[KindStatus]:
    """Counts per kind and state, failed ones split into retryable and unreachable, with their reasons."""
    by_kind: dict[str, KindStatus] = {}
    counts = session.execute(
        select(OutboxMessage.kind, OutboxMessage.state, func.count())
        .where(OutboxMessage.state != OutboxState.FAILED)
        .group_by(OutboxMessage.kind, OutboxMessage.state)
    )
    for kind, state, n in counts:
        row = by_kind.setdefault(kind, KindStatus(kind))
        if state in QUEUED_STATES:
            row.queued += int(n)
        elif state == OutboxState.SENT:
            row.sent += int(n)
        elif state == OutboxState.SKIPPED:
            row.skipped += int(n)
    unreachable = _recipient_unreachable()
    failed = session.execute(
        select(OutboxMessage.kind, OutboxMessage.error, unreachable.label("unreachable"), func.count())
        .where(OutboxMessage.state == OutboxState.FAILED)
        .group_by(OutboxMessage.kind, OutboxMessage.error, unreachable)
    )
    for kind, error, gone, n in failed:
        row = by_kind.setdefault(kind, KindStatus(kind))
        if gone:
            row.unreachable += int(n)
        else:
            row.failed += int(n)
        row.reasons[short_reason(error)] += int(n)
    return sorted(by_kind.values(), key=lambda r: r.kind)


def kinds(session: Session) -> list[str]:
    return sorted(session.scalars(select(OutboxMessage.kind).distinct()))


def _failed(kind: str | None, since: datetime | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [OutboxMessage.state == OutboxState.FAILED]
    if kind is not None:
        where.append(OutboxMessage.kind == kind)
    if since is not None:
        where.append(OutboxMessage.created_at >= since)
    return where


@dataclass(frozen=True)
class Requeued:
    keys: list[str]  # moved back to pending, to be sent again
    unreachable: int  # failed messages left alone: their recipient cannot be reached
    edits: list[str] = field(default_factory=list)  # their newest skipped edits, pending again after them


def requeue_failed(
    session: Session, *, now: datetime, kind: str | None = None, since: datetime | None = None
) -> Requeued:
    """Move the failed messages of `kind` queued at or after `since` back to pending, due at `now`
    (naive UTC), except those to people Slack cannot reach."""
    where = _failed(kind, since)
    left = session.scalar(
        select(func.count()).select_from(OutboxMessage).where(*where, _recipient_unreachable())
    )
    moved = session.execute(
        update(OutboxMessage)
        .where(*where, ~_recipient_unreachable())
        .values(state=OutboxState.PENDING, attempts=1, not_before=now, claimed_by=None, claimed_at=None)
        .returning(OutboxMessage.key, OutboxMessage.id),
        execution_options={"synchronize_session": False},
    ).all()
    keys = [key for key, _ in sorted(moved, key=lambda row: row[1])]
    return Requeued(keys, int(left or 0), _revive_edits(session, keys, now=now))


def requeue_keys(session: Session, keys: list[str], *, now: datetime) -> list[str]:
    """Move these messages back to pending if they failed (a digest sent again on request); the keys moved.

    Messages to people Slack cannot reach stay failed."""
    if not keys:
        return []
    moved = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.key.in_(keys), OutboxMessage.state == OutboxState.FAILED, ~_recipient_unreachable()
        )
        .values(state=OutboxState.PENDING, attempts=1, not_before=now, claimed_by=None, claimed_at=None)
        .returning(OutboxMessage.key),
        execution_options={"synchronize_session": False},
    )
    keys = list(moved.scalars())
    return keys + _revive_edits(session, keys, now=now)


SKIPPED_FOR_ITS_ORIGINAL = "the message it updates (%"  # the claim's reason, as a LIKE pattern


def _revive_edits(session: Session, originals: list[str], *, now: datetime) -> list[str]:
    """The newest edit of each of `originals` that was skipped because the original had failed, back to
    pending (the claim sends it once the original is sent); the keys moved."""
    if not originals:
        return []
    newest = (
        select(func.max(OutboxMessage.id))
        .where(
            OutboxMessage.update_of.in_(originals),
            OutboxMessage.state == OutboxState.SKIPPED,
            OutboxMessage.error.like(SKIPPED_FOR_ITS_ORIGINAL),
        )
        .group_by(OutboxMessage.update_of)
    )
    later = aliased(OutboxMessage)
    revived = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_(newest),
            ~exists().where(  # an edit queued since then is the newest: it is sent, this one is not needed
                later.update_of == OutboxMessage.update_of,
                later.id > OutboxMessage.id,
                later.state != OutboxState.SKIPPED,
            ),
        )
        .values(state=OutboxState.PENDING, attempts=0, not_before=now, error=None)
        .returning(OutboxMessage.key),
        execution_options={"synchronize_session": False},
    )
    return list(revived.scalars())


@dataclass
class SendResult:
    """Where a set of messages stands after a send: what a command reports and exits on."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    queued: int = 0  # still pending (a back-off beyond the command's wait, Slack's pause) or being sent
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def all_sent(self) -> bool:
        return not (self.failed or self.skipped or self.queued)

    def problems(self) -> str:
        """`2 failed (not_in_channel: 2), 1 still queued`; empty when everything was sent."""
        parts = []
        if self.failed:
            why = ", ".join(f"{reason}: {n}" for reason, n in by_count(self.reasons))
            parts.append(f"{self.failed} failed ({why})")
        if self.skipped:
            parts.append(f"{self.skipped} skipped (recipient unreachable)")
        if self.queued:
            parts.append(f"{self.queued} still queued")
        return ", ".join(parts)


def results(session: Session, keys: list[str]) -> SendResult:
    """Where the messages with these keys stand now."""
    result = SendResult()
    per_state: dict[str, int] = defaultdict(int)
    for start in range(0, len(keys), 1000):
        rows = session.execute(
            select(OutboxMessage.state, OutboxMessage.error).where(
                OutboxMessage.key.in_(keys[start : start + 1000])
            )
        )
        for state, error in rows:
            per_state[state] += 1
            if state == OutboxState.FAILED:
                result.reasons[short_reason(error)] += 1
    result.sent = per_state[OutboxState.SENT]
    result.failed = per_state[OutboxState.FAILED]
    result.skipped = per_state[OutboxState.SKIPPED]
    result.queued = per_state[OutboxState.PENDING] + per_state[OutboxState.SENDING]
    return result
