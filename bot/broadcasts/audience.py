"""Who a broadcast is for, and who of them it can reach.

An audience is stored as JSON on the broadcast and resolved to people only when it is sent, so people who
join a team or change role between composing and sending are counted as they are then. It is a union:
someone in a chosen team *or* with a chosen role gets it, once. Only people who are active, have a Slack
account and can get DMs are reached; the others in the audience are counted as skipped, never dropped
silently, and erased people are neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, false, func, or_, select, true
from sqlalchemy.orm import Session

from bot.broadcasts import blocks
from bot.content import Library
from bot.i18n import gettext as _
from bot.models import Person, Team


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


def reachable() -> ColumnElement[bool]:
    """People a DM can reach: active, with a Slack account, not marked unreachable."""
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
    reached = func.coalesce(func.sum(case((reachable(), 1), else_=0)), 0)
    row = session.execute(
        select(reached, func.count()).where(audience.matches(), Person.erased_at.is_(None))
    ).one()
    return AudienceSize(reach=int(row[0]), skipped=int(row[1]) - int(row[0]))


def audience_label(session: Session, audience: Audience, library: Library) -> str:
    """ "Everyone", or "Teams: Sales, Support · Roles: Engineering" (escaped)."""
    if audience.everyone:
        return _("Everyone")
    parts = []
    if audience.teams:
        teams = session.scalars(select(Team.name).where(Team.id.in_(audience.teams)).order_by(Team.name))
        parts.append(_("Teams: {names}").format(names=", ".join(blocks.excerpt(n, 60) for n in teams)))
    if audience.roles:
        names = sorted(library.roles[r].name if r in library.roles else r for r in audience.roles)
        parts.append(_("Roles: {names}").format(names=", ".join(blocks.excerpt(n, 60) for n in names)))
    return " · ".join(parts) or _("Nobody")
