"""The dashboard's Audit page: wins decided, broadcasts sent, rosters applied (dashboard and command line),
people erased, and AI calls without a word of any prompt; an erased change manager's ID leaves the trail."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.models import AiCall, AuditEvent, Broadcast, BroadcastStatus
from tests.support.factories import add_person, add_team, add_win
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer
from tests.support.web import Browser, dashboard_settings, form_fields

NOW = datetime(2026, 11, 18, 10, 0)


@pytest.fixture
def server(slack_settings: Settings, fake_slack: FakeSlack, engine: Engine) -> Iterator[SlackAppServer]:
    settings = dashboard_settings(slack_settings, fake_slack)
    with session_scope(engine) as session:
        add_team(session, "Alpha")
        manager = add_person(session, "UCM", team="Alpha", name="Chris Manager", change_manager=True)
        add_person(session, "UCM2", team="Alpha", name="Dana Deputy", change_manager=True)
        add_person(session, "ULEAD", team="Alpha", name="Lee Leader", leads=["Alpha"])
        author = add_person(session, "UAUTH", team="Alpha", name="Ava Author")
        add_win(session, author, at=NOW, hours=2, status="approved", reviewer_user_id="UCM2", reviewed_at=NOW)
        session.add(
            Broadcast(
                status=BroadcastStatus.SENT,
                created_at=NOW,
                started_at=NOW,
                revision=0,
                sent_count=3,
                sender_id=manager.id,
                sender_user="UCM",
                timezone="UTC",
                text="Secret plans",
                audience="{}",
                recipient_count=3,
                ask_ack=False,
            )
        )
        session.add(
            AiCall(
                purpose="win_polish",
                model="gpt-4o-mini",
                prompt_tokens=120,
                completion_tokens=40,
                latency_ms=900,
                outcome="ok",
                created_at=NOW,
            )
        )
    with SlackAppServer(settings, engine, public=True) as running:
        yield running


def test_the_trail_names_who_decided_sent_applied_and_erased(
    server: SlackAppServer,
    fake_slack: FakeSlack,
    engine: Engine,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    roster = tmp_path / "people.csv"
    roster.write_text(
        "slack_user_id,name,team,role,change_manager\nUCM,Chris Manager,Alpha,sales,yes\n"
        "UCM2,Dana Deputy,Alpha,sales,yes\nULEAD,Lee Leader,Alpha,sales,no\n"
        "UAUTH,Ava Author,Alpha,sales,no\nUNEW,Nora New,Alpha,sales,no\n"
    )
    assert main(["roster", "import", str(roster), "--db", db_url]) == 0
    capsys.readouterr()
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    page = browser.get("/dashboard/audit").visible_text()
    assert "Dana Deputy (UCM2) Approved win #1" in page
    assert "Chris Manager (UCM) Sent broadcast #1 to 3 people" in page
    assert "command line Roster" in page and "people.csv imported: 1 added" in page
    assert "win_polish gpt-4o-mini 120 40 900 ms ok" in page
    assert "Secret plans" not in page

    # Dana is erased: what she did stays, her ID and name leave the trail.
    with session_scope(engine) as session:
        from bot import audit
        from bot.models import AuditAction

        audit.record(session, actor="UCM2", action=AuditAction.ROSTER_IMPORT, detail="Roster x applied")
    assert main(["forget", "UCM2", "--db", db_url]) == 0
    capsys.readouterr()
    after = browser.get("/dashboard/audit").visible_text()
    assert "UCM2" not in after and "Dana" not in after
    assert "(not recorded) Approved win #1" in after and "(erased) Roster x applied" in after
    assert "A person was erased" in after
    with session_scope(engine, readonly=True) as session:
        assert "UCM2" not in {e.actor for e in session.scalars(select(AuditEvent))}


def test_a_roster_applied_in_the_dashboard_is_in_the_trail(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "UCM")
    csrf = browser.get("/dashboard/people").csrf
    good = b"slack_user_id,name,team,role\nUNEW,Nora New,Alpha,sales\n"
    preview = browser.post_file("/dashboard/people/upload", {"csrf": csrf}, "roster", "march.csv", good)
    fields = form_fields(preview.text, "/dashboard/people/apply", preview.csrf)
    assert browser.post("/dashboard/people/apply", fields).status == 302
    page = browser.get("/dashboard/audit").visible_text()
    assert "Chris Manager (UCM) Roster march.csv applied in the dashboard: 1 added" in page


def test_only_change_managers_read_the_audit(server: SlackAppServer, fake_slack: FakeSlack) -> None:
    browser = Browser(server.url)
    browser.sign_in(fake_slack, "ULEAD")
    assert browser.get("/dashboard/audit").status == 403
