"""Who may do what. Slack-free: listeners, subcommands and App Home sections all ask here.

Three audiences:
- `everyone`: any Slack user of the workspace, even one Adoptbot has no record of yet;
- `change_manager`: people flagged `is_change_manager` (roster CSV) and everyone in ADOPTBOT_ADMINS;
- `leader`: people who lead at least one team (`leads` in the roster, `*` = all teams), and change
  managers too (they run the programme, so they may see what leaders see).
A deactivated or erased person keeps no rights (a pruning import or Slack's deactivation also clears the
flags, see `bot.people.roster.deactivate`), and nothing a person does in Slack gives them back: only the
roster does. ADOPTBOT_ADMINS always wins (it is how the first change manager gets in before any roster
exists; removing someone from it is how an installation takes that right away).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, cast, get_args

from sqlalchemy import Connection, Table, bindparam, exists, select
from sqlalchemy.orm import Session, object_session

from bot.config import Settings
from bot.i18n import gettext as _
from bot.models import Person, Team, TeamLead, TeamSource

Audience = Literal["everyone", "change_manager", "leader"]
AUDIENCES: Final[tuple[str, ...]] = get_args(Audience)

_AUDIENCE_NAMES: Final[dict[str, str]] = {
    "change_manager": "change managers",
    "leader": "team leaders and change managers",
}


def _in_good_standing(person: Person | None) -> bool:
    return person is not None and person.is_active and person.erased_at is None


def _is_admin(slack_id: str | None, settings: Settings) -> bool:
    return bool(slack_id) and slack_id in settings.admins


def is_change_manager(person: Person | None, settings: Settings, *, user_id: str | None = None) -> bool:
    """Flagged change manager, or listed in ADOPTBOT_ADMINS (by the person's or `user_id`'s Slack ID)."""
    slack_id = person.slack_user_id if person is not None else user_id
    if _is_admin(slack_id, settings):
        return True
    return person is not None and _in_good_standing(person) and person.is_change_manager


def is_leader(person: Person | None, *, leads_a_team: bool | None = None) -> bool:
    """Leads all teams (`leads = *`) or at least one team. `person` must be attached to a session, unless
    `leads_a_team` says whether they have TeamLead rows (see `acting_person`)."""
    if person is None or not _in_good_standing(person):
        return False
    if person.leads_all:
        return True
    if leads_a_team is not None:
        return leads_a_team
    session = object_session(person)
    if session is None:
        raise ValueError("is_leader() needs a person loaded in an open session")
    found = session.scalar(select(TeamLead.team_id).where(TeamLead.person_id == person.id).limit(1))
    return found is not None


def led_team_ids(session: Session, person: Person | None) -> list[int]:
    """IDs of the teams this person gets digests for, sorted; every team for `leads = *`."""
    if person is None or not _in_good_standing(person):
        return []
    if person.leads_all:
        return list(session.scalars(select(Team.id).order_by(Team.id)))
    query = select(TeamLead.team_id).where(TeamLead.person_id == person.id).order_by(TeamLead.team_id)
    return list(session.scalars(query))


def can_use(
    person: Person | None,
    audience: str,
    settings: Settings,
    *,
    user_id: str | None = None,
    leads_a_team: bool | None = None,
) -> bool:
    """Whether this person (or, with no record yet, this Slack user) belongs to `audience`."""
    if audience == "everyone":
        return True
    if audience == "change_manager":
        return is_change_manager(person, settings, user_id=user_id)
    if audience == "leader":
        return is_change_manager(person, settings, user_id=user_id) or is_leader(
            person, leads_a_team=leads_a_team
        )
    raise ValueError(f"unknown audience {audience!r}; expected one of {', '.join(AUDIENCES)}")


# Built once: it runs for every request from Slack (bot.slack.scope.listener_scope).
_ACTING_PERSON = select(Person, exists().where(TeamLead.person_id == Person.id)).where(
    Person.slack_user_id == bindparam("slack_user_id")
)


def acting_person(session: Session, slack_user_id: str | None) -> tuple[Person | None, bool]:
    """(the person with this Slack ID, whether they lead at least one team by name), in one query.

    None for someone Adoptbot has no record of, or whose data was erased.
    """
    if not slack_user_id:
        return None, False
    row = session.execute(_ACTING_PERSON, {"slack_user_id": slack_user_id}).first()
    if row is None or row[0].erased_at is not None:
        return None, False
    return row[0], bool(row[1])


@dataclass(frozen=True, slots=True)
class Principal:
    """What the permission rules (and a few light listeners) need to know about whoever is acting, read
    without loading the ORM `Person`: `acting_principal` is one Core query, `Principal.of` costs none."""

    user_id: str | None  # the Slack user ID of the request
    known: bool  # Adoptbot has a (not erased) record of this person
    in_good_standing: bool  # known, active and not erased
    flagged_change_manager: bool  # `change_manager = true` in the roster
    leads: bool  # `leads = *` or at least one team by name
    role: str | None = None
    team_id: int | None = None
    team_source: str | None = None  # a TeamSource: who set `team_id`
    deactivated_by: str | None = None  # a Deactivation: only the roster brings this person back
    locale: str | None = None  # the roster's language tag, else Slack's, as stored (`bot.people.locale`)

    @property
    def team_locked(self) -> bool:
        """The roster (or a change manager) set this person's team: they may not change it themselves."""
        return self.team_id is not None and self.team_source != TeamSource.SELF

    @classmethod
    def of(cls, person: Person | None, *, user_id: str | None, leads_a_team: bool | None) -> Principal:
        """The principal of an already loaded person (`leads_a_team` as from `acting_person`)."""
        if person is None:
            return cls.stranger(user_id)
        return cls(
            user_id=person.slack_user_id or user_id,
            known=True,
            in_good_standing=_in_good_standing(person),
            flagged_change_manager=person.is_change_manager,
            leads=is_leader(person, leads_a_team=leads_a_team),
            role=person.role,
            team_id=person.team_id,
            team_source=person.team_source,
            deactivated_by=None if person.is_active else person.deactivated_by,
            locale=person.locale or person.slack_locale,
        )

    @classmethod
    def stranger(cls, user_id: str | None) -> Principal:
        """Someone Adoptbot has no record of (or whose data was erased)."""
        return cls(
            user_id=user_id, known=False, in_good_standing=False, flagged_change_manager=False, leads=False
        )

    def can(self, audience: str, settings: Settings) -> bool:
        """The rules of `can_use`: ADOPTBOT_ADMINS always wins, otherwise only people in good standing."""
        if audience == "everyone":
            return True
        change_manager = _is_admin(self.user_id, settings) or (
            self.in_good_standing and self.flagged_change_manager
        )
        if audience == "change_manager":
            return change_manager
        if audience == "leader":
            return change_manager or (self.in_good_standing and self.leads)
        raise ValueError(f"unknown audience {audience!r}; expected one of {', '.join(AUDIENCES)}")


