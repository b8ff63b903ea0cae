"""The pulse in Slack: DM -> button -> modal -> submission, through the real app and signed requests."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update

from bot.clock import utcnow
from bot.config import Settings
from bot.db import session_scope
from bot.metrics.service import compute_metrics
from bot.models import OutboxMessage, PulseResponse, PulseRun
from bot.outbox import drain
from bot.pulses import confirm as pulse_confirm
from bot.pulses import service as pulses
from bot.slack import ids
from bot.slack.client import make_web_client
from tests.support import signing
from tests.support.factories import add_people, add_person, user_ids
from tests.support.fake_slack import FakeSlack, Message
from tests.support.slack_app import ResponseSink, SlackAppServer, library, wait_for

SCALE = [
    "awareness-why",
    "desire-want",
    "knowledge-how",
    "knowledge-safe-use",
    "ability-results",
    "reinforcement-recognised",
]
STAGES = ("awareness", "desire", "knowledge", "ability", "reinforcement")


def _settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, secret="slack-test-secret")


def _open_and_send(engine: Engine, settings: Settings) -> int:
    """Open a run now (at the real time: the app reads the real clock) and send the invitations."""
    with session_scope(engine) as session:
        run = pulses.open_run(session, library=library(), settings=settings, now=utcnow())
    _send_now(engine, settings)
    return run.run_id


def _send_now(engine: Engine, settings: Settings) -> None:
    """Send what is queued, without waiting for the local working hour the invitations are timed for."""
    with session_scope(engine) as session:
        session.execute(update(OutboxMessage).values(not_before=utcnow() - timedelta(seconds=1)))
    drain(engine, make_web_client(settings), settings)


def _message(fake: FakeSlack, user: str) -> Message:
    [message] = fake.messages(user)
    return message


def _click(server: SlackAppServer, fake: FakeSlack, user: str) -> dict[str, Any]:
    """Click the DM's button; the modal views.open received."""
    message = _message(fake, user)
    [button] = [e for b in message.blocks or [] if b["type"] == "actions" for e in b["elements"]]
    before = len(fake.views)
    payload = signing.block_actions_payload(
        user,
        button["action_id"],
        button["value"],
        {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks},
        channel_id=message.channel,
    )
    status, _ = server.interact(payload)
    assert status == 200
    view = wait_for(lambda: fake.views[before:], what="views.open")[-1]
    assert view.method == "views.open" and view.user_id in (None, user)
    return view.view


def _state(answers: dict[str, str | None], modal: dict[str, Any]) -> dict[str, Any]:
    """view.state.values for the modal as a person fills it in (radio buttons and a text box)."""
    values: dict[str, Any] = {}
    for block in modal["blocks"]:
        if block["type"] != "input":
            continue
        qid = block["block_id"][len(ids.PULSE_QUESTION_BLOCK) :]
        element = block["element"]
        chosen = answers.get(qid)
        if element["type"] == "plain_text_input":
            values[block["block_id"]] = {
                ids.PULSE_QUESTION_INPUT: {"type": "plain_text_input", "value": chosen}
            }
            continue
        option = next((o for o in element["options"] if o["value"] == chosen), None)
        values[block["block_id"]] = {
            ids.PULSE_QUESTION_INPUT: {"type": element["type"], "selected_option": option}
        }
    return values


def _submit(
    server: SlackAppServer, user: str, modal: dict[str, Any], answers: dict[str, str | None]
) -> dict[str, Any]:
    payload = signing.view_submission_payload(
        user,
        modal["callback_id"],
        _state(answers, modal),
        modal.get("private_metadata", ""),
        blocks=modal["blocks"],
    )
    status, answer = server.interact(payload)
    assert status == 200
    return answer


def _sheet(
    a: int, d: int, k1: int, k2: int, ab: int, r: int, usage: int, comment: str | None = None
) -> dict[str, str | None]:
    values = dict(zip(SCALE, map(str, (a, d, k1, k2, ab, r)), strict=True))
    return {**values, "usage": str(usage), "comment": comment}


