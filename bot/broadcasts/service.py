"""Broadcasts: compose -> preview -> send now or at a set time -> one DM per person -> "Got it" -> reminder.

This module sends them, and is the one to import: it re-exports what the steps around sending offer
(`from bot.broadcasts import service as broadcasts`, then `broadcasts.save_draft`, `broadcasts.acknowledge`,
...) and registers the scheduled work. The steps live beside it: `compose` (the composer's draft and the
sender's preview), `audience` (who it is for), `status` (the live status message), `acks` ("Got it" and
the reminder), `overview` (App Home and `broadcast status`), and `messages` (states, outbox keys and edits
they all share).

Exactly once, and resumable:
- `fan_out` resolves the audience when the broadcast is sent (active people with a Slack account who can
  get DMs; the others in the audience are counted as skipped) and, in the same transaction that moves the
  broadcast to `sending`, inserts a BroadcastRecipient row and an outbox message `broadcast:<id>:<person>`
  per person, in bulk and insert-ignore: re-running it adds nothing twice. The outbox then sends each
  message once, paced to ADOPTBOT_SEND_RATE, across 429s, crashes and instances.
- Who sends it is decided by a status transition (`draft`/`scheduled` -> `sending`, a conditional UPDATE):
  two Send clicks, or two instances ticking at the same minute, fan out once.
Progress: the sender gets a status DM, edited in place as it goes (`bot.broadcasts.status`). Status edits and
"✓ Acknowledged" edits are queued ahead of the broadcast's own waiting DMs, so they show within seconds
even while thousands of DMs are still queued.
Audit: Broadcast (who, what, audience, when), BroadcastRecipient (to whom, acknowledged when) and the
outbox row of each DM (`sent_at`, or why it failed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.broadcasts import blocks
from bot.broadcasts.acks import REMINDER_WINDOW, acknowledge, send_reminders
from bot.broadcasts.audience import (
    Audience,
    AudienceSize,
    audience_label,
    audience_size,
    reachable,
)
from bot.broadcasts.compose import (
    BroadcastClosed,
    Draft,
    DraftInvalid,
    check_draft,
    composer_values,
    save_draft,
    sender_timezone,
)
from bot.broadcasts.messages import (
    AHEAD,
    CHANNEL_KIND,
    CHUNK,
    KIND,
    PREVIEW_KIND,
    REMINDER_KIND,
    STATUS_KIND,
    UPDATE_KIND,
    channel_key,
    language_of,
    letter,
    preview_card,
    preview_key,
    recipient_key,
    reminder_key,
    sender_language,
    status_key,
    update_preview,
)
from bot.broadcasts.overview import HOME_RECENT, HOME_SCHEDULED, ack_report, home_items
from bot.broadcasts.status import STATUS_EVERY, finish, measure, refresh_status, update_progress
from bot.clock import local_label, utcnow
from bot.content import Library
from bot.db import insert_ignore
from bot.i18n import gettext as _
from bot.i18n import locale_of, use_language
from bot.jobs import JobContext
from bot.models import Broadcast, BroadcastRecipient, BroadcastStatus, Person
from bot.slack.blocks import Block

__all__ = [
    "AHEAD",
    "CHANNEL_KIND",
    "CHUNK",
    "HOME_RECENT",
    "HOME_SCHEDULED",
    "KIND",
    "PREVIEW_KIND",
    "REMINDER_KIND",
    "REMINDER_WINDOW",
    "STATUS_EVERY",
    "STATUS_KIND",
    "UPDATE_KIND",
    "Audience",
    "AudienceSize",
    "BroadcastClosed",
    "Draft",
    "DraftInvalid",
    "ack_report",
    "acknowledge",
    "audience_label",
    "audience_size",
    "cancel",
    "channel_key",
    "check_draft",
    "composer_values",
    "confirm",
    "fan_out",
    "home_items",
    "letter",
    "measure",
    "preview_card",
    "preview_key",
    "recipient_key",
    "refresh_status",
    "reminder_key",
    "save_draft",
    "send_due",
    "send_reminders",
    "sender_timezone",
    "status_key",
    "update_progress",
]

log = logging.getLogger(__name__)


# --- sending ----------------------------------------------------------------------------------------------


def _claim(
    session: Session,
    broadcast_id: int,
    from_states: Sequence[BroadcastStatus],
    to_state: BroadcastStatus,
    **values: Any,
) -> bool:
    """The status transition that decides, across clicks and instances, who acts on a broadcast."""
    result = session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status.in_(from_states))
        .values(status=to_state, **values),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def confirm(session: Session, broadcast_id: int, *, now: datetime, library: Library) -> Broadcast | None:
    """Send pressed on the preview: schedule it, or fan it out now. None if it was not a draft any more."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    if broadcast.scheduled_for is not None and broadcast.scheduled_for > now:
        if not _claim(session, broadcast_id, [BroadcastStatus.DRAFT], BroadcastStatus.SCHEDULED):
            return None
        session.refresh(broadcast)
        update_preview(
            session, broadcast, library, note=lambda: _("It's listed in your Adoptbot Home tab too.")
        )
        return broadcast
    if not _claim(session, broadcast_id, [BroadcastStatus.DRAFT], BroadcastStatus.SENDING, started_at=now):
        return None
    session.refresh(broadcast)
    fan_out(session, broadcast, now=now, library=library)
    return broadcast