_people = cast(Table, Person.__table__)
_team_leads = cast(Table, TeamLead.__table__)
# Core, not ORM: a fifth of the cost of loading a Person, for requests that only need these facts.
_ACTING_PRINCIPAL = select(
    _people.c.is_active,
    _people.c.erased_at,
    _people.c.is_change_manager,
    _people.c.leads_all,
    exists().where(_team_leads.c.person_id == _people.c.id),
    _people.c.role,
    _people.c.team_id,
    _people.c.team_source,
    _people.c.deactivated_by,
    _people.c.locale,
    _people.c.slack_locale,
).where(_people.c.slack_user_id == bindparam("slack_user_id"))


def acting_principal(connection: Connection | Session, slack_user_id: str | None) -> Principal:
    """The principal of this Slack user, in one Core query (the same facts `acting_person` would give)."""
    if not slack_user_id:
        return Principal.stranger(slack_user_id)
    row = connection.execute(_ACTING_PRINCIPAL, {"slack_user_id": slack_user_id}).first()
    if row is None or row[1] is not None:
        return Principal.stranger(slack_user_id)
    active, _erased, flagged, leads_all, leads_a_team, role, team_id, team_source, deactivated_by = row[:9]
    roster_locale, slack_locale = row[9:]
    return Principal(
        user_id=slack_user_id,
        known=True,
        in_good_standing=bool(active),
        flagged_change_manager=bool(flagged),
        leads=bool(active) and (bool(leads_all) or bool(leads_a_team)),  # as `is_leader` says
        role=role,
        team_id=team_id,
        team_source=team_source,
        deactivated_by=None if active else deactivated_by,
        locale=roster_locale or slack_locale,
    )


def refusal_text(audience: str, what: str) -> str:
    """One short sentence for someone who may not use `what` (e.g. "`/adopt broadcast`")."""
    if audience not in _AUDIENCE_NAMES:
        raise ValueError(f"nobody is refused {what}: audience {audience!r} is open")
    if audience == "change_manager":
        return _("Sorry, {what} is only for change managers. Nothing was opened or sent.").format(what=what)
    return _(
        "Sorry, {what} is only for team leaders and change managers. Nothing was opened or sent."
    ).format(what=what)
