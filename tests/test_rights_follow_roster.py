"""Rights follow the roster: a change manager or leader the roster or Slack removed gets nothing back by
clicking in Slack, and keeps no right in the database either."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config import Settings
from bot.db import create_db_engine, session_scope
from bot.digest import delivery as digest_delivery
from bot.migrate import alembic_config, upgrade
from bot.models import Deactivation, OutboxMessage, Person, TeamLead
from bot.slack import ids
from tests.support import signing
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for

ROSTER = (
    "slack_user_id,name,team,role,leads,change_manager\n"
    "U0BOSS,Bo Sterling,Platform,engineering,Platform;Sales,true\n"
    "U0ANA,Ana Silva,Sales,sales,,false\n"
    "U0BEN,Ben Okafor,Sales,sales,,false\n"
    "U0CAI,Cai Wen,Platform,engineering,,false\n"
    "U0DEV,Dev Patel,Platform,engineering,,false\n"
)
NOT_ON_ROSTER = (
    "You're no longer on Adoptbot's active roster, so there is nothing to set up here. "
    "If that's a mistake, ask a change manager to add you back."
)
WITHOUT_BOSS = "".join(line for line in ROSTER.splitlines(keepends=True) if "U0BOSS" not in line)


def import_csv(tmp_path: Path, db_url: str, text: str, *flags: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(text)
    assert main(["roster", "import", str(path), *flags, "--db", db_url]) == 0


def boss(engine: Engine) -> tuple[bool, bool, bool, list[int], str | None]:
    """(active, change manager, leads all, led team ids, deactivated by) of the removed manager."""
    with Session(engine) as session:
        person = session.scalars(select(Person).where(Person.slack_user_id == "U0BOSS")).one()
        leads = list(session.scalars(select(TeamLead.team_id).where(TeamLead.person_id == person.id)))
        return person.is_active, person.is_change_manager, person.leads_all, leads, person.deactivated_by


def person_of(engine: Engine, user_id: str) -> Person | None:
    with Session(engine) as session:
        return session.scalars(select(Person).where(Person.slack_user_id == user_id)).first()


def role_submission(user_id: str, role: str, team_id: int | None) -> dict[str, Any]:
    state: dict[str, dict[str, Any]] = {ids.ROLE_BLOCK: {ids.ROLE_SELECT: signing.selected_option(role)}}
    blocks: list[dict[str, Any]] = [{"type": "input", "block_id": ids.ROLE_BLOCK}]
    if team_id is not None:
        state[ids.TEAM_BLOCK] = {ids.TEAM_SELECT: signing.selected_option(str(team_id))}
        blocks.append({"type": "input", "block_id": ids.TEAM_BLOCK})
    return signing.view_submission_payload(user_id, ids.ROLE_MODAL, state, blocks=blocks)


def test_prune_takes_rights_and_leads_and_a_new_import_gives_what_the_file_says(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_csv(tmp_path, db_url, ROSTER)
    assert boss(engine)[:3] == (True, True, False) and len(boss(engine)[3]) == 2

    import_csv(tmp_path, db_url, WITHOUT_BOSS, "--prune")  # 1 of 5: within the quarter

    assert boss(engine) == (False, False, False, [], Deactivation.ROSTER)
    capsys.readouterr()
    assert main(["roster", "list", "--all", "--db", db_url]) == 0
    listed = next(line for line in capsys.readouterr().out.splitlines() if "Bo Sterling" in line)
    assert listed.rstrip().endswith("deactivated by the roster") and "change manager" not in listed
    with Session(engine) as session:
        leaders = digest_delivery.leaders(session, Settings())
        assert all(leader.slack_user_id != "U0BOSS" for leader in leaders)
    import_csv(tmp_path, db_url, ROSTER.replace("Platform;Sales,true", "Sales,false"))
    active, manager, _, leads, deactivated_by = boss(engine)
    assert (active, manager, len(leads), deactivated_by) == (True, False, 1, None)
    capsys.readouterr()


def test_a_pruned_change_manager_gets_no_right_back_from_the_role_modal(
    slack_settings: Settings,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    fake_slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import_csv(tmp_path, db_url, ROSTER)
    import_csv(tmp_path, db_url, WITHOUT_BOSS, "--prune")
    with Session(engine) as session:
        platform = session.scalars(select(Person.team_id).where(Person.slack_user_id == "U0BOSS")).one()

    with SlackAppServer(slack_settings, engine) as server:
        role_status, role_answer = server.command("role", user_id="U0BOSS")
        # A modal opened before the prune (or a forged submission) is refused inline, nothing saved.
        saved = server.interact(role_submission("U0BOSS", "leadership", platform))
        refusals = [server.command(sub, user_id="U0BOSS") for sub in ("broadcast", "pulse", "wins", "digest")]
        server.event({"type": "app_home_opened", "user": "U0BOSS", "channel": "D0BOSS", "tab": "home"})
        home = wait_for(lambda: fake_slack.home_views.get("U0BOSS"), what="the Home tab")

    assert (role_status, role_answer) == (200, {"text": NOT_ON_ROSTER})
    assert saved == (200, {"response_action": "errors", "errors": {ids.ROLE_BLOCK: NOT_ON_ROSTER}})
    assert fake_slack.calls_to("views.open") == []
    for status, answer in refusals:
        assert status == 200 and answer["text"].startswith("Sorry, ")
        assert "Nothing was opened" in answer["text"]
    shown = json.dumps(home["blocks"])
    assert ids.OPEN_ROLE_MODAL not in shown  # nothing to set up: only the roster brings them back
    assert "not on the active roster" in shown
    assert "Broadcast" not in shown and "moderation" not in shown.lower()
    assert boss(engine) == (False, False, False, [], Deactivation.ROSTER)
    with Session(engine) as session:
        person = session.scalars(select(Person).where(Person.slack_user_id == "U0BOSS")).one()
        assert person.role == "engineering"  # the refused choice was not saved either
    capsys.readouterr()


def test_slack_deactivation_takes_the_rights_and_the_role_modal_does_not_undo_it(
    slack_settings: Settings,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    fake_slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import_csv(tmp_path, db_url, ROSTER)
    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "user_change", "user": {"id": "U0BOSS", "deleted": True, "profile": {}}})
        wait_for(lambda: not boss(engine)[0], what="the deactivation")
        # Slack lets the account back in; Adoptbot waits for the roster.
        server.event({"type": "user_change", "user": {"id": "U0BOSS", "deleted": False, "profile": {}}})
        status, answer = server.interact(role_submission("U0BOSS", "engineering", None))
        broadcast = server.command("broadcast", user_id="U0BOSS")
    assert boss(engine) == (False, False, False, [], Deactivation.SLACK)
    assert (status, answer["errors"]) == (200, {ids.ROLE_BLOCK: NOT_ON_ROSTER})
    assert broadcast[1]["text"].startswith("Sorry, `/adopt broadcast` is only for change managers")
    capsys.readouterr()


def test_roster_sync_takes_the_rights_of_deleted_users_and_nobody_it_deactivated_sets_up_again(
    slack_settings: Settings,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import_csv(tmp_path, db_url, ROSTER)
    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "team_join", "user": {"id": "U0NEWBIE", "name": "newbie", "profile": {}}})
        wait_for(lambda: person_of(engine, "U0NEWBIE") is not None, what="the newcomer's record")
        fake_slack.add_user("U0BOSS", deleted=True)
        fake_slack.add_user("U0NEWBIE", deleted=True)
        monkeypatch.setenv("SLACK_BOT_TOKEN", slack_settings.slack_bot_token or "")
        monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
        assert main(["roster", "sync", "--db", db_url]) == 0
        with Session(engine) as session:
            sales = session.scalars(select(Person.team_id).where(Person.slack_user_id == "U0ANA")).one()
        # Slack lets them back in; setting up again would be the way back without the roster.
        refused = [server.interact(role_submission(u, "sales", sales)) for u in ("U0BOSS", "U0NEWBIE")]
    assert boss(engine) == (False, False, False, [], Deactivation.SLACK)
    newbie = person_of(engine, "U0NEWBIE")
    assert newbie is not None and (newbie.is_active, newbie.team_id) == (False, None)
    assert refused == [(200, {"response_action": "errors", "errors": {ids.ROLE_BLOCK: NOT_ON_ROSTER}})] * 2
    capsys.readouterr()


def test_someone_the_roster_removed_who_joins_slack_is_linked_but_not_welcomed(
    slack_settings: Settings,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    fake_slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with_kim = (
        ROSTER.replace("change_manager\n", "change_manager,email\n", 1)
        + ",Kim,Sales,sales,,false,kim@example.com\n"
    )
    import_csv(tmp_path, db_url, with_kim)
    import_csv(tmp_path, db_url, ROSTER, "--prune")  # Kim leaves before ever joining Slack
    user = {"id": "U0KIM", "name": "kim", "deleted": False, "profile": {"email": "kim@example.com"}}
    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "team_join", "user": user})
        wait_for(lambda: person_of(engine, "U0KIM") is not None, what="the link by email")
        status, answer = server.command("role", user_id="U0KIM")
    kim = person_of(engine, "U0KIM")
    assert kim is not None and (kim.is_active, kim.deactivated_by) == (False, Deactivation.ROSTER)
    assert (status, answer) == (200, {"text": NOT_ON_ROSTER})
    with Session(engine) as session:
        assert session.scalars(select(OutboxMessage.key)).all() == []  # no welcome DM
    capsys.readouterr()


def test_the_upgrade_takes_the_rights_people_kept_after_an_earlier_prune(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    at = {"at": datetime(2026, 1, 1)}
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.commit()
    with engine.begin() as connection:  # rows as the 0002 schema holds them (plain SQL: no new columns)
        connection.execute(text("INSERT INTO teams (id, name, created_at) VALUES (1, 'Platform', :at)"), at)
        for number, (user_id, active, role, team_id) in enumerate(
            (
                ("U0GONE", False, "engineering", 1),  # pruned under the old rules: kept every right
                ("U0NEW", False, None, None),  # joined Slack, still picking role and team
                ("U0HERE", True, "engineering", 1),
            ),
            start=1,
        ):
            connection.execute(
                text(
                    "INSERT INTO people (id, slack_user_id, name, role, team_id, is_active,"
                    " is_change_manager, leads_all, nudge_level, created_at, updated_at)"
                    " VALUES (:id, :user_id, :user_id, :role, :team_id, :active, true, false, 1, :at, :at)"
                ),
                {"id": number, "user_id": user_id, "role": role, "team_id": team_id, "active": active, **at},
            )
        connection.execute(text("INSERT INTO team_leads (person_id, team_id) VALUES (1, 1)"))
    upgrade(engine)
    with session_scope(engine) as session:
        found = {p.slack_user_id: p for p in session.scalars(select(Person))}
        assert (found["U0GONE"].deactivated_by, found["U0GONE"].is_change_manager) == ("roster", False)
        assert session.scalars(select(TeamLead)).all() == []
        assert (found["U0NEW"].deactivated_by, found["U0HERE"].deactivated_by) == (None, None)
        assert found["U0HERE"].is_change_manager
        assert {p.team_source for p in found.values()} == {"roster"}
    engine.dispose()
