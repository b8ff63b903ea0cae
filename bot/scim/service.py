"""SCIM provisioning against the roster's tables: people are Users, teams are Groups.

The identity provider then owns people as a roster import would (`ADOPTBOT_PEOPLE_SOURCE=scim`):
- a User's `active: false` (or DELETE) deactivates the person exactly as a pruning import does, rights and
  led teams taken (`bot.people.roster.deactivate`); `active: true` brings them back without rights;
- the team is the Group the person is a member of, or the enterprise extension's `department` (a team of
  that name, created when new), whichever came last;
- the role is the `title` when it names a library role (its id or name, any case), else
  ADOPTBOT_DEFAULT_ROLE, else none (the person then picks one in Slack);
- the email links the person to their Slack account (`lookup`, Slack's users.lookupByEmail) at once, and
  `adoptbot roster sync` does it later for anyone Slack did not know yet.
Every request is one transaction: a refused one changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.content import Library
from bot.models import Deactivation, Person, Team, TeamSource
from bot.people.roster import deactivate
from bot.scim.resources import GroupChange, ScimError, UserFields, invalid

MAX_COUNT = 1000
Lookup = Callable[[str], "tuple[str, str | None] | None"]  # email -> (Slack user ID, workspace)

# SCIM attribute -> SQL, for filters (the transpiler compares case-insensitively).
USER_FILTERS: dict[tuple[str, str | None, str | None], str] = {
    ("userName", None, None): "COALESCE(people.scim_user_name, people.email)",
    ("externalId", None, None): "people.external_id",
    ("emails", "value", None): "people.email",
    ("emails", None, None): "people.email",
    ("displayName", None, None): "people.name",
}
GROUP_FILTERS: dict[tuple[str, str | None, str | None], str] = {
    ("displayName", None, None): "teams.name",
    ("externalId", None, None): "teams.name",
}


def _where(filter_text: str, columns: dict[tuple[str, str | None, str | None], str]) -> Any:
    """A SCIM filter as a SQL condition with bound values; 400 invalidFilter when it cannot be read."""
    from scim2_filter_parser.lexer import SCIMLexer
    from scim2_filter_parser.parser import SCIMParser
    from scim2_filter_parser.transpilers.sql import Transpiler

    try:
        tree = SCIMParser().parse(SCIMLexer().tokenize(filter_text))
        sql, params = Transpiler(columns).transpile(tree)
    except Exception:
        raise invalid(f"The filter {filter_text!r} cannot be read.", "invalidFilter") from None
    if not sql:
        raise invalid(f"The filter {filter_text!r} names no attribute Adoptbot filters on.", "invalidFilter")
    return text(sql.format(**{name: f":{name}" for name in params})).bindparams(**params)


def _page(session: Session, query: Any, start: int, count: int) -> tuple[list[Any], int]:
    total = int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    rows = list(session.execute(query.offset(max(start, 1) - 1).limit(max(0, min(count, MAX_COUNT)))))
    return rows, total


# --- users ------------------------------------------------------------------------------------------------


def users(
    session: Session, *, filter_text: str | None, start: int, count: int
) -> tuple[list[tuple[Person, Team | None]], int]:
    query = (
        select(Person, Team)
        .outerjoin(Team, Team.id == Person.team_id)
        .where(Person.erased_at.is_(None))
        .order_by(Person.id)
    )
    if filter_text:
        query = query.where(_where(filter_text, USER_FILTERS))
    rows, total = _page(session, query, start, count)
    return [(person, team) for person, team in rows], total


def user(session: Session, user_id: str) -> Person:
    person = session.get(Person, int(user_id)) if user_id.isdigit() else None
    if person is None or person.erased_at is not None:
        raise ScimError(404, f"User {user_id} not found.")
    return person


def _taken(session: Session, person_id: int | None, column: Any, value: str | None, what: str) -> None:
    if value is None:
        return
    other = session.scalar(
        select(Person.id).where(func.lower(column) == value.lower(), Person.id != (person_id or 0))
    )
    if other is not None:
        raise ScimError(409, f"Another user already has this {what}.", "uniqueness")


def role_for(title: str | None, library: Library, settings: Settings) -> str | None:
    if title:
        wanted = title.strip().casefold()
        for role in library.roles.values():
            if wanted in (role.id.casefold(), role.name.casefold()):
                return role.id
    default = settings.default_role
    return default if default in library.roles else None


def _team_named(session: Session, name: str) -> Team:
    found = session.scalar(select(Team).where(func.lower(Team.name) == name.casefold()))
    if found is None:
        found = Team(name=name[:120])
        session.add(found)
        session.flush()
    found.retired_at = None  # a department someone is in again is a team again
    return found


def create_user(
    session: Session,
    fields: UserFields,
    *,
    library: Library,
    settings: Settings,
    now: datetime,
    lookup: Lookup | None,
) -> Person:
    """A new person, or the roster's person of that email not yet provisioned (taken over, not doubled)."""
    _taken(session, None, func.coalesce(Person.scim_user_name, ""), fields.user_name, "userName")
    existing = None
    if fields.email:
        existing = session.scalar(
            select(Person).where(
                func.lower(Person.email) == fields.email,
                Person.scim_user_name.is_(None),
                Person.erased_at.is_(None),
            )
        )
    person = existing or Person(created_at=now, name="")
    if existing is None:
        session.add(person)
    _store(session, person, fields, library=library, settings=settings, now=now, lookup=lookup)
    return person


