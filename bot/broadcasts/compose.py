"""Composing a broadcast: the composer's values checked into a draft, saved, and previewed to the sender.

Nothing reaches anyone from here: a draft only gets the sender's preview DM (edited in place after Edit),
and times are asked and shown in the sender's time zone but stored as naive UTC. Every problem is reported
per field at once, as the sentence shown under that field, so the composer can be fixed in one go.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox
from bot.broadcasts import blocks
from bot.broadcasts.audience import Audience
from bot.broadcasts.blocks import ComposerValues
from bot.broadcasts.messages import PREVIEW_KIND, preview_card, preview_key, update_preview
from bot.clock import local_label, to_naive_utc, utcnow, zone_or_utc
from bot.config import Settings
from bot.content import Library
from bot.i18n import gettext as _
from bot.models import Broadcast, BroadcastStatus, Person, Team


class DraftInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors  # field -> the sentence shown under it


class BroadcastClosed(Exception):
    """The broadcast was sent, scheduled or cancelled meanwhile; `str()` says so in one sentence."""


@dataclass(frozen=True)
class Draft:
    text: str
    audience: Audience
    channel: str | None
    send_at: datetime | None  # naive UTC; None = when Send is pressed
    ask_ack: bool
    reminder_days: int | None


def sender_timezone(person: Person | None, settings: Settings) -> str:
    return person.effective_timezone(settings.timezone) if person is not None else settings.timezone


def check_draft(
    session: Session, values: ComposerValues, *, library: Library, timezone: str, now: datetime
) -> Draft:
    """The composer's values as a Draft, or DraftInvalid with a sentence per field that needs fixing."""
    errors: dict[str, str] = {}
    text = values.message.strip()
    posted = len(blocks.body(text))
    if not text:
        errors["message"] = _("Write the message people should get.")
    elif posted > blocks.MESSAGE_MAX:
        errors["message"] = _(
            "That's {n} characters as Slack counts them (&, < and > take several); "
            "the limit is {most}. Please shorten it."
        ).format(n=blocks.count(posted), most=blocks.count(blocks.MESSAGE_MAX))
    wanted = {int(t) for t in values.teams if t.isdigit()}
    teams = tuple(sorted(session.scalars(select(Team.id).where(Team.id.in_(wanted))))) if wanted else ()
    roles = tuple(sorted(r for r in values.roles if r in library.roles))
    audience = Audience(
        everyone=values.everyone,
        teams=() if values.everyone else teams,
        roles=() if values.everyone else roles,
    )
    if audience.empty:
        errors["audience"] = _("Choose who gets it: everyone, or at least one team or role.")
    send_at = None
    if values.later:
        send_at = _scheduled_time(values, timezone, now, errors)
    if values.reminder_days is not None and not values.ask_ack:
        errors["reminder"] = _(
            "Reminders go to people who haven't pressed “{got_it}”: tick the box above too."
        ).format(got_it=_(blocks.GOT_IT))
    if errors:
        raise DraftInvalid(errors)
    return Draft(text, audience, values.channel, send_at, values.ask_ack, values.reminder_days)


def _scheduled_time(
    values: ComposerValues, tz_name: str, now: datetime, errors: dict[str, str]
) -> datetime | None:
    if not values.date:
        errors["date"] = _("Pick the date to send it on.")
    if not values.time:
        errors["time"] = _("Pick the time to send it at.")
    if not values.date or not values.time:
        return None
    try:
        local = datetime.combine(date.fromisoformat(values.date), time.fromisoformat(values.time))
    except ValueError:
        errors["time"] = _("That date or time is not valid.")
        return None
    moment = to_naive_utc(local.replace(tzinfo=zone_or_utc(tz_name))).replace(second=0, microsecond=0)
    if moment <= now:
        errors["time"] = _(
            "That time has passed: it is now {now} in {zone}. Pick a later time, or choose to send it now."
        ).format(now=local_label(now, tz_name, with_zone=False), zone=tz_name)
        return None
    return moment


def save_draft(
    session: Session,
    draft: Draft,
    *,
    sender: Person | None,
    sender_user: str,
    timezone: str,
    library: Library,
    broadcast_id: int | None = None,
) -> Broadcast:
    """Create the draft (or change it, after Edit) and queue its preview DM (or the preview's update)."""
    if broadcast_id is None:
        broadcast = Broadcast(status=BroadcastStatus.DRAFT, created_at=utcnow(), revision=0, sent_count=0)
        session.add(broadcast)
    else:
        found = session.get(Broadcast, broadcast_id, with_for_update=True)
        if found is None or found.status != BroadcastStatus.DRAFT:
            raise BroadcastClosed(
                _(
                    "That broadcast was already sent, scheduled or cancelled, so it can't be edited; "
                    "start a new one."
                )
            )
        broadcast = found
    broadcast.sender_id = sender.id if sender is not None else None
    broadcast.sender_user = sender_user
    broadcast.timezone = timezone
    broadcast.text = draft.text
    broadcast.audience = draft.audience.as_json()
    broadcast.channel = draft.channel
    broadcast.scheduled_for = draft.send_at
    broadcast.ask_ack = draft.ask_ack
    broadcast.ack_reminder_days = draft.reminder_days
    session.flush()
    if broadcast_id is None:
        card = preview_card(session, broadcast, library)
        outbox.enqueue(
            session,
            key=preview_key(broadcast.id),
            kind=PREVIEW_KIND,
            channel=sender_user,
            text=blocks.preview_text(card),
            blocks=blocks.preview_blocks(card),
            person_id=broadcast.sender_id,
        )
    else:
        update_preview(session, broadcast, library)
    return broadcast


def composer_values(broadcast: Broadcast) -> ComposerValues:
    """A draft back in the composer (Edit)."""
    audience = Audience.from_json(broadcast.audience)
    local = None
    if broadcast.scheduled_for is not None:
        local = broadcast.scheduled_for.replace(tzinfo=ZoneInfo("UTC")).astimezone(
            zone_or_utc(broadcast.timezone)
        )
    return ComposerValues(
        message=broadcast.text,
        everyone=audience.everyone,
        teams=tuple(str(t) for t in audience.teams),
        roles=audience.roles,
        channel=broadcast.channel,
        later=local is not None,
        date=local.date().isoformat() if local else None,
        time=f"{local:%H:%M}" if local else None,
        ask_ack=broadcast.ask_ack,
        reminder_days=broadcast.ack_reminder_days,
    )
