"""`/adopt`: help shows each person what they may use; refusals; unknown subcommands; the error handler."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

import pytest
from slack_bolt import Ack, App
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.models import OutboxMessage, Team
from bot.slack import subcommands
from bot.slack.errors import SORRY
from bot.slack.subcommands import Invocation, Subcommand
from tests.support import signing
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import ResponseSink, SlackAppServer, wait_for

ran: list[str] = []


def _audit(inv: Invocation) -> None:
    """A change managers' subcommand that, if it ever ran, would open a modal and queue a DM."""
    ran.append(f"audit by {inv.user_id}")
    inv.ack()
    outbox.enqueue(
        inv.scope.session, key=f"audit:{inv.user_id}", kind="audit", channel=inv.user_id, text="audit"
    )
    inv.client.views_open(
        trigger_id=inv.trigger_id,
        view={"type": "modal", "title": {"type": "plain_text", "text": "Audit"}, "blocks": []},
    )


def _team_report(inv: Invocation) -> None:
    ran.append("team-report")
    inv.ack(text="report")


def _explode_before_ack(inv: Invocation) -> None:
    raise RuntimeError("secret internals: /srv/adoptbot/db.py line 42")


def _explode_after_ack(inv: Invocation) -> None:
    inv.ack()
    raise RuntimeError("secret internals after the ack")


def _register_test_subcommands(app: App) -> None:
    subcommands.add(app, Subcommand("audit", "Audit the programme", "audit", "change_manager", _audit))
    subcommands.add(
        app, Subcommand("team-report", "Your teams' report", "team-report [TEAM]", "leader", _team_report)
    )
    subcommands.add(
        app, Subcommand("explode", "Fails before answering", "explode", "everyone", _explode_before_ack)
    )
    subcommands.add(
        app,
        Subcommand("explode-later", "Fails after answering", "explode-later", "everyone", _explode_after_ack),
    )


@pytest.fixture(autouse=True)
def _forget_runs() -> None:
    ran.clear()


def _listed(answer: dict[str, Any]) -> set[str]:
    """The subcommand names a help answer shows (`/adopt <name> ...` code spans)."""
    text = json.dumps(answer["blocks"])
    return {name for name in ("help", "role", "audit", "team-report", "explode") if f"`/adopt {name}" in text}


