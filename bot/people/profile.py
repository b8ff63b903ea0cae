"""A person's own profile: role and team (picked in Slack), what App Home shows, the welcome for newcomers.

Slack-free: plain functions of a session and arguments. The rules:
- A person picks their role from the content library. Their team is what the roster says: only someone
  the roster gave no team picks one, from the teams that exist (created by change managers through the
  roster, never typed in by hand, so `Sales` and `sales team` cannot split one team's figures in two).
  A team picked that way counts for nudges and broadcasts but never for survey invitations (see
  `TeamSource`): otherwise colleagues could join a small team and work out its last member's answers
  from the team's figures.
- Somebody who joins the workspace (`team_join`) gets a Person row at once, *inactive* until they have
  both a role and a team. Every fan-out (nudges, pulses, broadcasts) and every metric counts active
  people only, and all of them assume an active person has a team and a role, exactly as a roster import
  guarantees. Picking role and team in the modal makes such a newcomer active, never someone a pruning
  import or Slack deactivated (`Person.deactivated_by`): only the roster brings them back.
- Someone already on the roster by email (imported before they had a Slack account) is matched by email
  on `team_join` and keeps the team and role the roster gave them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, cast

from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.config import Settings
from bot.content import Library
from bot.errors import UsageError
from bot.i18n import N_, format_short_day, weekday_name
from bot.i18n import gettext as _
from bot.models import Person, Team, TeamSource
from bot.people.locale import person_locale
from bot.people.slack_sync import apply_slack_user, is_human

ProfileField = Literal["role", "team"]

WELCOME_KIND = "welcome"
# Built once, from Core columns rather than ORM attributes (a third of the cost): the team menu is on
# every role modal.
_TEAMS = cast(Table, Team.__table__)
_TEAM_CHOICES = select(_TEAMS.c.id, _TEAMS.c.name).where(_TEAMS.c.retired_at.is_(None))


class ProfileError(UsageError):
    """A profile choice that cannot be saved; `field` says which input it is about."""

    def __init__(self, field: ProfileField, message: str) -> None:
        super().__init__(message)
        self.field: ProfileField = field


@dataclass(frozen=True)
class ProfileSummary:
    """What App Home shows a person about themselves."""

    user_id: str
    known: bool  # a Person row exists
    name: str
    role_id: str | None
    role_name: str | None
    team_name: str | None
    timezone: str
    timezone_source: Literal["roster", "slack", "organisation"]
    nudges: str  # one line: when nudges come, or why they do not
    team_id: int | None = None
    team_locked: bool = False  # the roster (or a change manager) set the team: not theirs to change
    deactivated: bool = False  # the roster or Slack deactivated them: nothing to set up
    lang: str | None = None  # their language (role names are in it); None: not known to Adoptbot

    @property
    def complete(self) -> bool:
        return self.role_id is not None and self.team_name is not None


def team_choices(session: Session | Connection) -> list[tuple[str, str]]:
    """(team id as text, team name) for every team still in use (not retired), by name: the choices of
    the team menu."""
    teams = session.execute(_TEAM_CHOICES).all()
    return sorted(((str(id_), name) for id_, name in teams), key=lambda c: c[1].casefold())


# How old the team menu of a role modal may be. Teams come from `adoptbot roster import` (another process,
# often another machine), a few times a year; a modal opens on every click of "Pick my role and team".
TEAM_MENU_MAX_AGE = 30.0  # seconds


class TeamMenu:
    """The team menu's choices, read from the database at most once every `max_age` seconds per process.

    A team imported a moment ago shows in menus within `max_age`; a modal that still offers a team since
    removed gets an inline error on submit (`set_role_and_team` checks the database), never a wrong save.
    Thread-safe: the choices are replaced whole; two threads that find them old at once each read them.
    """

    def __init__(self, max_age: float = TEAM_MENU_MAX_AGE, clock: Callable[[], float] = time.monotonic):
        self.max_age = max_age
        self._clock = clock
        self._cached: tuple[float, tuple[tuple[str, str], ...]] | None = None

    def choices(
        self, connection: Callable[[], Session | Connection], *, fresh: bool = False
    ) -> Sequence[tuple[str, str]]:
        """The choices, read through `connection()` when they are older than `max_age` (or `fresh`)."""
        now = self._clock()
        cached = self._cached
        if not fresh and cached is not None and now - cached[0] < self.max_age:
            return cached[1]
        choices = tuple(team_choices(connection()))
        self._cached = (now, choices)
        return choices


def role_choices(library: Library) -> list[tuple[str, str]]:
    """(role id, role name) for every role in the content library, by name."""
    return sorted(((r.id, r.name) for r in library.roles.values()), key=lambda c: c[1].casefold())


NOT_ON_ROSTER = N_(
    "You're no longer on Adoptbot's active roster, so there is nothing to set up here. "
    "If that's a mistake, ask a change manager to add you back."
)
TEAM_FROM_ROSTER = N_("Your team comes from the roster; ask a change manager if it's wrong.")


def set_role_and_team(
    session: Session,
    *,
    slack_user_id: str,
    role_id: str | None,
    team_id: str | None,
    library: Library,
    name: str = "",
    by_change_manager: bool = False,
) -> Person:
    """Save a person's own choice of role, and of team when the roster gave them none (creating their
    record if Adoptbot has none). `by_change_manager`: the person choosing is a change manager, whose
    choice of team counts as an administrator's.

    `team_id` may only be None when no team exists yet (then the role alone is saved and the person stays
    inactive) or when the team is the roster's (then it stays). A newcomer with role and team becomes
    active; someone the roster or Slack deactivated is refused (NOT_ON_ROSTER). Raises ProfileError naming
    the field at fault; changes nothing then.
    """
    person = session.scalars(select(Person).where(Person.slack_user_id == slack_user_id)).first()
    if person is not None and person.erased_at is not None:
        raise ProfileError(
            "role", _("Your data was erased at your request; ask a change manager to add you again.")
        )
    if person is not None and not person.is_active and person.deactivated_by is not None:
        raise ProfileError("role", _(NOT_ON_ROSTER))
    if not role_id or role_id not in library.roles:
        raise ProfileError("role", _("Pick one of the roles in the list."))
    locked = person is not None and person.team_id is not None and person.team_source != TeamSource.SELF
    team: Team | None = None
    if locked:
        assert person is not None
        if team_id and team_id != str(person.team_id):
            raise ProfileError("team", _(TEAM_FROM_ROSTER))
    elif team_id:
        team = session.get(Team, int(team_id)) if team_id.isdigit() else None
        if team is None or team.retired_at is not None:
            raise ProfileError("team", _("That team no longer exists; pick another one."))
    elif session.scalars(select(Team.id).limit(1)).first() is not None:
        raise ProfileError("team", _("Pick your team."))
    if person is None:
        person = Person(slack_user_id=slack_user_id, name=name[:200], is_active=False)
        session.add(person)
    person.role = role_id
    if team is not None:
        person.team = team
        person.team_source = TeamSource.CHANGE_MANAGER if by_change_manager else TeamSource.SELF
    if person.role and person.team is not None and person.deactivated_by is None:
        person.is_active = True
    session.flush()
    return person


def welcome_member(
    session: Session, user: Mapping[str, Any], *, now: datetime | None = None
) -> Person | None:
    """Record a newcomer from a Slack `team_join` user object; None for bots and deactivated accounts.

    A person the roster already knows by email is linked to their Slack ID (and keeps team and role);
    anybody else is added inactive until they pick a role and team. None too for someone the roster
    deactivated: linked, but not welcomed nor invited to set anything up.
    """
    if not is_human(user) or not user.get("id") or user.get("deleted"):
        return None
    user_id = str(user["id"])
    apply_slack_user(session, user, now=now)  # links a roster entry known by email, fills tz, name, away
    person = session.scalars(select(Person).where(Person.slack_user_id == user_id)).first()
    if person is None:
        person = Person(slack_user_id=user_id, is_active=False)
        session.add(person)
        session.flush()
        apply_slack_user(session, user, now=now)  # now that the row exists: time zone, name, email, away
    if person.erased_at is not None or (not person.is_active and person.deactivated_by is not None):
        return None
    session.flush()
    return person


def welcome_key(user_id: str) -> str:
    """Outbox key of a person's welcome DM: one welcome per Slack user, ever."""
    return f"welcome:{user_id}"