def replace_user(
    session: Session,
    person: Person,
    fields: UserFields,
    *,
    library: Library,
    settings: Settings,
    now: datetime,
    lookup: Lookup | None,
) -> Person:
    _taken(session, person.id, func.coalesce(Person.scim_user_name, ""), fields.user_name, "userName")
    _store(session, person, fields, library=library, settings=settings, now=now, lookup=lookup)
    return person


def _store(
    session: Session,
    person: Person,
    fields: UserFields,
    *,
    library: Library,
    settings: Settings,
    now: datetime,
    lookup: Lookup | None,
) -> None:
    session.flush()
    _taken(session, person.id, Person.email, fields.email, "email")
    person.scim_user_name = fields.user_name[:255]
    person.external_id = fields.external_id[:255] if fields.external_id else None
    person.name = fields.name
    if fields.email != person.email:
        person.email = fields.email
        person.slack_user_id = None if person.slack_user_id and fields.email else person.slack_user_id
    person.role = role_for(fields.title, library, settings) or person.role
    if fields.department:
        team = _team_named(session, fields.department)
        person.team_id, person.team_source = team.id, TeamSource.ROSTER.value
    person.updated_at = now
    session.flush()
    if fields.active and not person.is_active:
        person.is_active, person.deactivated_by = True, None  # back, with no rights: the roster gives those
    elif not fields.active and person.is_active:
        deactivate(session, [person.id], by=Deactivation.ROSTER, now=now)
        session.refresh(person)
    if person.slack_user_id is None and person.email and lookup is not None:
        found = lookup(person.email)
        if found and session.scalar(select(Person.id).where(Person.slack_user_id == found[0])) is None:
            person.slack_user_id, person.slack_workspace_id = found
    session.flush()


def delete_user(session: Session, person: Person, *, now: datetime) -> None:
    """DELETE: the person is deactivated as by a pruning import (their history stays, as with the roster)."""
    if person.is_active:
        deactivate(session, [person.id], by=Deactivation.ROSTER, now=now)
    person.scim_user_name = None  # the identity provider may create them again under the same userName
    session.flush()


# --- groups -----------------------------------------------------------------------------------------------


def groups(session: Session, *, filter_text: str | None, start: int, count: int) -> tuple[list[Team], int]:
    query = select(Team).where(Team.retired_at.is_(None)).order_by(Team.id)
    if filter_text:
        query = query.where(_where(filter_text, GROUP_FILTERS))
    rows, total = _page(session, query, start, count)
    return [team for (team,) in rows], total


def group(session: Session, group_id: str) -> Team:
    team = session.get(Team, int(group_id)) if group_id.isdigit() else None
    if team is None or team.retired_at is not None:
        raise ScimError(404, f"Group {group_id} not found.")
    return team


def members(session: Session, team: Team) -> list[tuple[int, str]]:
    rows = session.execute(
        select(Person.id, Person.name)
        .where(Person.team_id == team.id, Person.erased_at.is_(None), Person.is_active)
        .order_by(Person.id)
    )
    return [(pid, name) for pid, name in rows]


def create_group(session: Session, name: str | None, member_ids: tuple[int, ...], *, now: datetime) -> Team:
    if not name:
        raise invalid("displayName is required.")
    team = session.scalar(select(Team).where(func.lower(Team.name) == name.casefold()))
    if team is not None and team.retired_at is None:
        raise ScimError(409, f"A group named {name!r} exists already.", "uniqueness")
    if team is None:
        team = Team(name=name[:120], created_at=now)
        session.add(team)
    else:  # deleted before and created again: the same team, with its history
        team.name, team.retired_at = name[:120], None
    session.flush()
    change_group(session, team, [GroupChange(add=member_ids)], now=now)
    return team


def change_group(session: Session, team: Team, changes: list[GroupChange], *, now: datetime) -> None:
    """Rename the team, or move people into it and out of it (someone is in one team at a time)."""
    for change in changes:
        if change.name is not None and change.name != team.name:
            if session.scalar(
                select(Team.id).where(func.lower(Team.name) == change.name.casefold(), Team.id != team.id)
            ):
                raise ScimError(409, f"A group named {change.name!r} exists already.", "uniqueness")
            team.name = change.name[:120]
        if change.replace is not None:
            current = {pid for pid, _ in members(session, team)}
            _leave(session, team, current - set(change.replace), now)
            _join(session, team, set(change.replace) - current, now)
        _join(session, team, set(change.add), now)
        _leave(session, team, set(change.remove), now)
    session.flush()


def _people(session: Session, ids: set[int]) -> list[Person]:
    if not ids:
        return []
    found = list(session.scalars(select(Person).where(Person.id.in_(ids), Person.erased_at.is_(None))))
    missing = ids - {p.id for p in found}
    if missing:
        raise invalid(f"No user {min(missing)}.")
    return found


def _join(session: Session, team: Team, ids: set[int], now: datetime) -> None:
    for person in _people(session, ids):
        person.team_id, person.team_source, person.updated_at = team.id, TeamSource.ROSTER.value, now


def _leave(session: Session, team: Team, ids: set[int], now: datetime) -> None:
    for person in _people(session, ids):
        if person.team_id == team.id:
            person.team_id, person.updated_at = None, now


def delete_group(session: Session, team: Team, *, now: datetime) -> None:
    """DELETE: its members leave it and it is retired: no longer listed here, nor offered in Slack's and
    the dashboard's team menus. The row stays, with its history (past figures need it)."""
    _leave(session, team, {pid for pid, _ in members(session, team)}, now)
    team.retired_at = now
    session.flush()