def test_help_lists_only_what_an_employee_may_use(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP")
    session.commit()
    with SlackAppServer(slack_settings, engine, customize=_register_test_subcommands) as server:
        status, answer = server.command("help", user_id="U0EMP")
    assert status == 200
    assert answer["response_type"] == "ephemeral"
    assert _listed(answer) == {"help", "role", "explode"}


def test_help_for_a_change_manager_adds_their_subcommands(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0CM", change_manager=True)
    session.commit()
    with SlackAppServer(slack_settings, engine, customize=_register_test_subcommands) as server:
        _, answer = server.command("", user_id="U0CM")  # no subcommand: help
    assert _listed(answer) == {"help", "role", "audit", "team-report", "explode"}
    assert "For change managers" in json.dumps(answer["blocks"])


def test_a_leader_sees_leader_subcommands_but_not_change_manager_ones(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0LEAD", leads=("Sales EMEA",))
    session.commit()
    with SlackAppServer(slack_settings, engine, customize=_register_test_subcommands) as server:
        _, answer = server.command("help", user_id="U0LEAD")
        _, report = server.command("team-report", user_id="U0LEAD")
    assert _listed(answer) == {"help", "role", "team-report", "explode"}
    assert report["text"] == "report"


def test_adoptbot_admins_are_change_managers_before_any_roster_exists(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(slack_settings, admins=frozenset({"U0ADMIN"}))
    with SlackAppServer(settings, engine, customize=_register_test_subcommands) as server:
        _, answer = server.command("help", user_id="U0ADMIN")
        server.command("audit", user_id="U0ADMIN")
        wait_for(lambda: fake_slack.calls_to("views.open"), what="the audit modal")
    assert "audit" in _listed(answer)
    assert ran == ["audit by U0ADMIN"]


def test_an_unknown_subcommand_gets_the_help_naming_what_was_typed(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP")
    session.commit()
    with SlackAppServer(slack_settings, engine, customize=_register_test_subcommands) as server:
        status, answer = server.command("frobnicate <!channel>", user_id="U0EMP")
    assert status == 200
    text = json.dumps(answer["blocks"])
    assert "I don't know `/adopt frobnicate`" in text
    assert _listed(answer) == {"help", "role", "explode"}


def test_someone_without_the_right_gets_a_short_refusal_and_nothing_happens(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP")
    session.commit()
    with SlackAppServer(slack_settings, engine, customize=_register_test_subcommands) as server:
        calls_before = len(fake_slack.calls)
        status, audit = server.command("audit", user_id="U0EMP")
        _, report = server.command("team-report", user_id="U0EMP")
    assert status == 200
    assert audit["response_type"] == "ephemeral"
    assert audit["text"] == "Sorry, `/adopt audit` is only for change managers. Nothing was opened or sent."
    assert report["text"].startswith(
        "Sorry, `/adopt team-report` is only for team leaders and change managers."
    )
    assert ran == []
    assert fake_slack.calls[calls_before:] == []
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 0


def test_a_subcommand_that_fails_before_answering_gets_one_line_and_no_traceback(
    slack_settings: Settings,
    engine: Engine,
    session: Session,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    add_person(session, "U0EMP")
    session.commit()
    with SlackAppServer(slack_settings, engine, customize=_register_test_subcommands) as server:
        status, answer = server.command("explode", user_id="U0EMP")
    assert status == 200
    assert answer == {"response_type": "ephemeral", "text": SORRY}
    failure = next(r for r in caplog.records if r.name == "bot.slack.errors")
    assert "slash_command /adopt explode failed: RuntimeError" in failure.getMessage()
    assert "U0EMP" not in failure.getMessage()  # who was acting is no part of an error log


def test_a_subcommand_that_fails_after_answering_says_sorry_through_the_response_url(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP")
    session.commit()
    with (
        SlackAppServer(slack_settings, engine, customize=_register_test_subcommands) as server,
        ResponseSink() as sink,
    ):
        status, answer = server.command("explode-later", user_id="U0EMP", response_url=sink.url("later"))
        posts = wait_for(lambda: sink.posts("later"), what="the apology")
    assert (status, answer) == (200, {})
    assert posts == [{"text": SORRY, "response_type": "ephemeral", "replace_original": False}]


def _add_team(inv: Invocation) -> None:
    inv.ack()
    inv.scope.session.add(Team(name=inv.args))
    inv.reply(text=f"Team {inv.args} added.")
    if inv.args == "Doomed":
        raise RuntimeError("the database refused it after all")


def test_a_reply_reports_only_work_that_was_committed(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    def customize(app: App) -> None:
        subcommands.add(app, Subcommand("add-team", "Add a team", "add-team NAME", "everyone", _add_team))

    with SlackAppServer(slack_settings, engine, customize=customize) as server, ResponseSink() as sink:
        server.command("add-team Kept", user_id="U0EMP", response_url=sink.url("kept"))
        server.command("add-team Doomed", user_id="U0EMP", response_url=sink.url("doomed"))
        kept = wait_for(lambda: sink.posts("kept"), what="the reply")
        doomed = wait_for(lambda: sink.posts("doomed"), what="the apology")
    assert kept == [{"text": "Team Kept added.", "response_type": "ephemeral"}]
    assert doomed == [{"text": SORRY, "response_type": "ephemeral", "replace_original": False}]
    with Session(engine) as check:
        assert list(check.scalars(select(Team.name))) == ["Kept"]


def _name_team(inv: Invocation) -> None:
    inv.scope.session.add(Team(name=inv.args))
    inv.ack(text=f"Team {inv.args} added.", response_type="ephemeral")
    if inv.args == "Doomed":
        raise RuntimeError("the database refused it after all")


def test_an_answer_in_the_ack_is_given_only_once_its_work_is_saved(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow commit (a loaded database) must not let "added" reach the person before the row exists,
    and an answer whose work is rolled back is never given: the person gets the one-line apology."""

    def customize(app: App) -> None:
        subcommands.add(app, Subcommand("name-team", "Add a team", "name-team NAME", "everyone", _name_team))

    def slow_commit(session: Session, flush_context: object) -> None:
        time.sleep(0.4)

    event.listen(Session, "after_flush", slow_commit)
    try:
        with SlackAppServer(slack_settings, engine, customize=customize) as server:
            status, kept = server.command("name-team Kept", user_id="U0EMP")
            with Session(engine) as check:
                saved = list(check.scalars(select(Team.name)))
            _, doomed = server.command("name-team Doomed", user_id="U0EMP")
    finally:
        event.remove(Session, "after_flush", slow_commit)
    assert status == 200 and kept["text"] == "Team Kept added."
    assert saved == ["Kept"]
    assert doomed == {"response_type": "ephemeral", "text": SORRY}


def _failing_listeners(app: App) -> None:
    def button(ack: Ack) -> None:
        raise ValueError("button internals")

    def submit(ack: Ack) -> None:
        raise ValueError("modal internals")

    app.action("test.fail")(button)
    app.view("test.fail_modal")(submit)


def test_a_failing_button_in_a_message_apologises_in_one_ephemeral_line(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with (
        SlackAppServer(slack_settings, engine, customize=_failing_listeners) as server,
        ResponseSink() as sink,
    ):
        payload = signing.block_actions_payload("U0EMP", "test.fail", response_url=sink.url("button"))
        status, answer = server.interact(payload)
        posts = wait_for(lambda: sink.posts("button"), what="the apology")
    assert status == 200
    assert "internals" not in json.dumps(answer)
    assert posts == [{"text": SORRY, "response_type": "ephemeral", "replace_original": False}]


def test_a_failing_modal_submission_turns_the_modal_into_one_line(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with SlackAppServer(slack_settings, engine, customize=_failing_listeners) as server:
        status, answer = server.interact(signing.view_submission_payload("U0EMP", "test.fail_modal", {}))
    assert status == 200
    assert answer["response_action"] == "update"
    assert answer["view"]["blocks"][0]["text"]["text"] == SORRY
    assert "internals" not in json.dumps(answer)


def test_a_failing_button_in_app_home_shows_the_line_in_the_home_tab(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with SlackAppServer(slack_settings, engine, customize=_failing_listeners) as server:
        home = {"id": "V0HOME", "type": "home", "blocks": []}
        status, _ = server.interact(signing.block_actions_payload("U0EMP", "test.fail", view=home))
        wait_for(lambda: fake_slack.calls_to("views.publish"), what="the Home tab apology")
    assert status == 200
    published = fake_slack.home_views["U0EMP"]
    assert [b["text"]["text"] for b in published["blocks"]] == [SORRY]


def test_context_carries_the_acting_person_inside_the_scope(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    seen: list[str | None] = []

    def whoami(inv: Invocation) -> None:
        seen.append(inv.scope.person.name if inv.scope.person is not None else None)
        inv.ack(text="ok")

    def customize(app: App) -> None:
        subcommands.add(app, Subcommand("whoami", "Who am I", "whoami", "everyone", whoami, readonly=True))

    add_person(session, "U0EMP", name="Ada")
    session.commit()
    with SlackAppServer(slack_settings, engine, customize=customize) as server:
        server.command("whoami", user_id="U0EMP")
        server.command("whoami", user_id="U0STRANGER")
    assert seen == ["Ada", None]


def test_the_command_name_comes_from_the_settings(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(slack_settings, command="/ai")
    add_person(session, "U0EMP")
    session.commit()
    with SlackAppServer(settings, engine) as server:
        _, answer = server.command("help", user_id="U0EMP")
    assert "`/ai role`" in json.dumps(answer["blocks"])
    assert "/adopt" not in json.dumps(answer)