def cancel(session: Session, broadcast_id: int, *, now: datetime, library: Library) -> bool:
    """Cancel a draft or a scheduled broadcast (nothing has been sent); False if it is too late."""
    if not _claim(
        session,
        broadcast_id,
        [BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED],
        BroadcastStatus.CANCELLED,
        cancelled_at=now,
    ):
        return False
    broadcast = session.get(Broadcast, broadcast_id, populate_existing=True)
    assert broadcast is not None

    def note() -> str:
        return _("Cancelled {when}. Nothing was sent.").format(when=local_label(now, broadcast.timezone))

    update_preview(session, broadcast, library, note=note)
    return True


def fan_out(session: Session, broadcast: Broadcast, *, now: datetime, library: Library) -> int:
    """Recipients and one queued DM each (insert-ignore: a re-run adds nothing twice), the channel post,
    and the sender's status message. Returns how many DMs were queued."""
    audience = Audience.from_json(broadcast.audience)
    people = session.execute(
        select(Person.id, Person.team_id, Person.slack_user_id, Person.locale, Person.slack_locale)
        .where(audience.matches(), reachable(), Person.erased_at.is_(None))
        .order_by(Person.id)
    ).all()
    size = audience_size(session, audience)
    note = letter(session, broadcast)
    queued_at = utcnow()
    built: dict[str, tuple[str, list[Block]]] = {}  # the letter's chrome in each recipient's language

    def in_language(locale: str | None, slack_locale: str | None) -> tuple[str, list[Block]]:
        lang = language_of(locale, slack_locale)
        if lang not in built:
            with use_language(lang):
                built[lang] = blocks.letter_text(note), blocks.letter_blocks(note)
        return built[lang]

    queued = 0
    for start in range(0, len(people), CHUNK):
        chunk = people[start : start + CHUNK]
        insert_ignore(
            session,
            BroadcastRecipient,
            [
                {
                    "broadcast_id": broadcast.id,
                    "person_id": pid,
                    "team_id": team,
                    "outbox_key": recipient_key(broadcast.id, pid),
                }
                for pid, team, *_rest in chunk
            ],
            conflict=["broadcast_id", "person_id"],
        )
        queued += outbox.enqueue_many(
            session,
            [
                outbox.NewMessage(
                    key=recipient_key(broadcast.id, pid),
                    kind=KIND,
                    channel=str(user),  # reachable(): never None
                    text=in_language(locale, slack_locale)[0],
                    blocks=in_language(locale, slack_locale)[1],
                    person_id=pid,
                    not_before=queued_at,
                    metadata={"broadcast_id": broadcast.id},
                )
                for pid, _team, user, locale, slack_locale in chunk
            ],
        )
    total = session.scalar(
        select(func.count())
        .select_from(BroadcastRecipient)
        .where(BroadcastRecipient.broadcast_id == broadcast.id)
    )
    broadcast.recipient_count = int(total or 0)
    broadcast.excluded_count = size.skipped
    broadcast.started_at = broadcast.started_at or now
    sender = sender_language(session, broadcast)  # the channel post sits beside the sender's own words
    if broadcast.channel:
        with use_language(sender):
            posted_text, posted = blocks.letter_text(note), blocks.channel_blocks(note)
        outbox.enqueue(
            session,
            key=channel_key(broadcast.id),
            kind=CHANNEL_KIND,
            channel=broadcast.channel,
            text=posted_text,
            blocks=posted,
            not_before=queued_at - AHEAD,
        )
    progress = measure(session, broadcast)
    if progress.done:
        finish(broadcast, now)
    with use_language(sender):
        broadcast.status_line = blocks.progress_line(progress)
        status_text = blocks.status_text(progress)
        status = blocks.status_blocks(progress, updated=local_label(queued_at, broadcast.timezone))
    broadcast.status_at = queued_at
    outbox.enqueue(  # ahead of the DMs, so the sender sees it first; also wakes the outbox on commit
        session,
        key=status_key(broadcast.id),
        kind=STATUS_KIND,
        channel=broadcast.sender_user or "",
        text=status_text,
        blocks=status,
        person_id=broadcast.sender_id,
        not_before=queued_at - 2 * AHEAD,
    )

    def started() -> str:
        return _("Sending started {when}; the status message below shows how far it got.").format(
            when=local_label(now, broadcast.timezone)
        )

    update_preview(session, broadcast, library, note=started)
    log.info("broadcast %s: %d queued, %d skipped", broadcast.id, queued, size.skipped)
    return queued


# --- scheduled work ---------------------------------------------------------------------------------------


def send_due(session: Session, *, now: datetime, library: Library) -> int:
    """Fan out scheduled broadcasts whose time has come (each once, whoever ticks)."""
    due = session.scalars(
        select(Broadcast.id)
        .where(Broadcast.status == BroadcastStatus.SCHEDULED, Broadcast.scheduled_for <= now)
        .order_by(Broadcast.scheduled_for, Broadcast.id)
    ).all()
    queued = 0
    for broadcast_id in due:
        if _claim(
            session, broadcast_id, [BroadcastStatus.SCHEDULED], BroadcastStatus.SENDING, started_at=now
        ):
            broadcast = session.get(Broadcast, broadcast_id, populate_existing=True)
            assert broadcast is not None
            queued += fan_out(session, broadcast, now=now, library=library)
    return queued


def send_job(ctx: JobContext) -> int:
    with use_language(locale_of(None, None, ctx.settings)):  # for people who have no language of their own
        return send_due(ctx.session, now=ctx.now, library=ctx.library)


def progress_job(ctx: JobContext) -> int:
    with use_language(locale_of(None, None, ctx.settings)):
        return update_progress(ctx.session, now=ctx.now)


def remind_job(ctx: JobContext) -> int:
    with use_language(locale_of(None, None, ctx.settings)):
        return send_reminders(ctx.session, now=ctx.now)
