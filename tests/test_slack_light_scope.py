"""Light listener scopes: `/adopt help` and the role buttons answer from one light query, with the same
rights as a full scope, never a stale answer, and a light scope that turns out to need the session works."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from datetime import datetime

from slack_bolt import App
from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.db import statement_reader
from bot.models import OutboxMessage, Person
from bot.people.profile import TeamMenu
from bot.permissions import AUDIENCES, Principal, acting_person, acting_principal, can_use
from bot.slack import subcommands
from bot.slack.subcommands import Invocation, Subcommand
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for


def test_the_light_query_gives_the_same_rights_as_the_person_record(session: Session) -> None:
    settings = dataclasses.replace(Settings(), admins=frozenset({"U0ADMIN"}))
    add_person(session, "U0EMP")
    add_person(session, "U0CM", change_manager=True)
    add_person(session, "U0LEAD", leads=("Platform",))
    add_person(session, "U0ALL", leads_all=True)
    add_person(session, "U0GONE", change_manager=True, leads=("Platform",), active=False)
    add_person(session, "U0ADMIN", role=None, team=None, active=False)
    erased = add_person(session, "U0ERASED", change_manager=True)
    erased.erased_at = datetime(2026, 1, 5)
    session.commit()

    for user_id in ("U0EMP", "U0CM", "U0LEAD", "U0ALL", "U0GONE", "U0ADMIN", "U0ERASED", "U0NOBODY"):
        person, leads = acting_person(session, user_id)
        light = acting_principal(session.connection(), user_id)
        full = Principal.of(person, user_id=user_id, leads_a_team=leads)
        assert light == full, user_id
        expected = [a for a in AUDIENCES if can_use(person, a, settings, user_id=user_id, leads_a_team=leads)]
        assert [a for a in AUDIENCES if light.can(a, settings)] == expected, user_id
    cm = acting_principal(session.connection(), "U0CM")
    cm_team = session.scalars(select(Person.team_id).where(Person.slack_user_id == "U0CM")).one()
    assert (cm.role, cm.team_id) == ("sales", cm_team)  # what the role modal preselects


def test_help_follows_a_change_of_rights_at_once(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP")
    add_person(session, "U0OTHER")
    session.commit()
    with SlackAppServer(slack_settings, engine) as server:
        _, before = server.command("help", user_id="U0EMP")
        _, other = server.command("help", user_id="U0OTHER")
        session.execute(update(Person).where(Person.slack_user_id == "U0EMP").values(is_change_manager=True))
        session.commit()
        _, after = server.command("help", user_id="U0EMP")
        _, still = server.command("help", user_id="U0OTHER")
    assert "For change managers" not in json.dumps(before["blocks"])
    assert "For change managers" in json.dumps(after["blocks"])
    assert before == other == still


def test_a_light_subcommand_can_still_write_through_the_session(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    def note(inv: Invocation) -> None:
        allowed = inv.scope.can("change_manager")  # the light query, on the scope's own connection
        outbox.enqueue(
            inv.scope.session,  # then the session: the light read transaction ends first
            key=f"note:{inv.user_id}",
            kind="note",
            channel=inv.user_id,
            text=f"change manager: {allowed}",
        )
        inv.ack(text=f"person loaded: {inv.scope.person is not None}")

    def customize(app: App) -> None:
        subcommands.add(app, Subcommand("note", "Note", "note", "everyone", note, person=False))

    add_person(session, "U0CM", change_manager=True)
    session.commit()
    with SlackAppServer(slack_settings, engine, customize=customize) as server:
        _, answer = server.command("note", user_id="U0CM")
    assert answer["text"] == "person loaded: True"

    def queued() -> dict[str, object] | None:
        with Session(engine) as fresh:
            query = select(OutboxMessage.payload).where(OutboxMessage.key == "note:U0CM")
            return fresh.scalars(query).first()

    payload = wait_for(queued, what="the queued note")
    assert payload is not None and payload["text"] == "change manager: True"


def test_the_team_menu_is_read_again_once_older_than_its_max_age(engine: Engine, session: Session) -> None:
    add_person(session, "U0EMP", team="Sales")
    session.commit()
    now = [100.0]
    menu = TeamMenu(max_age=30, clock=lambda: now[0])
    reads: list[int] = []

    def connection() -> Connection:
        reads.append(1)
        return session.connection()

    assert [name for _, name in menu.choices(connection)] == ["Sales"]
    add_person(session, "U0NEW", team="Finance")  # a roster import in another process
    session.commit()
    now[0] += 29
    assert [name for _, name in menu.choices(connection)] == ["Sales"]
    assert [name for _, name in menu.choices(connection, fresh=True)] == ["Finance", "Sales"]
    add_person(session, "U0NEWER", team="Audit")
    session.commit()
    now[0] += 31
    assert [name for _, name in menu.choices(connection)] == ["Audit", "Finance", "Sales"]
    assert len(reads) == 3


def test_a_light_read_holds_no_transaction_open(engine: Engine, session: Session) -> None:
    """Each statement of a light scope stands alone: between two of them, nothing is held open."""
    add_person(session, "U0EMP")
    session.commit()
    with statement_reader(engine).connect() as light:
        assert acting_principal(light, "U0EMP").known
        if engine.dialect.name == "sqlite":
            # An open read transaction would pin the WAL: a TRUNCATE checkpoint could not finish.
            other = sqlite3.connect(str(engine.url.database), isolation_level=None)
            try:
                busy, _, _ = other.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                other.close()
            assert busy == 0
        else:
            # In a transaction, now() stays at its start; on its own, each statement has its own now().
            time.sleep(0.01)
            assert light.execute(text("SELECT now() = statement_timestamp()")).scalar_one() is True
