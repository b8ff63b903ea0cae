"""Broadcasts in Slack: `/adopt broadcast` -> composer -> preview DM -> Send / Edit / Cancel -> DMs -> Got it,
through the real app (signed requests), the fake Slack and the outbox, on both databases."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from bot.clock import utcnow
from bot.config import Settings
from bot.db import session_scope
from bot.models import Activity, Broadcast, BroadcastRecipient, OutboxMessage
from bot.outbox import drain
from bot.slack import ids
from bot.slack.client import make_web_client
from tests.support import signing
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack, Message
from tests.support.slack_app import ResponseSink, SlackAppServer, wait_for

MANAGER = "UMGR0001"


def fast(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, send_rate=200.0)


def send_queued(engine: Engine, settings: Settings) -> None:
    drain(engine, make_web_client(settings), settings)


def seed(engine: Engine) -> None:
    """A small organisation: a change manager, four reachable people, one inactive, one who can't get DMs."""
    with session_scope(engine) as session:
        add_person(session, MANAGER, team="Change", role="hr", change_manager=True, name="Maria Manager")
        add_person(session, "USALES1", team="Sales", role="sales")
        add_person(session, "USALES2", team="Sales", role="engineering")
        add_person(session, "UENG1", team="Platform", role="engineering")
        add_person(session, "USUP1", team="Support", role="support")
        add_person(session, "UGONE", team="Sales", role="sales", active=False)
        blocked = add_person(session, "UBLOCKED", team="Platform", role="engineering")
        blocked.unreachable_reason = "cannot_dm_bot"


def team_id(engine: Engine, name: str) -> str:
    with session_scope(engine, readonly=True) as session:
        from bot.models import Team

        return str(session.scalar(select(Team.id).where(Team.name == name)))


def composer(server: SlackAppServer, fake: FakeSlack, user: str = MANAGER) -> dict[str, Any]:
    before = len(fake.views)
    status, answer = server.command("broadcast", user_id=user)
    assert status == 200 and answer == {}
    return wait_for(lambda: fake.views[before:], what="the composer")[-1].view


