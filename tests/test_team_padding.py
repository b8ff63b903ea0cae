"""Team membership cannot be padded: a team is what the roster (or a change manager) says, survey
invitations go only to people an administrator put in their team, and figures use the team of the
invitation, so joining a small team never reveals what its members answered."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot import clock
from bot.config import Settings
from bot.db import session_scope
from bot.models import Person, PulseInvitation, Team, TeamSource
from bot.pulses import service as pulses
from bot.slack import ids
from tests.support import signing
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_pulses import OPEN, answer, metrics_row, open_run, raw

TEAM_FROM_ROSTER = "Your team comes from the roster; ask a change manager if it's wrong."


def submit_role(server: SlackAppServer, user_id: str, role: str, team_id: int | None) -> tuple[int, Any]:
    """The role modal's submission as Slack signs it, with a team menu in the modal (even a forged one)."""
    state: dict[str, dict[str, Any]] = {ids.ROLE_BLOCK: {ids.ROLE_SELECT: signing.selected_option(role)}}
    blocks: list[dict[str, Any]] = [{"type": "input", "block_id": ids.ROLE_BLOCK}]
    if team_id is not None:
        state[ids.TEAM_BLOCK] = {ids.TEAM_SELECT: signing.selected_option(str(team_id))}
        blocks.append({"type": "input", "block_id": ids.TEAM_BLOCK})
    return server.interact(signing.view_submission_payload(user_id, ids.ROLE_MODAL, state, blocks=blocks))


def person(engine: Engine, user_id: str) -> Person:
    with Session(engine) as session:
        return session.scalars(select(Person).where(Person.slack_user_id == user_id)).one()


def team_id(session: Session, name: str) -> int:
    found = session.scalars(select(Team.id).where(Team.name == name)).one()
    session.commit()  # ends the read: on SQLite every transaction takes the write lock
    return found


