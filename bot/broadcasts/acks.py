""" "Got it" and the reminder to those who haven't pressed it.

An acknowledgement is recorded once (a conditional UPDATE: later clicks, or a click on the reminder after
one on the DM, change nothing), counts as engagement, and is shown in place on the DM and on the reminder.
A reminder goes once per person (`reminded_at`), only to people the DM reached and who can still get DMs;
one that falls due while no tick runs is still sent within REMINDER_WINDOW.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.broadcasts import blocks
from bot.broadcasts.audience import reachable
from bot.broadcasts.messages import (
    CHUNK,
    REMINDER_KIND,
    language_of,
    letter,
    queue_edit,
    recipient_key,
    reminder_key,
)
from bot.broadcasts.status import STATUS_EVERY, refresh_status
from bot.clock import local_label, utcnow
from bot.config import Settings
from bot.i18n import use_language
from bot.models import Activity, Broadcast, BroadcastRecipient, BroadcastStatus, OutboxMessage, Person
from bot.outbox import OutboxState
from bot.slack.blocks import Block

REMINDER_WINDOW = timedelta(days=14)  # reminders are looked for this long after they fall due


def acknowledge(
    session: Session, *, broadcast_id: int, person: Person | None, now: datetime, settings: Settings
) -> bool:
    """ "Got it": recorded once (later clicks change nothing), counted as engagement, shown in place."""
    if person is None:
        return False
    done = session.execute(
        update(BroadcastRecipient)
        .where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.person_id == person.id,
            BroadcastRecipient.acked_at.is_(None),
        )
        .values(acked_at=now)
        .returning(BroadcastRecipient.reminded_at),
        execution_options={"synchronize_session": False},
    ).first()
    broadcast = session.get(Broadcast, broadcast_id)
    if done is None or broadcast is None:
        return False
    session.add(Activity(person_id=person.id, team_id=person.team_id, kind="ack", occurred_at=now))
    note = letter(session, broadcast)
    acked_on = local_label(now, person.effective_timezone(settings.timezone), year=False, with_zone=False)
    queue_edit(
        session,
        key=f"broadcast-ack:{broadcast_id}:{person.id}",
        original=recipient_key(broadcast_id, person.id),
        text=blocks.letter_text(note),
        blocks=blocks.letter_blocks(note, acked_on=acked_on),
    )
    if done[0] is not None:
        queue_edit(
            session,
            key=f"broadcast-ack-remind:{broadcast_id}:{person.id}",
            original=reminder_key(broadcast_id, person.id),
            text=blocks.reminder_text(note),
            blocks=blocks.reminder_blocks(note, acked_on=acked_on),
        )
    session.execute(select(Broadcast.id).where(Broadcast.id == broadcast_id).with_for_update())
    session.refresh(broadcast)
    if (
        broadcast.status == BroadcastStatus.SENT
        or broadcast.status_at is None
        or utcnow() - broadcast.status_at >= STATUS_EVERY
    ):
        refresh_status(session, broadcast, now=now, defer=True)
    return True


def send_reminders(session: Session, *, now: datetime) -> int:
    """Once per person: remind recipients who got the DM but haven't pressed "Got it" after N days."""
    queued = 0
    candidates = session.scalars(
        select(Broadcast).where(
            Broadcast.ask_ack.is_(True),
            Broadcast.ack_reminder_days.is_not(None),
            Broadcast.status.in_((BroadcastStatus.SENDING, BroadcastStatus.SENT)),
            Broadcast.started_at.is_not(None),
            Broadcast.started_at > now - REMINDER_WINDOW - timedelta(days=max(blocks.REMINDER_CHOICES)),
        )
    ).all()
    for broadcast in candidates:
        assert broadcast.started_at is not None and broadcast.ack_reminder_days is not None
        if broadcast.started_at + timedelta(days=broadcast.ack_reminder_days) > now:
            continue
        waiting = session.execute(
            select(BroadcastRecipient.id, Person.id, Person.slack_user_id, Person.locale, Person.slack_locale)
            .join(Person, Person.id == BroadcastRecipient.person_id)
            .join(OutboxMessage, OutboxMessage.key == BroadcastRecipient.outbox_key)
            .where(
                BroadcastRecipient.broadcast_id == broadcast.id,
                BroadcastRecipient.acked_at.is_(None),
                BroadcastRecipient.reminded_at.is_(None),
                OutboxMessage.state == OutboxState.SENT,
                reachable(),
                Person.erased_at.is_(None),
            )
        ).all()
        if not waiting:
            continue
        note = letter(session, broadcast)
        built: dict[str, tuple[str, list[Block]]] = {}
        for _, person_id, user, locale, slack_locale in waiting:
            lang = language_of(locale, slack_locale)  # each recipient's language
            if lang not in built:
                with use_language(lang):
                    built[lang] = blocks.reminder_text(note), blocks.reminder_blocks(note)
            text, body = built[lang]
            if outbox.enqueue(
                session,
                key=reminder_key(broadcast.id, person_id),
                kind=REMINDER_KIND,
                channel=str(user),
                text=text,
                blocks=body,
                person_id=person_id,
            ):
                queued += 1
        ids = [row[0] for row in waiting]
        for start in range(0, len(ids), CHUNK):
            session.execute(
                update(BroadcastRecipient)
                .where(
                    BroadcastRecipient.id.in_(ids[start : start + CHUNK]),
                    BroadcastRecipient.reminded_at.is_(None),
                )
                .values(reminded_at=now),
                execution_options={"synchronize_session": False},
            )
    return queued
