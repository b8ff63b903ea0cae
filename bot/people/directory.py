"""Read-only views of the roster for admins: people with their teams and leads, teams with their members."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.errors import UsageError
from bot.models import Deactivation, Person, Team, TeamLead, TeamSource


@dataclass(frozen=True)
class PersonListing:
    slack_user_id: str | None
    email: str | None
    name: str
    team: str | None
    role: str | None
    timezone: str | None  # from the roster
    slack_timezone: str | None
    leads: tuple[str, ...]  # team names; "*" first when the person leads every team
    change_manager: bool
    active: bool
    away_until: datetime | None
    deactivated_by: str | None = None  # a Deactivation
    team_source: str | None = None  # a TeamSource
    tools: str | None = None  # the roster's, `;`-separated
    locale: str | None = None  # the roster's
    slack_locale: str | None = None

    @property
    def status(self) -> str:
        """Why someone is inactive, or that they chose their own team; empty for the usual case."""
        if not self.active:
            if self.deactivated_by == Deactivation.ROSTER:
                return "deactivated by the roster"
            if self.deactivated_by == Deactivation.SLACK:
                return "deactivated in Slack"
            return "inactive until they pick role and team"
        if self.team is not None and self.team_source == TeamSource.SELF:
            return "chose own team (no survey invitations)"
        return ""

    @property
    def label(self) -> str:
        return self.name or self.slack_user_id or self.email or "?"


@dataclass(frozen=True)
class TeamOverview:
    name: str
    members: int  # active
    inactive: int
    roles: Counter[str]
    timezones: Counter[str]  # effective time zone of active members
    leaders: tuple[str, ...]  # names of active people who lead this team by name (not via `*`)


def find_team(session: Session, name: str) -> Team:
    """The team called `name` (case-insensitive); UsageError naming the known teams otherwise."""
    teams = list(session.scalars(select(Team).order_by(Team.name)))
    for team in teams:
        if team.name.casefold() == name.strip().casefold():
            return team
    known = ", ".join(t.name for t in teams[:12]) + (", ..." if len(teams) > 12 else "")
    raise UsageError(f"no team named {name!r} (teams: {known or 'none yet; import a roster first'}).")


def list_people(
    session: Session, *, team: str | None = None, include_inactive: bool = False
) -> list[PersonListing]:
    """People ordered by team and name; only active ones unless `include_inactive`."""
    stmt = (
        select(Person, Team.name).outerjoin(Team, Person.team_id == Team.id).where(Person.erased_at.is_(None))
    )
    if team is not None:
        stmt = stmt.where(Person.team_id == find_team(session, team).id)
    if not include_inactive:
        stmt = stmt.where(Person.is_active.is_(True))
    rows = session.execute(stmt).all()
    leads: dict[int, list[str]] = {}
    for person_id, team_name in session.execute(
        select(TeamLead.person_id, Team.name).join(Team, TeamLead.team_id == Team.id).order_by(Team.name)
    ):
        leads.setdefault(person_id, []).append(team_name)
    listing = [
        PersonListing(
            slack_user_id=p.slack_user_id,
            email=p.email,
            name=p.name,
            team=team_name,
            role=p.role,
            timezone=p.timezone,
            slack_timezone=p.slack_timezone,
            leads=(("*",) if p.leads_all else ()) + tuple(leads.get(p.id, ())),
            change_manager=p.is_change_manager,
            active=p.is_active,
            away_until=p.away_until,
            deactivated_by=p.deactivated_by,
            team_source=p.team_source,
            tools=p.tools,
            locale=p.locale,
            slack_locale=p.slack_locale,
        )
        for p, team_name in rows
    ]
    listing.sort(key=lambda p: ((p.team or "").casefold(), p.label.casefold()))
    return listing


def team_overview(session: Session, *, default_timezone: str) -> list[TeamOverview]:
    """Every team with its active members broken down by role and time zone, and who leads it."""
    teams = {id_: name for id_, name in session.execute(select(Team.id, Team.name))}
    members: dict[int, list[tuple[str | None, str]]] = {id_: [] for id_ in teams}
    inactive: Counter[int] = Counter()
    for team_id, role, tz, slack_tz, active in session.execute(
        select(Person.team_id, Person.role, Person.timezone, Person.slack_timezone, Person.is_active).where(
            Person.team_id.is_not(None), Person.erased_at.is_(None)
        )
    ):
        if team_id is None:
            continue
        if active:
            members[team_id].append((role, tz or slack_tz or default_timezone))
        else:
            inactive[team_id] += 1
    leaders: dict[int, list[str]] = {}
    for team_id, name, slack_id in session.execute(
        select(TeamLead.team_id, Person.name, Person.slack_user_id)
        .join(Person, TeamLead.person_id == Person.id)
        .where(Person.is_active.is_(True))
        .order_by(Person.name)
    ):
        leaders.setdefault(team_id, []).append(name or slack_id or "?")
    overview = [
        TeamOverview(
            name=teams[id_],
            members=len(people),
            inactive=inactive[id_],
            roles=Counter(role or "-" for role, _ in people),
            timezones=Counter(tz for _, tz in people),
            leaders=tuple(leaders.get(id_, ())),
        )
        for id_, people in members.items()
    ]
    overview.sort(key=lambda t: t.name.casefold())
    return overview


def org_wide_leaders(session: Session) -> list[str]:
    """Names of active people who lead every team (`leads = *`)."""
    rows = session.execute(
        select(Person.name, Person.slack_user_id, Person.email)
        .where(Person.leads_all.is_(True), Person.is_active.is_(True))
        .order_by(Person.name)
    )
    return [name or slack_id or email or "?" for name, slack_id, email in rows]


def counted(counter: Counter[str], *, limit: int = 3) -> str:
    """`sales 18, operations 2, +1 more`: the most common values first."""
    items = counter.most_common()
    shown = ", ".join(f"{value} {count}" for value, count in items[:limit])
    return shown + (f", +{len(items) - limit} more" if len(items) > limit else "")


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain monospaced table for the terminal: a header, a rule, then one line per row."""
    cells = [[str(h) for h in headers], *[["" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths).rstrip())
    return "\n".join(lines)
