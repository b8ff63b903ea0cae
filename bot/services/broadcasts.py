"""Broadcasts: compose -> preview -> send now or at a set time -> one DM per person -> "Got it" -> reminder.

Exactly once, and resumable:
- `fan_out` resolves the audience when the broadcast is sent (active people with a Slack account who can
  get DMs; the others in the audience are counted as skipped) and, in the same transaction that moves the
  broadcast to `sending`, inserts a BroadcastRecipient row and an outbox message `broadcast:<id>:<person>`
  per person, in bulk and insert-ignore: re-running it adds nothing twice. The outbox then sends each
  message once, paced to ADOPTBOT_SEND_RATE, across 429s, crashes and instances.
- Who sends it is decided by a status transition (`draft`/`scheduled` -> `sending`, a conditional UPDATE):
  two Send clicks, or two instances ticking at the same minute, fan out once.
Progress: the sender gets a status DM, edited in place (`enqueue_update`) as it goes. The outbox's
`on_sent` hook counts each delivered DM and refreshes the status at most every STATUS_EVERY seconds (an
edit is a message too: it takes a slot of the send rate), and at once after the last DM; the
`broadcasts.progress` job finishes broadcasts whose last messages failed rather than sent. Status edits and
"✓ Acknowledged" edits are queued ahead of the broadcast's own waiting DMs, so they show within seconds
even while thousands of DMs are still queued.
Audit: Broadcast (who, what, audience, when), BroadcastRecipient (to whom, acknowledged when) and the
outbox row of each DM (`sent_at`, or why it failed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from bot.clock import to_naive_utc, utcnow
from bot.config import Settings
from bot.content import Library
from bot.db import insert_ignore
from bot.jobs import JobContext, register_job
from bot.models import Activity, Broadcast, BroadcastRecipient, OutboxMessage, Person, Team
from bot.slack import outbox, outbox_store
from bot.slack.blocks import broadcasts as blocks
from bot.slack.blocks.broadcasts import (
    AckReport,
    ComposerValues,
    HomeItem,
    Letter,
    PreviewCard,
    Progress,
    TeamAcks,
)

log = logging.getLogger(__name__)

KIND = "broadcast"  # a recipient's DM (the on_sent hook counts these)
PREVIEW_KIND, STATUS_KIND, CHANNEL_KIND = "broadcast_preview", "broadcast_status", "broadcast_channel"
REMINDER_KIND, UPDATE_KIND = "broadcast_remind", "broadcast_update"
DRAFT, SCHEDULED, SENDING, SENT, CANCELLED = "draft", "scheduled", "sending", "sent", "cancelled"
STATUS_EVERY = timedelta(seconds=5)
AHEAD = timedelta(seconds=1)
CHUNK = 1000
REMINDER_WINDOW = timedelta(days=14)  # reminders are looked for this long after they fall due


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


# --- audience ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Everyone, or the union of people in `teams` and people with `roles`."""

    everyone: bool = False
    teams: tuple[int, ...] = ()
    roles: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.everyone or self.teams or self.roles)

    def as_json(self) -> dict[str, Any]:
        return {"everyone": self.everyone, "teams": list(self.teams), "roles": list(self.roles)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Audience:
        return cls(
            everyone=bool(data.get("everyone")),
            teams=tuple(int(t) for t in data.get("teams") or []),
            roles=tuple(str(r) for r in data.get("roles") or []),
        )

    def matches(self) -> ColumnElement[bool]:
        if self.everyone:
            return true()
        either = []
        if self.teams:
            either.append(Person.team_id.in_(self.teams))
        if self.roles:
            either.append(Person.role.in_(self.roles))
        return or_(*either) if either else false()


def _reachable() -> ColumnElement[bool]:
    return and_(
        Person.is_active.is_(True),
        Person.slack_user_id.is_not(None),
        Person.unreachable_reason.is_(None),
    )


@dataclass(frozen=True)
class AudienceSize:
    reach: int
    skipped: int  # in the audience, but inactive or unable to get DMs


def audience_size(session: Session, audience: Audience) -> AudienceSize:
    reachable = func.coalesce(func.sum(case((_reachable(), 1), else_=0)), 0)
    row = session.execute(
        select(reachable, func.count()).where(audience.matches(), Person.erased_at.is_(None))
    ).one()
    return AudienceSize(reach=int(row[0]), skipped=int(row[1]) - int(row[0]))


def audience_label(session: Session, audience: Audience, library: Library) -> str:
    """ "Everyone", or "Teams: Sales, Support · Roles: Engineering" (escaped)."""
    if audience.everyone:
        return "Everyone"
    parts = []
    if audience.teams:
        teams = session.scalars(select(Team.name).where(Team.id.in_(audience.teams)).order_by(Team.name))
        parts.append("Teams: " + ", ".join(blocks.excerpt(n, 60) for n in teams))
    if audience.roles:
        names = sorted(library.roles[r].name if r in library.roles else r for r in audience.roles)
        parts.append("Roles: " + ", ".join(blocks.excerpt(n, 60) for n in names))
    return " · ".join(parts) or "Nobody"


# --- composing --------------------------------------------------------------------------------------------


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


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def sender_timezone(person: Person | None, settings: Settings) -> str:
    return person.effective_timezone(settings.timezone) if person is not None else settings.timezone


def local_label(moment: datetime, tz_name: str | None, *, with_zone: bool = True) -> str:
    """ "Tue 3 Mar 2026, 09:00 (Europe/Paris)" for a naive UTC moment."""
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone(tz_name))
    label = f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"
    return f"{label} ({tz_name or 'UTC'})" if with_zone else label


