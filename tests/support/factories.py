"""Test data, written straight into the database the way the product stores it: teams, people, pulse runs
and wins.

Plain functions on a session. They add and flush (so ids are set) and never commit: the caller owns the
transaction, as in the product (`with session_scope(engine) as session: add_person(session, "U1")`, or
`session.commit()` on the `session` fixture before a server or another connection reads the rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Person, PulseRun, Team, TeamLead, Win


def add_team(session: Session, name: str, **fields: Any) -> Team:
    """The team called `name`, created (with `fields`, e.g. `created_at`) if there is none yet."""
    found = session.scalars(select(Team).where(Team.name == name)).first()
    if found is None:
        found = Team(name=name, **fields)
        session.add(found)
        session.flush()
    return found


def add_person(
    session: Session,
    user_id: str,
    *,
    team: str | Team | None = "Sales EMEA",
    role: str | None = "sales",
    name: str = "",
    timezone: str | None = None,
    change_manager: bool = False,
    leads: Iterable[str] = (),
    leads_all: bool = False,
    active: bool = True,
    **fields: Any,
) -> Person:
    """A person on the roster: in `team` (a name, created if needed, a Team, or None), named `name` (default:
    the user ID in lower case), leading the teams named in `leads`. `fields`: any other Person column
    (`created_at`, `email`, `paused_until`, `unreachable_reason`, ...)."""
    in_team = _team_of(session, team)
    person = Person(
        slack_user_id=user_id,
        name=name or user_id.lower(),
        team_id=in_team.id if in_team else None,
        role=role,
        timezone=timezone,
        is_change_manager=change_manager,
        leads_all=leads_all,
        is_active=active,
        **fields,
    )
    session.add(person)
    session.flush()
    for led in leads:
        session.add(TeamLead(person_id=person.id, team_id=add_team(session, led).id))
    session.flush()
    return person


def add_people(
    session: Session,
    n: int,
    *,
    team: str = "Sales EMEA",
    prefix: str = "U",
    start: int = 0,
    role: str | None = "sales",
    **fields: Any,
) -> list[Person]:
    """`n` people of one team, user IDs `<prefix><first 3 letters of the team, upper case><5 digits>` from
    `start` (`USAL00000`, `USAL00001`, ...), named like their ID in lower case. `fields` as for add_person."""
    in_team = add_team(session, team)
    people = [
        Person(
            slack_user_id=user_id,
            name=user_id.lower(),
            team_id=in_team.id,
            role=role,
            **fields,
        )
        for user_id in (f"{prefix}{team[:3].upper()}{i:05d}" for i in range(start, start + n))
    ]
    session.add_all(people)
    session.flush()
    return people


def user_ids(people: Iterable[Person]) -> list[str]:
    """The Slack user IDs of `people` (as add_people returns them), in order."""
    return [str(p.slack_user_id) for p in people]


def pulse_run(
    session: Session,
    opened_at: datetime,
    *,
    closed: bool = False,
    days: int = 7,
    survey_id: str = "adkar",
    **fields: Any,
) -> PulseRun:
    """A pulse run opened at `opened_at`, closing `days` later (and closed then if `closed`)."""
    closes_at = opened_at + timedelta(days=days)
    run = PulseRun(
        survey_id=survey_id,
        opened_at=opened_at,
        closes_at=closes_at,
        closed_at=closes_at if closed else None,
        **fields,
    )
    session.add(run)
    session.flush()
    return run


def add_win(
    session: Session,
    author: Person | None,
    *,
    at: datetime,
    hours: float,
    status: str = "approved",
    what: str = "Drafted the QBR deck with AI",
    **fields: Any,
) -> Win:
    """A win by `author` (their team unless `team_id` is given), submitted at `at`, saving `hours` a week."""
    fields.setdefault("team_id", author.team_id if author else None)
    win = Win(
        author_id=author.id if author else None,
        what=what,
        hours_per_week=hours,
        status=status,
        submitted_at=at,
        **fields,
    )
    session.add(win)
    session.flush()
    return win


def _team_of(session: Session, which: str | Team | None) -> Team | None:
    if which is None or isinstance(which, Team):
        return which
    return add_team(session, which)
