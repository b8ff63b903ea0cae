"""Who is looking at the dashboard, and what they may see: the same rules as in Slack.

The session cookie only names the person (their Slack user ID, signed); their rights are read again
from the database on every request, so a change manager the roster removed, or someone Slack deactivated,
loses access at once, even with a live cookie. Change managers see every team; leaders the teams they lead
(as their digest does); everyone else their own progress only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import Person, Team
from bot.permissions import is_change_manager, is_leader, led_team_ids


@dataclass(frozen=True)
class Viewer:
    person_id: int | None  # None: someone in ADOPTBOT_ADMINS who is not on the roster (yet)
    user_id: str
    name: str
    change_manager: bool
    leader: bool
    team_ids: tuple[int, ...]  # the teams whose figures they may see (every team for change managers)
    leads_all: bool

    @property
    def sees_teams(self) -> bool:
        return self.change_manager or self.leader

    @property
    def sees_organisation(self) -> bool:
        """Whether the whole organisation's row is theirs to read (change managers, leaders of every team)."""
        return self.change_manager or self.leads_all

    def may_see_team(self, team_id: int) -> bool:
        return team_id in self.team_ids


def find_person(session: Session, user_id: str) -> Person | None:
    return session.scalars(select(Person).where(Person.slack_user_id == user_id)).one_or_none()


def load_viewer(session: Session, settings: Settings, user_id: str) -> Viewer | None:
    """Who `user_id` is to the dashboard now, or None when they may not use it (not on the roster,
    deactivated, erased). Someone in ADOPTBOT_ADMINS is a change manager even before any roster exists,
    as in Slack, so the first change manager can sign in and upload the first roster."""
    person = find_person(session, user_id)
    admin = user_id in settings.admins
    if not admin and (person is None or not person.is_active or person.erased_at is not None):
        return None
    manager = admin or is_change_manager(person, settings)
    leader = manager or is_leader(person)
    if manager:
        teams = tuple(session.scalars(select(Team.id).order_by(Team.id)))
    else:
        teams = tuple(led_team_ids(session, person))
    usable = person is not None and person.erased_at is None
    return Viewer(
        person_id=person.id if usable and person is not None else None,
        user_id=user_id,
        name=person.name if usable and person is not None and person.name else user_id,
        change_manager=manager,
        leader=leader,
        team_ids=teams,
        leads_all=manager or bool(person is not None and person.leads_all),
    )
