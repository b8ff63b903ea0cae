"""What every step of a broadcast shares: its states, the outbox names of its messages, the letter and
the sender's preview, and edits queued ahead of the DMs still waiting.

Each message has a key that names it (`broadcast:<id>:<person>`, `broadcast-preview:<id>`, ...), so the
outbox sends it once whoever queues it, and an edit names the message it changes. An edit (chat.update) is
a message too and the outbox sends in queue order: queued normally, a "✓ Acknowledged" or a status edit
would wait behind every DM of a large broadcast, so `queue_edit` moves it just ahead of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.broadcasts import blocks
from bot.broadcasts.audience import Audience, AudienceSize, audience_label, audience_size
from bot.broadcasts.blocks import Letter, PreviewCard
from bot.clock import local_label, utcnow
from bot.content import Library
from bot.i18n import current_language, shipped, use_language
from bot.models import Broadcast, OutboxMessage, Person

KIND = "broadcast"  # a recipient's DM (the on_sent hook counts these)
PREVIEW_KIND, STATUS_KIND, CHANNEL_KIND = "broadcast_preview", "broadcast_status", "broadcast_channel"
REMINDER_KIND, UPDATE_KIND = "broadcast_remind", "broadcast_update"
AHEAD = timedelta(seconds=1)
CHUNK = 1000


def recipient_key(broadcast_id: int, person_id: int) -> str:
    return f"broadcast:{broadcast_id}:{person_id}"


def preview_key(broadcast_id: int) -> str:
    return f"broadcast-preview:{broadcast_id}"


def status_key(broadcast_id: int) -> str:
    return f"broadcast-status:{broadcast_id}"


def channel_key(broadcast_id: int) -> str:
    return f"broadcast-channel:{broadcast_id}"


def reminder_key(broadcast_id: int, person_id: int) -> str:
    return f"broadcast-remind:{broadcast_id}:{person_id}"


def language_of(locale: str | None, slack_locale: str | None) -> str:
    """The language to write to someone in: theirs (roster, else Slack), else the current one (jobs run
    in ADOPTBOT_LOCALE's)."""
    return shipped(locale or slack_locale) or current_language()


def sender_language(session: Session, broadcast: Broadcast) -> str:
    """The sender's language: their preview and status message are written in it (as is the channel post,
    beside the words they wrote)."""
    row = None
    if broadcast.sender_id is not None:
        row = session.execute(
            select(Person.locale, Person.slack_locale).where(Person.id == broadcast.sender_id)
        ).first()
    return language_of(row[0], row[1]) if row is not None else current_language()


def letter(session: Session, broadcast: Broadcast) -> Letter:
    sender = session.get(Person, broadcast.sender_id) if broadcast.sender_id is not None else None
    name = sender.name if sender is not None and sender.erased_at is None and sender.name else None
    return Letter(broadcast.id, broadcast.text, name, broadcast.sender_user, broadcast.ask_ack)


def preview_card(
    session: Session, broadcast: Broadcast, library: Library, note: str | None = None
) -> PreviewCard:
    audience = Audience.from_json(broadcast.audience)
    if broadcast.recipient_count is not None:
        size = AudienceSize(broadcast.recipient_count, broadcast.excluded_count or 0)
    else:
        size = audience_size(session, audience)
    when = local_label(broadcast.scheduled_for, broadcast.timezone) if broadcast.scheduled_for else None
    return PreviewCard(
        letter=letter(session, broadcast),
        audience=audience_label(session, audience, library),
        reach=size.reach,
        skipped=size.skipped,
        when=when,
        channel=broadcast.channel,
        reminder_days=broadcast.ack_reminder_days,
        state=broadcast.status,
        note=note,
    )


def update_preview(
    session: Session, broadcast: Broadcast, library: Library, note: Callable[[], str] | None = None
) -> None:
    """Edit the sender's preview DM to show the broadcast as it stands (and `note()`, what just happened),
    in the sender's language."""
    broadcast.revision = (broadcast.revision or 0) + 1
    session.flush()
    with use_language(sender_language(session, broadcast)):
        card = preview_card(session, broadcast, library, note() if note is not None else None)
        text, shown = blocks.preview_text(card), blocks.preview_blocks(card)
    queue_edit(
        session,
        key=f"{preview_key(broadcast.id)}:{broadcast.revision}",
        original=preview_key(broadcast.id),
        text=text,
        blocks=shown,
    )


def queue_edit(
    session: Session,
    *,
    key: str,
    original: str,
    text: str,
    blocks: list[dict[str, Any]],
    not_before: datetime | None = None,
) -> bool:
    """chat.update of one of our messages, queued ahead of the broadcast DMs still waiting (or at
    `not_before`): the outbox sends in queue order, and an edit should not wait behind 10,000 DMs."""
    if not outbox.enqueue_update(
        session, key=key, update_of=original, text=text, blocks=blocks, kind=UPDATE_KIND
    ):
        return False
    if not_before is None:
        queued = session.scalar(select(OutboxMessage.not_before).where(OutboxMessage.key == original))
        not_before = min(queued, utcnow()) - AHEAD if queued is not None else None
    if not_before is not None:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.key == key).values(not_before=not_before),
            execution_options={"synchronize_session": False},
        )
    return True