def state(modal: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """view.state.values for the composer as a person leaves it: `fields` as typed or picked (None clears
    one), every other input as the modal opened (its initial value, as Slack reports it)."""
    values: dict[str, Any] = {}
    for block in modal["blocks"]:
        if block["type"] != "input":
            continue
        element = block["element"]
        name = block["block_id"].split(".", 1)[1]
        given = name in fields
        chosen = fields.get(name)
        kind = element["type"]
        if kind == "plain_text_input":
            value: dict[str, Any] = {"value": chosen if given else element.get("initial_value")}
        elif kind in ("checkboxes", "multi_static_select", "multi_external_select"):
            wanted = [chosen] if isinstance(chosen, str) or chosen is True else list(chosen or [])
            options = element.get("options") or []
            picked = [o for o in options if o["value"] in wanted or chosen is True]
            value = {"selected_options": picked if given else element.get("initial_options", [])}
        elif kind in ("radio_buttons", "static_select"):
            option = next((o for o in element["options"] if o["value"] == chosen), None)
            value = {"selected_option": option if given else element.get("initial_option")}
        elif kind == "conversations_select":
            value = {"selected_conversation": chosen if given else element.get("initial_conversation")}
        elif kind == "datepicker":
            value = {"selected_date": chosen if given else element.get("initial_date")}
        elif kind == "timepicker":
            picked_time = chosen if given else element.get("initial_time")
            value = {"selected_time": picked_time, "timezone": element.get("timezone")}
        else:
            raise AssertionError(f"unexpected element {kind}")
        values[block["block_id"]] = {element["action_id"]: {"type": kind, **value}}
    return values


def submit(
    server: SlackAppServer, modal: dict[str, Any], user: str = MANAGER, **fields: Any
) -> dict[str, Any]:
    payload = signing.view_submission_payload(
        user,
        modal["callback_id"],
        state(modal, **fields),
        modal.get("private_metadata", ""),
        blocks=modal["blocks"],
    )
    status, answer = server.interact(payload)
    assert status == 200
    return answer


def buttons(message: Message) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in message.blocks or []:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found[element["action_id"]] = element
        accessory = block.get("accessory") or {}
        if accessory.get("type") == "button":
            found[accessory["action_id"]] = accessory
    return found


def click(
    server: SlackAppServer, message: Message, action_id: str, user: str, response_url: str | None = None
) -> None:
    button = buttons(message)[action_id]
    payload = signing.block_actions_payload(
        user,
        action_id,
        button.get("value"),
        {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks},
        channel_id=message.channel,
        response_url=response_url,
    )
    status, _ = server.interact(payload)
    assert status == 200


def preview(fake: FakeSlack) -> Message:
    [message] = [
        m for m in fake.messages(MANAGER) if m.payload.get("key", "").startswith("broadcast-preview:")
    ]
    return message


def status_message(fake: FakeSlack) -> Message:
    [message] = [
        m for m in fake.messages(MANAGER) if m.payload.get("key", "").startswith("broadcast-status:")
    ]
    return message


def broadcast_dms(fake: FakeSlack) -> dict[str, int]:
    """User -> how many broadcast DMs they got (counted by the outbox key in the message metadata)."""
    counts: dict[str, int] = {}
    for message in fake.messages():
        key = str(message.payload.get("key") or "")
        if key.startswith("broadcast:"):
            assert message.user is not None
            counts[message.user] = counts.get(message.user, 0) + 1
    return counts


def only(engine: Engine) -> Broadcast:
    with session_scope(engine, readonly=True) as session:
        [found] = session.scalars(select(Broadcast)).all()
        session.expunge(found)
        return found


# --- permission -------------------------------------------------------------------------------------------


def test_people_who_are_not_change_managers_are_refused_and_nothing_opens_or_sends(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    seed(engine)
    with SlackAppServer(slack_settings, engine) as server:
        status, answer = server.command("broadcast", user_id="USALES1")
        stranger_status, stranger = server.command("broadcast", user_id="UNKNOWN1")
    assert status == 200 and stranger_status == 200
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == (
        "Sorry, `/adopt broadcast` is only for change managers. Nothing was opened or sent."
    )
    assert stranger["text"] == answer["text"]
    assert fake_slack.views == []
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(Broadcast)) == 0


# --- compose, preview, send ------------------------------------------------------------------------------


def test_preview_shows_the_message_as_sent_and_the_audience_size_then_send_reaches_teams_or_roles(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = fast(slack_settings)
    seed(engine)
    with SlackAppServer(settings, engine) as server:
        modal = composer(server, fake_slack)
        answer = submit(
            server,
            modal,
            message="*New AI policy* <!channel> read it & ask <@U999>",
            teams=[team_id(engine, "Sales")],
            roles=["engineering"],
            ask_ack=True,
        )
        assert answer == {}
        send_queued(engine, settings)
        shown = preview(fake_slack)
        text = shown.block_text()
        # Sales (USALES1, USALES2) ∪ engineering (USALES2, UENG1): three people; UGONE and UBLOCKED skipped.
        assert "Will reach 3 people · 2 unreachable or inactive skipped" in text
        assert "*New AI policy* &lt;!channel&gt; read it &amp; ask &lt;@U999&gt;" in text
        assert "From *Maria Manager* via Adoptbot" in text
        assert broadcast_dms(fake_slack) == {}  # nothing goes out before Send

        click(server, shown, ids.BROADCAST_SEND, MANAGER)
        wait_for(lambda: only(engine).status == "sending", what="the fan-out")
        send_queued(engine, settings)

    assert broadcast_dms(fake_slack) == {"USALES1": 1, "USALES2": 1, "UENG1": 1}
    dm = fake_slack.messages("UENG1")[0]
    assert dm.blocks is not None and dm.blocks[0]["text"]["text"].startswith(
        "*New AI policy* &lt;!channel&gt;"
    )
    assert ids.BROADCAST_GOT_IT in buttons(dm)
    assert "Delivered to all 3 · 2 unreachable · 0 acknowledged" in status_message(fake_slack).block_text()
    assert "Sent." in preview(fake_slack).block_text()
    assert only(engine).status == "sent"


def test_bad_input_is_answered_under_the_field_and_nothing_is_saved_or_sent(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    seed(engine)
    with SlackAppServer(slack_settings, engine) as server:
        modal = composer(server, fake_slack)
        nobody = submit(server, modal, message="Hello", when="now")
        past = (utcnow() - timedelta(days=1)).date().isoformat()
        too_late = submit(
            server, modal, message="Hello", everyone=True, when="later", date=past, time="09:00"
        )
        no_time = submit(server, modal, message="Hello", everyone=True, when="later")
        too_long = submit(server, modal, message="<" * 1000, everyone=True)
        reminder_alone = submit(server, modal, message="Hello", everyone=True, reminder="3")
    assert nobody == {
        "response_action": "errors",
        "errors": {
            ids.BROADCAST_EVERYONE_BLOCK: "Choose who gets it: everyone, or at least one team or role."
        },
    }
    assert too_late["errors"][ids.BROADCAST_TIME_BLOCK].startswith("That time has passed: it is now ")
    assert set(no_time["errors"]) == {ids.BROADCAST_DATE_BLOCK, ids.BROADCAST_TIME_BLOCK}
    # 1,000 "<" are 4,000 characters once escaped: over one section's 3,000.
    assert "4,000 characters" in too_long["errors"][ids.BROADCAST_MESSAGE_BLOCK]
    assert ids.BROADCAST_REMINDER_BLOCK in reminder_alone["errors"]
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(Broadcast)) == 0
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_cancel_on_the_preview_sends_nothing_and_a_late_send_is_refused(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = fast(slack_settings)
    seed(engine)
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        submit(server, composer(server, fake_slack), message="Town hall moved", everyone=True)
        send_queued(engine, settings)
        draft = preview(fake_slack)
        click(server, draft, ids.BROADCAST_CANCEL, MANAGER)
        wait_for(lambda: only(engine).status == "cancelled", what="the cancellation")
        click(server, draft, ids.BROADCAST_SEND, MANAGER, response_url=sink.url("send"))  # the old buttons
        refusal = wait_for(lambda: sink.posts("send"), what="the refusal")
        send_queued(engine, settings)
    assert (
        refusal[0]["text"] == "That broadcast was already sent or cancelled, so there is nothing to change."
    )
    assert broadcast_dms(fake_slack) == {}
    updated = preview(fake_slack)
    assert updated.ts == draft.ts and "Cancelled" in updated.block_text()
    assert ids.BROADCAST_SEND not in buttons(updated)
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(BroadcastRecipient)) == 0


def test_edit_reopens_the_composer_prefilled_and_changes_the_preview_in_place(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = fast(slack_settings)
    seed(engine)
    support = team_id(engine, "Support")
    with SlackAppServer(settings, engine) as server:
        submit(
            server,
            composer(server, fake_slack),
            message="First draft",
            teams=[support],
            ask_ack=True,
            reminder="2",
        )
        send_queued(engine, settings)
        before = len(fake_slack.views)
        click(server, preview(fake_slack), ids.BROADCAST_EDIT, MANAGER)
        modal = wait_for(lambda: fake_slack.views[before:], what="the composer again")[-1].view
        inputs = {b["block_id"]: b["element"] for b in modal["blocks"] if b["type"] == "input"}
        assert inputs[ids.BROADCAST_MESSAGE_BLOCK]["initial_value"] == "First draft"
        assert [o["value"] for o in inputs[ids.BROADCAST_TEAMS_BLOCK]["initial_options"]] == [support]
        assert inputs[ids.BROADCAST_ACK_BLOCK]["initial_options"][0]["value"] == "yes"
        assert inputs[ids.BROADCAST_REMINDER_BLOCK]["initial_option"]["value"] == "2"
        changed = submit(server, modal, message="Second draft", teams=[], roles=["sales"], ask_ack=False)
        assert ids.BROADCAST_REMINDER_BLOCK in changed["errors"]  # a reminder needs "Got it"
        assert (
            submit(
                server, modal, message="Second draft", teams=[], roles=["sales"], ask_ack=False, reminder=None
            )
            == {}
        )
        send_queued(engine, settings)
    shown = preview(fake_slack)
    assert shown.updates == 1
    assert "Second draft" in shown.block_text() and "First draft" not in shown.block_text()
    assert "Roles: Sales" in shown.block_text() and "Will reach 1 person" in shown.block_text()
    saved = only(engine)
    assert (saved.text, saved.status, saved.ask_ack) == ("Second draft", "draft", False)


def test_got_it_turns_into_acknowledged_once_and_is_counted_in_the_status(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = fast(slack_settings)
    seed(engine)
    with SlackAppServer(settings, engine) as server:
        submit(
            server,
            composer(server, fake_slack),
            message="Please read the AI policy",
            teams=[team_id(engine, "Sales")],
            ask_ack=True,
        )
        send_queued(engine, settings)
        click(server, preview(fake_slack), ids.BROADCAST_SEND, MANAGER)
        wait_for(lambda: only(engine).status == "sending", what="the fan-out")
        send_queued(engine, settings)
        with session_scope(engine) as session:  # a minute later
            session.get(Broadcast, only(engine).id).status_at = utcnow() - timedelta(minutes=1)  # type: ignore[union-attr]
        dm = fake_slack.messages("USALES1")[0]
        click(server, dm, ids.BROADCAST_GOT_IT, "USALES1")
        click(server, dm, ids.BROADCAST_GOT_IT, "USALES1")  # a double click changes nothing
        wait_for(lambda: acks(engine) == 1, what="the acknowledgement")
        send_queued(engine, settings)
        _, listing = server.command("broadcast status", user_id=MANAGER)
        _, report = server.command(f"broadcast status {only(engine).id}", user_id=MANAGER)
        _, refused = server.command(f"broadcast status {only(engine).id}", user_id="USALES2")
    assert "Please read the AI policy" in json.dumps(listing["blocks"])
    shown = json.dumps(report["blocks"], ensure_ascii=False)
    assert "Sales: 1 of 2" in shown and "*Not acknowledged yet:* usales2" in shown
    assert refused["text"].startswith("Sorry, `/adopt broadcast` is only for change managers.")
    updated = fake_slack.messages("USALES1")[0]
    assert updated.ts == dm.ts and "✓ Acknowledged" in updated.block_text()
    assert ids.BROADCAST_GOT_IT not in buttons(updated)
    assert ids.BROADCAST_GOT_IT in buttons(fake_slack.messages("USALES2")[0])
    assert "Delivered to all 2 · 1 unreachable · 1 acknowledged" in status_message(fake_slack).block_text()
    with session_scope(engine, readonly=True) as session:
        assert session.scalars(select(Activity.kind)).all() == ["ack"]


def acks(engine: Engine) -> int:
    with session_scope(engine, readonly=True) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(BroadcastRecipient)
                .where(BroadcastRecipient.acked_at.is_not(None))
            )
            or 0
        )


def test_with_more_teams_than_a_menu_holds_teams_are_searched_as_you_type_and_chosen(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = fast(slack_settings)
    seed(engine)
    with session_scope(engine) as session:
        for n in range(120):
            add_person(session, f"UT{n:04d}", team=f"Team {n:03d}", role="finance")
    with SlackAppServer(settings, engine) as server:
        modal = composer(server, fake_slack)
        menu = next(b for b in modal["blocks"] if b.get("block_id") == ids.BROADCAST_TEAMS_BLOCK)["element"]
        suggestion = {
            "type": "block_suggestion",
            "user": {"id": MANAGER},
            "team": {"id": signing.TEAM_ID},
            "api_app_id": signing.API_APP_ID,
            "action_id": ids.BROADCAST_TEAMS_SELECT,
            "block_id": ids.BROADCAST_TEAMS_BLOCK,
            "value": "team 11",
            "view": {"id": "V1", "type": "modal", "callback_id": ids.BROADCAST_MODAL},
        }
        status, answer = server.interact(suggestion)
        chosen = [o for o in answer["options"] if o["text"]["text"] in ("Team 110", "Team 111")]
        values = state(modal, message="For two teams", teams=[])
        values[ids.BROADCAST_TEAMS_BLOCK] = {
            ids.BROADCAST_TEAMS_SELECT: {"type": "multi_external_select", "selected_options": chosen}
        }
        payload = signing.view_submission_payload(
            MANAGER, modal["callback_id"], values, modal["private_metadata"], blocks=modal["blocks"]
        )
        assert server.interact(payload) == (200, {})
        send_queued(engine, settings)
    assert menu["type"] == "multi_external_select" and status == 200
    assert [o["text"]["text"] for o in answer["options"]] == [f"Team {n}" for n in range(110, 120)]
    assert "Will reach 2 people" in preview(fake_slack).block_text()