def test_answers_given_in_the_modal_give_exact_means_and_can_be_changed(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    with session_scope(engine) as session:
        users = user_ids(add_people(session, 5))
    run = _open_and_send(engine, settings)
    sheets = [
        _sheet(5, 4, 2, 3, 4, 3, 0),
        _sheet(4, 4, 2, 2, 3, 3, 2),
        _sheet(3, 5, 1, 2, 3, 4, 4),
        _sheet(4, 3, 3, 3, 2, 2, 1),
        _sheet(5, 5, 2, 1, 4, 5, 0, "More <!channel> time to practise"),
    ]
    with SlackAppServer(settings, engine) as server:
        modal = _click(server, fake_slack, users[0])
        inputs = [b for b in modal["blocks"] if b["type"] == "input"]
        assert [b["block_id"] for b in inputs] == [
            ids.PULSE_QUESTION_BLOCK + q for q in [*SCALE, "usage", "comment"]
        ]
        first_scale = inputs[0]["element"]
        assert first_scale["type"] == "radio_buttons"
        assert [o["text"]["text"] for o in first_scale["options"]] == [
            "1 — Strongly disagree",
            "2 — Disagree",
            "3 — Neither agree nor disagree",
            "4 — Agree",
            "5 — Strongly agree",
        ]
        assert inputs[7]["optional"] is True and inputs[7]["element"]["multiline"] is True
        assert all(b["optional"] is False for b in inputs[:7])
        for user, sheet in zip(users, sheets, strict=True):
            modal = _click(server, fake_slack, user) if user != users[0] else modal
            answer = _submit(server, user, modal, sheet)
            assert answer["response_action"] == "update"
            assert "answers are saved" in json.dumps(answer["view"])

        def sales(now: datetime) -> dict[str, Any]:
            with session_scope(engine, readonly=True) as session:
                rows = compute_metrics(
                    session,
                    week_monday=utcnow().date() - timedelta(days=utcnow().weekday()),
                    settings=settings,
                    now=now,
                )
            return next(r.to_dict() for r in rows if r.team == "Sales EMEA")

        # While the run is open no score shows (each new answer would be readable by subtraction) ...
        row = sales(utcnow())
        assert row["suppressed"] and row["respondents"] == 5 and row["readiness"] is None
        # ... and once it has closed, the exact means do.
        row = sales(utcnow() + timedelta(days=8))
        assert [row[s] for s in STAGES] == [4.2, 4.2, 2.1, 3.2, 3.4]
        assert (row["respondents"], row["readiness"], row["barrier"], row["usage_rate"]) == (
            5,
            3.42,
            "knowledge",
            0.6,
        )

        # The next day's batch edits the DM to "Answered ✓", offering to change the answer; the modal
        # shows my own answers.
        with session_scope(engine) as session:
            pulse_confirm.confirm_answers(
                session, library=library(), settings=settings, now=utcnow() + timedelta(days=1)
            )
        drain(engine, make_web_client(settings), settings)
        message = _message(fake_slack, users[2])
        assert message.text.startswith("Answered ✓") and message.updates == 1
        modal = _click(server, fake_slack, users[2])
        prefilled = {
            b["block_id"]: b["element"].get("initial_option", {}).get("value")
            for b in modal["blocks"]
            if b["type"] == "input"
        }
        assert prefilled[ids.PULSE_QUESTION_BLOCK + "awareness-why"] == "3"
        assert prefilled[ids.PULSE_QUESTION_BLOCK + "usage"] == "4"
        answer = _submit(server, users[2], modal, _sheet(5, 5, 3, 3, 5, 5, 0))
        assert "answers are updated" in json.dumps(answer["view"])
    row = sales(utcnow() + timedelta(days=8))
    assert row["respondents"] == 5
    assert [row[s] for s in STAGES] == [4.6, 4.2, 2.4, 3.6, 3.6]
    assert (row["readiness"], row["usage_rate"]) == (3.68, 0.4)
    with session_scope(engine, readonly=True) as session:
        assert (
            session.scalar(select(func.count()).select_from(PulseResponse).where(PulseResponse.run_id == run))
            == 5
        )


def test_missing_answers_are_shown_under_their_questions_and_nothing_is_saved(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    with session_scope(engine) as session:
        [user] = user_ids(add_people(session, 1))
    _open_and_send(engine, settings)
    with SlackAppServer(settings, engine) as server:
        modal = _click(server, fake_slack, user)
        sheet = _sheet(3, 3, 3, 3, 3, 3, 1)
        sheet["desire-want"] = None
        sheet["usage"] = None
        answer = _submit(server, user, modal, sheet)
    assert answer == {
        "response_action": "errors",
        "errors": {
            ids.PULSE_QUESTION_BLOCK + "desire-want": "Please choose an answer.",
            ids.PULSE_QUESTION_BLOCK + "usage": "Please choose an answer.",
        },
    }
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(PulseResponse)) == 0


def test_after_the_close_the_button_and_a_late_submission_get_a_polite_no(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    with session_scope(engine) as session:
        [user] = user_ids(add_people(session, 1))
    run = _open_and_send(engine, settings)
    with SlackAppServer(settings, engine) as server:
        modal = _click(server, fake_slack, user)
        with session_scope(engine) as session:
            session.execute(
                update(PulseRun).where(PulseRun.id == run).values(closes_at=utcnow() - timedelta(minutes=1))
            )
            pulses.close_due_runs(session, now=utcnow())
        answer = _submit(server, user, modal, _sheet(3, 3, 3, 3, 3, 3, 1))
        assert answer["response_action"] == "update" and "closed on" in json.dumps(answer["view"])
        late = _click(server, fake_slack, user)
        assert late["callback_id"] == ids.PULSE_INFO_MODAL and "submit" not in late
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(PulseResponse)) == 0


def test_pulse_start_and_status_are_for_change_managers_and_show_counts_only(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    with session_scope(engine) as session:
        users = user_ids(add_people(session, 3)) + user_ids(add_people(session, 2, team="Legal"))
        add_person(session, "UCM0001", team=None, change_manager=True)
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        status, answer = server.command("pulse start", user_id=users[0])
        assert status == 200 and "change managers" in answer.get("text", "").lower()
        with session_scope(engine, readonly=True) as session:
            assert session.scalar(select(func.count()).select_from(PulseRun)) == 0

        status, _ = server.command("pulse start", user_id="UCM0001", response_url=sink.url("start"))
        assert status == 200
        [reply] = wait_for(lambda: sink.posts("start"), what="the start reply")
        assert reply["text"].startswith("📋 Pulse #") and "6 people are invited" in reply["text"]
        with session_scope(engine, readonly=True) as session:
            run = session.scalars(select(PulseRun)).one()
        assert run.opened_by == "UCM0001"

        status, _ = server.command("pulse start", user_id="UCM0001", response_url=sink.url("again"))
        [again] = wait_for(lambda: sink.posts("again"), what="the refusal")
        assert again["text"].startswith(f"Not started: pulse run #{run.id}")

        _send_now(engine, settings)
        modal = _click(server, fake_slack, users[0])
        _submit(server, users[0], modal, _sheet(3, 3, 3, 3, 3, 3, 1, "My manager never listens"))
        status, answer = server.command("pulse status", user_id="UCM0001")
    text = json.dumps(answer)
    assert f"Pulse #{run.id}: 1 of 6 answered" in answer["text"]
    assert "Legal: 0/2 (0%)" in text and "Sales EMEA: 1/3 (33%)" in text and "(no team): 0/1" in text
    assert "never listens" not in text and users[0] not in text