def check_draft(
    session: Session, values: ComposerValues, *, library: Library, timezone: str, now: datetime
) -> Draft:
    """The composer's values as a Draft, or DraftInvalid with a sentence per field that needs fixing."""
    errors: dict[str, str] = {}
    text = values.message.strip()
    posted = len(blocks.body(text))
    if not text:
        errors["message"] = "Write the message people should get."
    elif posted > blocks.MESSAGE_MAX:
        errors["message"] = (
            f"That's {blocks.count(posted)} characters as Slack counts them (&, < and > take several); "
            f"the limit is {blocks.count(blocks.MESSAGE_MAX)}. Please shorten it."
        )
    wanted = {int(t) for t in values.teams if t.isdigit()}
    teams = tuple(sorted(session.scalars(select(Team.id).where(Team.id.in_(wanted))))) if wanted else ()
    roles = tuple(sorted(r for r in values.roles if r in library.roles))
    audience = Audience(
        everyone=values.everyone,
        teams=() if values.everyone else teams,
        roles=() if values.everyone else roles,
    )
    if audience.empty:
        errors["audience"] = "Choose who gets it: everyone, or at least one team or role."
    send_at = None
    if values.later:
        send_at = _scheduled_time(values, timezone, now, errors)
    if values.reminder_days is not None and not values.ask_ack:
        errors["reminder"] = "Reminders go to people who haven't pressed “Got it”: tick the box above too."
    if errors:
        raise DraftInvalid(errors)
    return Draft(text, audience, values.channel, send_at, values.ask_ack, values.reminder_days)


def _scheduled_time(
    values: ComposerValues, tz_name: str, now: datetime, errors: dict[str, str]
) -> datetime | None:
    if not values.date:
        errors["date"] = "Pick the date to send it on."
    if not values.time:
        errors["time"] = "Pick the time to send it at."
    if not values.date or not values.time:
        return None
    try:
        local = datetime.combine(date.fromisoformat(values.date), time.fromisoformat(values.time))
    except ValueError:
        errors["time"] = "That date or time is not valid."
        return None
    moment = to_naive_utc(local.replace(tzinfo=zone(tz_name))).replace(second=0, microsecond=0)
    if moment <= now:
        errors["time"] = (
            f"That time has passed: it is now {local_label(now, tz_name, with_zone=False)} in {tz_name}. "
            "Pick a later time, or choose to send it now."
        )
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
        broadcast = Broadcast(status=DRAFT, created_at=utcnow(), revision=0, sent_count=0)
        session.add(broadcast)
    else:
        found = session.get(Broadcast, broadcast_id, with_for_update=True)
        if found is None or found.status != DRAFT:
            raise BroadcastClosed(
                "That broadcast was already sent, scheduled or cancelled, so it can't be edited; "
                "start a new one."
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
        _update_preview(session, broadcast, library)
    return broadcast


def composer_values(broadcast: Broadcast) -> ComposerValues:
    """A draft back in the composer (Edit)."""
    audience = Audience.from_json(broadcast.audience)
    local = None
    if broadcast.scheduled_for is not None:
        local = broadcast.scheduled_for.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone(broadcast.timezone))
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


def _update_preview(
    session: Session, broadcast: Broadcast, library: Library, note: str | None = None
) -> None:
    broadcast.revision = (broadcast.revision or 0) + 1
    session.flush()
    card = preview_card(session, broadcast, library, note)
    _edit(
        session,
        key=f"{preview_key(broadcast.id)}:{broadcast.revision}",
        original=preview_key(broadcast.id),
        text=blocks.preview_text(card),
        blocks=blocks.preview_blocks(card),
    )


