"""What change managers look up about broadcasts: the App Home list and `/adopt broadcast status [ID]`.

Read-only, for the listeners to render. Figures are those of the sender's status message
(`bot.broadcasts.status.measure`); "not acknowledged yet" names only people the DM reached, and never an
erased person.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot.broadcasts import blocks
from bot.broadcasts.audience import Audience, audience_size
from bot.broadcasts.blocks import AckReport, HomeItem, TeamAcks
from bot.broadcasts.status import measure
from bot.clock import local_label
from bot.i18n import gettext as _
from bot.models import Broadcast, BroadcastRecipient, BroadcastStatus, OutboxMessage, Person, Team
from bot.outbox import OutboxState

HOME_SCHEDULED = 5
HOME_RECENT = 3


def home_items(
    session: Session, *, timezone: str, recent_limit: int = HOME_RECENT
) -> tuple[list[HomeItem], list[HomeItem], int]:
    """(scheduled broadcasts, soonest first; the latest ones sent; how many more are scheduled)."""
    scheduled = session.scalars(
        select(Broadcast)
        .where(Broadcast.status == BroadcastStatus.SCHEDULED)
        .order_by(Broadcast.scheduled_for, Broadcast.id)
    ).all()
    recent = session.scalars(
        select(Broadcast)
        .where(Broadcast.status.in_((BroadcastStatus.SENDING, BroadcastStatus.SENT)))
        .order_by(Broadcast.started_at.desc(), Broadcast.id.desc())
        .limit(recent_limit)
    ).all()
    names = sender_names(session, [*scheduled[:HOME_SCHEDULED], *recent])
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


def sender_names(session: Session, found: Sequence[Broadcast]) -> dict[int, str]:
    """Each broadcast's sender by name (escaped, cut), for those whose sender is still on the roster."""
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


def ack_report(session: Session, broadcast_id: int, *, names: int = 40) -> AckReport | None:
    """A sent broadcast's figures, acknowledgements per team, and who has not acknowledged yet (by name)."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None or broadcast.status not in (BroadcastStatus.SENDING, BroadcastStatus.SENT):
        return None
    acked = case((BroadcastRecipient.acked_at.is_not(None), 1), else_=0)
    by_team = session.execute(
        select(func.coalesce(Team.name, _("No team")), func.count(), func.sum(acked))
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
            OutboxMessage.state == OutboxState.SENT,
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