def test_the_role_modal_shows_the_roster_team_and_only_the_role_can_change(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP", team="Sales EMEA", role="sales")
    add_person(session, "U0TINY", team="Tiny", role="legal")
    tiny = team_id(session, "Tiny")
    with SlackAppServer(slack_settings, engine) as server:
        server.command("role", user_id="U0EMP")
        call = wait_for(lambda: fake_slack.calls_to("views.open", ok=True), what="the role modal")[-1]
        view = call.params["view"]
        forged = submit_role(server, "U0EMP", "engineering", tiny)
        after_forged = person(engine, "U0EMP")
        saved = submit_role(server, "U0EMP", "engineering", None)
    assert all(b.get("block_id") != ids.TEAM_BLOCK for b in view["blocks"])  # no team menu
    assert "Your team: *Sales EMEA*. It comes from the roster" in json.dumps(view["blocks"])
    assert forged == (200, {"response_action": "errors", "errors": {ids.TEAM_BLOCK: TEAM_FROM_ROSTER}})
    assert (after_forged.role, after_forged.team_id) == ("sales", person(engine, "U0EMP").team_id)
    assert saved == (200, {})
    moved = person(engine, "U0EMP")
    assert (moved.role, moved.team_id != tiny, moved.team_source) == ("engineering", True, TeamSource.ROSTER)


def test_joining_a_small_team_through_the_modal_cannot_pad_its_survey_figures(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    """Four colleagues and two newcomers try to join Tiny (3 people), answer 5s, and read Tiny's mean."""
    s = dataclasses.replace(slack_settings, secret="test-secret", min_group_size=3)
    victims = [add_person(session, f"U0TINY{i}", team="Tiny", role="legal").id for i in range(3)]
    attackers = [add_person(session, f"U0ALPHA{i}", team="Alpha", role="sales").id for i in range(4)]
    for i in range(2):
        add_person(session, f"U0NEW{i}", team=None, role=None, active=False)  # joined Slack, no roster team
    tiny = team_id(session, "Tiny")
    with SlackAppServer(s, engine) as server:
        moves = [submit_role(server, f"U0ALPHA{i}", "sales", tiny) for i in range(4)]
        joins = [submit_role(server, f"U0NEW{i}", "sales", tiny) for i in range(2)]
    assert all(
        answer == {"response_action": "errors", "errors": {ids.TEAM_BLOCK: TEAM_FROM_ROSTER}}
        for _, answer in moves
    )
    assert joins == [(200, {}), (200, {})]
    newcomer = person(engine, "U0NEW0")
    assert (newcomer.team_id, newcomer.is_active, newcomer.team_source) == (tiny, True, TeamSource.SELF)

    run = open_run(engine, s).run_id
    with Session(engine) as check:
        invited = check.execute(
            select(Person.slack_user_id).join(PulseInvitation, PulseInvitation.person_id == Person.id)
        ).scalars()
        assert sorted(invited) == sorted([f"U0TINY{i}" for i in range(3)] + [f"U0ALPHA{i}" for i in range(4)])
    day = OPEN + timedelta(hours=3)
    for pid, scale in zip(victims, (1, 2, 2), strict=True):
        answer(engine, s, run, pid, raw(scale, 3, 3, 3, 3, 3, 1), day)
    for pid in attackers:
        answer(engine, s, run, pid, raw(5, 5, 5, 5, 5, 5, 1), day)
    with session_scope(engine) as closing:
        pulses.close_due_runs(closing, now=OPEN + timedelta(days=8))
    clock.set_now(OPEN + timedelta(days=8))

    row = metrics_row(engine, s, "Tiny")
    assert (row["invited"], row["respondents"], row["suppressed"]) == (3, 3, False)
    assert row["awareness"] == 1.67  # Tiny's own three answers; nobody else's mixed in
    assert metrics_row(engine, s, "Alpha")["respondents"] == 4


def test_someone_moved_after_the_invitation_counts_in_the_team_they_were_invited_with(
    engine: Engine, session: Session
) -> None:
    s = dataclasses.replace(Settings(), secret="test-secret", min_group_size=3)
    tiny_people = [add_person(session, f"U0TINY{i}", team="Tiny", role="legal").id for i in range(3)]
    for i in range(3):
        add_person(session, f"U0ALPHA{i}", team="Alpha", role="sales")
    session.commit()
    run = open_run(engine, s).run_id
    # The roster moves one of them to Alpha while the run is open; they answer afterwards.
    session.execute(
        update(Person).where(Person.id == tiny_people[0]).values(team_id=team_id(session, "Alpha"))
    )
    session.commit()
    day = OPEN + timedelta(hours=3)
    for pid in tiny_people:
        answer(engine, s, run, pid, raw(4, 4, 4, 4, 4, 4, 1), day)
    with session_scope(engine) as closing:
        pulses.close_due_runs(closing, now=OPEN + timedelta(days=8))
    clock.set_now(OPEN + timedelta(days=8))

    tiny, alpha = metrics_row(engine, s, "Tiny"), metrics_row(engine, s, "Alpha")
    assert (tiny["invited"], tiny["respondents"]) == (3, 3)
    assert (alpha["invited"], alpha["respondents"]) == (3, 0)


def test_a_change_manager_who_picks_their_own_team_is_invited_with_it(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    """ADOPTBOT_ADMINS need no roster row; a change manager's choice of team is an administrator's."""
    s = dataclasses.replace(slack_settings, secret="test-secret", admins=frozenset({"U0ADMIN"}))
    add_person(session, "U0TINY", team="Tiny", role="legal")
    tiny = team_id(session, "Tiny")
    with SlackAppServer(s, engine) as server:
        admin = submit_role(server, "U0ADMIN", "hr", tiny)
        employee = submit_role(server, "U0EMPLOYEE", "sales", tiny)
    assert admin == employee == (200, {})
    assert person(engine, "U0ADMIN").team_source == TeamSource.CHANGE_MANAGER
    assert person(engine, "U0EMPLOYEE").team_source == TeamSource.SELF
    open_run(engine, s)
    with Session(engine) as check:
        invited = check.scalars(
            select(Person.slack_user_id).join(PulseInvitation, PulseInvitation.person_id == Person.id)
        ).all()
    assert sorted(invited) == ["U0ADMIN", "U0TINY"]