def nudge_status(person: Person | None, settings: Settings, *, now: datetime | None = None) -> str:
    """One line on when this person gets nudges, or why they do not."""
    now = now or utcnow()
    today: date = now.date()
    if person is None or not person.role or person.team_id is None:
        return _("They start once you pick your role and team.")
    if not person.is_active:
        return _("Off: you are not on the active roster.")
    if person.unreachable_reason:
        return _("On hold: Slack would not let me message you. Ask a change manager.")
    if person.paused_until is not None and person.paused_until >= today:
        return _("Paused until {day}.").format(day=format_short_day(person.paused_until))
    if person.away_until is not None and person.away_until > now:
        return _("Paused while you are away (until {day}).").format(
            day=format_short_day(person.away_until.date())
        )
    if settings.nudges_per_week <= 0 or not settings.nudge_days:
        return _("Nudges are switched off for everyone at the moment.")
    days = [weekday_name(d, short=True) for d in settings.nudge_days]
    shown = (
        _("{first} and {last}").format(first=", ".join(days[:-1]), last=days[-1])
        if len(days) > 1
        else days[0]
    )
    per_week = min(settings.nudges_per_week, len(days))
    hour = f"{settings.nudge_hour:02d}:00"
    if per_week == 1:
        return _("Up to one a week, on {days} around {hour} your time.").format(days=shown, hour=hour)
    if per_week == 2:
        return _("Up to two a week, on {days} around {hour} your time.").format(days=shown, hour=hour)
    return _("Up to {n} a week, on {days} around {hour} your time.").format(n=per_week, days=shown, hour=hour)


def profile_summary(
    person: Person | None, user_id: str, settings: Settings, library: Library, *, now: datetime | None = None
) -> ProfileSummary:
    """The facts App Home shows a person about themselves."""
    if person is None:
        return ProfileSummary(
            user_id=user_id,
            known=False,
            name="",
            role_id=None,
            role_name=None,
            team_name=None,
            timezone=settings.timezone,
            timezone_source="organisation",
            nudges=nudge_status(None, settings, now=now),
        )
    lang = person_locale(person, settings)
    roles = library.localized(lang).roles  # the role's name in their language
    role = roles.get(person.role) if person.role else None
    source: Literal["roster", "slack", "organisation"] = (
        "roster" if person.timezone else "slack" if person.slack_timezone else "organisation"
    )
    return ProfileSummary(
        user_id=user_id,
        known=True,
        name=person.name,
        role_id=person.role if role is not None else None,
        role_name=role.name if role is not None else None,
        team_name=person.team.name if person.team is not None else None,
        timezone=person.effective_timezone(settings.timezone),
        timezone_source=source,
        nudges=nudge_status(person, settings, now=now),
        team_id=person.team.id if person.team is not None else None,
        team_locked=person.team is not None and person.team_source != TeamSource.SELF,
        deactivated=not person.is_active and person.deactivated_by is not None,
        lang=lang,
    )