def _edit(
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


# --- sending ----------------------------------------------------------------------------------------------


def _claim(
    session: Session, broadcast_id: int, from_states: Sequence[str], to_state: str, **values: Any
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
        if not _claim(session, broadcast_id, [DRAFT], SCHEDULED):
            return None
        session.refresh(broadcast)
        _update_preview(session, broadcast, library, note="It's listed in your Adoptbot Home tab too.")
        return broadcast
    if not _claim(session, broadcast_id, [DRAFT], SENDING, started_at=now):
        return None
    session.refresh(broadcast)
    fan_out(session, broadcast, now=now, library=library)
    return broadcast


def cancel(session: Session, broadcast_id: int, *, now: datetime, library: Library) -> bool:
    """Cancel a draft or a scheduled broadcast (nothing has been sent); False if it is too late."""
    if not _claim(session, broadcast_id, [DRAFT, SCHEDULED], CANCELLED, cancelled_at=now):
        return False
    broadcast = session.get(Broadcast, broadcast_id, populate_existing=True)
    assert broadcast is not None
    note = f"Cancelled {local_label(now, broadcast.timezone)}. Nothing was sent."
    _update_preview(session, broadcast, library, note=note)
    return True


def fan_out(session: Session, broadcast: Broadcast, *, now: datetime, library: Library) -> int:
    """Recipients and one queued DM each (insert-ignore: a re-run adds nothing twice), the channel post,
    and the sender's status message. Returns how many DMs were queued."""
    audience = Audience.from_json(broadcast.audience)
    people = session.execute(
        select(Person.id, Person.team_id, Person.slack_user_id)
        .where(audience.matches(), _reachable(), Person.erased_at.is_(None))
        .order_by(Person.id)
    ).all()
    size = audience_size(session, audience)
    note = letter(session, broadcast)
    queued_at = utcnow()
    text = blocks.letter_text(note)
    letter_blocks = blocks.letter_blocks(note)
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
                for pid, team, _ in chunk
            ],
            conflict=["broadcast_id", "person_id"],
        )
        queued += outbox.enqueue_many(
            session,
            [
                outbox.NewMessage(
                    key=recipient_key(broadcast.id, pid),
                    kind=KIND,
                    channel=str(user),  # _reachable(): never None
                    text=text,
                    blocks=letter_blocks,
                    person_id=pid,
                    not_before=queued_at,
                    metadata={"broadcast_id": broadcast.id},
                )
                for pid, _, user in chunk
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
    if broadcast.channel:
        outbox.enqueue(
            session,
            key=channel_key(broadcast.id),
            kind=CHANNEL_KIND,
            channel=broadcast.channel,
            text=blocks.letter_text(note),
            blocks=blocks.channel_blocks(note),
            not_before=queued_at - AHEAD,
        )
    progress = measure(session, broadcast)
    if progress.done:
        _finish(broadcast, now)
    broadcast.status_line = blocks.progress_line(progress)
    broadcast.status_at = queued_at
    outbox.enqueue(  # ahead of the DMs, so the sender sees it first; also wakes the outbox on commit
        session,
        key=status_key(broadcast.id),
        kind=STATUS_KIND,
        channel=broadcast.sender_user or "",
        text=blocks.status_text(progress),
        blocks=blocks.status_blocks(progress, updated=local_label(queued_at, broadcast.timezone)),
        person_id=broadcast.sender_id,
        not_before=queued_at - 2 * AHEAD,
    )
    _update_preview(
        session,
        broadcast,
        library,
        note=f"Sending started {local_label(now, broadcast.timezone)}; "
        "the status message below shows how far it got.",
    )
    log.info("broadcast %s: %d queued, %d skipped", broadcast.id, queued, size.skipped)
    return queued


def _finish(broadcast: Broadcast, now: datetime) -> None:
    broadcast.status = SENT
    broadcast.finished_at = now


# --- progress ---------------------------------------------------------------------------------------------


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
    waiting = states.get(outbox_store.PENDING, 0) + states.get(outbox_store.SENDING, 0)
    refused = states.get(outbox_store.FAILED, 0) + states.get(outbox_store.SKIPPED, 0)
    return Progress(
        broadcast_id=broadcast.id,
        excerpt=blocks.excerpt(broadcast.text),
        audience=(broadcast.recipient_count or 0) + excluded,
        delivered=states.get(outbox_store.SENT, 0),
        unreachable=excluded + refused,
        acked=int(acked or 0),
        ask_ack=broadcast.ask_ack,
        done=waiting == 0 and broadcast.status in (SENDING, SENT),
    )


def refresh_status(session: Session, broadcast: Broadcast, *, now: datetime, defer: bool = False) -> bool:
    """Edit the sender's status message if what it says has changed; finish the broadcast when done.

    `defer`: at most one edit per STATUS_EVERY; a later one is queued for then (the newest text wins)."""
    progress = measure(session, broadcast)
    if progress.done and broadcast.status == SENDING:
        _finish(broadcast, now)
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
    edited = _edit(
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


def _on_delivered(session: Session, message: OutboxMessage) -> None:
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


outbox.on_sent(KIND, _on_delivered)


# --- acknowledging ----------------------------------------------------------------------------------------


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
    local = now.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone(person.effective_timezone(settings.timezone)))
    acked_on = f"{local:%a} {local.day} {local:%b}, {local:%H:%M}"
    _edit(
        session,
        key=f"broadcast-ack:{broadcast_id}:{person.id}",
        original=recipient_key(broadcast_id, person.id),
        text=blocks.letter_text(note),
        blocks=blocks.letter_blocks(note, acked_on=acked_on),
    )
    if done[0] is not None:
        _edit(
            session,
            key=f"broadcast-ack-remind:{broadcast_id}:{person.id}",
            original=reminder_key(broadcast_id, person.id),
            text=blocks.reminder_text(note),
            blocks=blocks.reminder_blocks(note, acked_on=acked_on),
        )
    session.execute(select(Broadcast.id).where(Broadcast.id == broadcast_id).with_for_update())
    session.refresh(broadcast)
    if (
        broadcast.status == SENT
        or broadcast.status_at is None
        or utcnow() - broadcast.status_at >= STATUS_EVERY
    ):
        refresh_status(session, broadcast, now=now, defer=True)
    return True


# --- scheduled work ---------------------------------------------------------------------------------------


def send_due(session: Session, *, now: datetime, library: Library) -> int:
    """Fan out scheduled broadcasts whose time has come (each once, whoever ticks)."""
    due = session.scalars(
        select(Broadcast.id)
        .where(Broadcast.status == SCHEDULED, Broadcast.scheduled_for <= now)
        .order_by(Broadcast.scheduled_for, Broadcast.id)
    ).all()
    queued = 0
    for broadcast_id in due:
        if _claim(session, broadcast_id, [SCHEDULED], SENDING, started_at=now):
            broadcast = session.get(Broadcast, broadcast_id, populate_existing=True)
            assert broadcast is not None
            queued += fan_out(session, broadcast, now=now, library=library)
    return queued


def update_progress(session: Session, *, now: datetime) -> int:
    """Bring status messages up to date, and finish broadcasts whose last DMs failed rather than sent."""
    for broadcast in session.scalars(select(Broadcast).where(Broadcast.status == SENDING).with_for_update()):
        refresh_status(session, broadcast, now=now)
    return 0


def send_reminders(session: Session, *, now: datetime) -> int:
    """Once per person: remind recipients who got the DM but haven't pressed "Got it" after N days."""
    queued = 0
    candidates = session.scalars(
        select(Broadcast).where(
            Broadcast.ask_ack.is_(True),
            Broadcast.ack_reminder_days.is_not(None),
            Broadcast.status.in_((SENDING, SENT)),
            Broadcast.started_at.is_not(None),
            Broadcast.started_at > now - REMINDER_WINDOW - timedelta(days=max(blocks.REMINDER_CHOICES)),
        )
    ).all()
    for broadcast in candidates:
        assert broadcast.started_at is not None and broadcast.ack_reminder_days is not None
        if broadcast.started_at + timedelta(days=broadcast.ack_reminder_days) > now:
            continue
        waiting = session.execute(
            select(BroadcastRecipient.id, Person.id, Person.slack_user_id)
            .join(Person, Person.id == BroadcastRecipient.person_id)
            .join(OutboxMessage, OutboxMessage.key == BroadcastRecipient.outbox_key)
            .where(
                BroadcastRecipient.broadcast_id == broadcast.id,
                BroadcastRecipient.acked_at.is_(None),
                BroadcastRecipient.reminded_at.is_(None),
                OutboxMessage.state == outbox_store.SENT,
                _reachable(),
                Person.erased_at.is_(None),
            )
        ).all()
        if not waiting:
            continue
        note = letter(session, broadcast)
        text, body = blocks.reminder_text(note), blocks.reminder_blocks(note)
        for _, person_id, user in waiting:
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


def _send_job(ctx: JobContext) -> int:
    return send_due(ctx.session, now=ctx.now, library=ctx.library)


def _progress_job(ctx: JobContext) -> int:
    return update_progress(ctx.session, now=ctx.now)


def _remind_job(ctx: JobContext) -> int:
    return send_reminders(ctx.session, now=ctx.now)


register_job("broadcasts.send", _send_job)
register_job("broadcasts.progress", _progress_job)
register_job("broadcasts.remind", _remind_job)


# --- App Home ---------------------------------------------------------------------------------------------

HOME_SCHEDULED = 5
HOME_RECENT = 3


def home_items(
    session: Session, *, timezone: str, recent_limit: int = HOME_RECENT
) -> tuple[list[HomeItem], list[HomeItem], int]:
    """(scheduled broadcasts, soonest first; the latest ones sent; how many more are scheduled)."""
    scheduled = session.scalars(
        select(Broadcast).where(Broadcast.status == SCHEDULED).order_by(Broadcast.scheduled_for, Broadcast.id)
    ).all()
    recent = session.scalars(
        select(Broadcast)
        .where(Broadcast.status.in_((SENDING, SENT)))
        .order_by(Broadcast.started_at.desc(), Broadcast.id.desc())
        .limit(recent_limit)
    ).all()
    names = _sender_names(session, [*scheduled[:HOME_SCHEDULED], *recent])
    upcoming = []
    for b in scheduled[:HOME_SCHEDULED]:
        assert b.scheduled_for is not None
        size = audience_size(session, Audience.from_json(b.audience))
        upcoming.append(
            HomeItem(
                b.id,
                blocks.excerpt(b.text),
                local_label(b.scheduled_for, timezone),
                names.get(b.id),
                blocks.reach_line(size.reach, size.skipped),
            )
        )
    sent = [
        HomeItem(
            b.id,
            blocks.excerpt(b.text, 60),
            local_label(b.started_at or b.created_at, timezone, with_zone=False),
            names.get(b.id),
            b.status_line or "",
        )
        for b in recent
    ]
    return upcoming, sent, max(0, len(scheduled) - HOME_SCHEDULED)


def _sender_names(session: Session, found: Sequence[Broadcast]) -> dict[int, str]:
    wanted = {b.sender_id for b in found if b.sender_id is not None}
    if not wanted:
        return {}
    names = dict(
        session.execute(
            select(Person.id, Person.name).where(Person.id.in_(wanted), Person.erased_at.is_(None))
        ).all()
    )
    return {
        b.id: blocks.excerpt(names[b.sender_id], 60)
        for b in found
        if b.sender_id is not None and names.get(b.sender_id)
    }


# --- who acknowledged -------------------------------------------------------------------------------------


def ack_report(session: Session, broadcast_id: int, *, names: int = 40) -> AckReport | None:
    """A sent broadcast's figures, acknowledgements per team, and who has not acknowledged yet (by name)."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status not in (SENDING, SENT):
        return None
    acked = case((BroadcastRecipient.acked_at.is_not(None), 1), else_=0)
    by_team = session.execute(
        select(func.coalesce(Team.name, "No team"), func.count(), func.sum(acked))
        .select_from(BroadcastRecipient)
        .outerjoin(Team, Team.id == BroadcastRecipient.team_id)
        .where(BroadcastRecipient.broadcast_id == broadcast_id)
        .group_by(Team.name)
        .order_by(Team.name)
    ).all()
    waiting = (
        select(Person.name)
        .join(BroadcastRecipient, BroadcastRecipient.person_id == Person.id)
        .join(OutboxMessage, OutboxMessage.key == BroadcastRecipient.outbox_key)
        .where(
            BroadcastRecipient.broadcast_id == broadcast_id,
            BroadcastRecipient.acked_at.is_(None),
            OutboxMessage.state == outbox_store.SENT,
            Person.erased_at.is_(None),
        )
    )
    listed = list(session.scalars(waiting.order_by(Person.name).limit(names)))
    total = int(session.scalar(select(func.count()).select_from(waiting.subquery())) or 0)
    return AckReport(
        progress=measure(session, broadcast),
        teams=[TeamAcks(blocks.excerpt(str(team), 60), int(n), int(a or 0)) for team, n, a in by_team],
        waiting=[blocks.excerpt(n or "(no name)", 60) for n in listed],
        waiting_more=max(0, total - len(listed)),
    )
