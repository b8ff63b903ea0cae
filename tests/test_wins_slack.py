"""Wins through Slack: the real app over HTTP with signed requests, the real outbox, the fake Slack.

Capture (`/adopt win`, the message shortcut), validation, approve / edit / reject, the channel post made
once, escaping of what people typed, anonymity, and the App Home.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.db import session_scope
from bot.models import Activity, OutboxMessage, Win
from bot.outbox import drain
from bot.slack import ids
from bot.slack.client import make_web_client
from tests.support import signing
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack, Message
from tests.support.slack_app import ResponseSink, SlackAppServer, wait_for

CHANNEL = "CWINS0001"
AUTHOR = "UAUTHOR01"
AUTHOR_NAME = "Ada Lovelace"
MANAGER = "UMANAGER1"
ADMIN = "UADMIN001"  # in ADOPTBOT_ADMINS, not on the roster
OTHER = "UOTHER001"
STORY = "I had AI draft the QBR deck from last quarter's notes"


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, wins_channel=CHANNEL, admins=frozenset({ADMIN}))


@pytest.fixture
def roster(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_person(session, AUTHOR, team="Sales EMEA", name=AUTHOR_NAME)
        add_person(session, MANAGER, team="People Ops", change_manager=True, name="Grace Hopper")
        add_person(session, OTHER, team="Support", name="Alan Turing")


# --- helpers (also used by the other test_wins_* modules) -----------------------------------------------


def send(engine: Engine, settings: Settings) -> None:
    """What the outbox worker does in `serve`: send everything queued."""
    drain(engine, make_web_client(settings), settings)


def opened_views(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c.params["view"] for c in fake.calls_to("views.open", ok=True)]


def open_modal(server: SlackAppServer, fake: FakeSlack, user: str = AUTHOR) -> dict[str, Any]:
    """`/adopt win` as `user`; the modal as the app sent it to views.open."""
    before = len(opened_views(fake))
    status, answer = server.command("win", user_id=user)
    assert status == 200 and answer == {}
    return wait_for(lambda: opened_views(fake)[before:], what="the win modal")[0]


def block(view_or_message: dict[str, Any] | list[dict[str, Any]], block_id: str) -> dict[str, Any]:
    blocks = view_or_message if isinstance(view_or_message, list) else view_or_message["blocks"]
    return next(b for b in blocks if b.get("block_id") == block_id)


def state(
    view: dict[str, Any],
    *,
    what: str = STORY,
    tool: str | None = "ChatGPT",
    hours: str | None = "1.5",
    share: str | None = "named",
    team: str | None = None,
) -> dict[str, dict[str, Any]]:
    """view.state.values as Slack sends them for this modal (the team as preselected unless given)."""
    values: dict[str, dict[str, Any]] = {
        ids.WIN_WHAT_BLOCK: {ids.WIN_WHAT_INPUT: {"type": "plain_text_input", "value": what}},
        ids.WIN_TOOL_BLOCK: {ids.WIN_TOOL_INPUT: {"type": "plain_text_input", "value": tool}},
        ids.WIN_HOURS_BLOCK: {ids.WIN_HOURS_INPUT: {"type": "number_input", "value": hours}},
    }
    team_block = next((b for b in view["blocks"] if b.get("block_id") == ids.WIN_TEAM_BLOCK), None)
    if team_block is not None:
        chosen = team or team_block["element"]["initial_option"]["value"]
        values[ids.WIN_TEAM_BLOCK] = {ids.WIN_TEAM_SELECT: signing.selected_option(chosen)}
    if any(b.get("block_id") == ids.WIN_SHARE_BLOCK for b in view["blocks"]):
        values[ids.WIN_SHARE_BLOCK] = {
            ids.WIN_SHARE_INPUT: signing.selected_option(share, kind="radio_buttons")
            if share
            else {"type": "radio_buttons", "selected_option": None}
        }
    return values


def submit(
    server: SlackAppServer, user: str, view: dict[str, Any], values: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    payload = signing.view_submission_payload(
        user, view["callback_id"], values, view.get("private_metadata", ""), blocks=view["blocks"]
    )
    status, answer = server.interact(payload)
    assert status == 200
    return answer


def share_win(
    server: SlackAppServer, fake: FakeSlack, engine: Engine, user: str = AUTHOR, **fields: Any
) -> int:
    """Open the modal and submit it; the new win's id."""
    view = open_modal(server, fake, user)
    answer = submit(server, user, view, state(view, **fields))
    assert answer["response_action"] == "update", answer
    assert "Thank you" in json.dumps(answer["view"])
    with session_scope(engine, readonly=True) as session:
        return int(session.scalar(select(func.max(Win.id))) or 0)


def click(
    server: SlackAppServer,
    message: Message | dict[str, Any],
    user: str,
    action_id: str,
    *,
    sink: ResponseSink | None = None,
    name: str = "r",
    channel: str | None = None,
) -> None:
    """Click a button of a message as `user` (the message as the fake Slack holds it, or an ephemeral)."""
    if isinstance(message, Message):
        msg = {"type": "message", "ts": message.ts, "text": message.text, "blocks": message.blocks}
        channel = message.channel
    else:
        msg = message
    element = next(
        e
        for b in msg["blocks"] or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    payload = signing.block_actions_payload(
        user,
        action_id,
        element.get("value"),
        msg,
        channel_id=channel or "C0FAKE",
        response_url=sink.url(name) if sink is not None else None,
    )
    status, _ = server.interact(payload)
    assert status == 200


def review_dm(fake: FakeSlack, user: str) -> Message:
    [message] = [m for m in fake.messages(user) if m.text.startswith("New AI win to review")]
    return message


def win_row(engine: Engine, win_id: int) -> Win:
    with session_scope(engine, readonly=True) as session:
        win = session.get(Win, win_id)
        assert win is not None
        return win


def text_of(message: Message) -> str:
    return message.text + "\n" + message.block_text()


def action_ids(message: Message) -> list[str]:
    return [e["action_id"] for b in message.blocks or [] if b["type"] == "actions" for e in b["elements"]]


# --- capture --------------------------------------------------------------------------------------------


def test_the_win_modal_asks_for_everything_within_slacks_limits(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server:
        view = open_modal(server, fake_slack)
        status, stranger = server.command("win", user_id="UNOBODY01")
    assert view["callback_id"] == ids.WIN_MODAL and view["title"]["text"] == "Share a win"
    what = block(view, ids.WIN_WHAT_BLOCK)["element"]
    assert (
        what["multiline"] is True
        and what["max_length"] == 2000
        and not block(view, ids.WIN_WHAT_BLOCK)["optional"]
    )
    assert block(view, ids.WIN_TOOL_BLOCK)["optional"] is True
    hours = block(view, ids.WIN_HOURS_BLOCK)["element"]
    assert (hours["type"], hours["min_value"], hours["max_value"], hours["is_decimal_allowed"]) == (
        "number_input",
        "0",
        "40",
        True,
    )
    team = block(view, ids.WIN_TEAM_BLOCK)["element"]
    assert team["initial_option"]["text"]["text"] == "Sales EMEA"  # prefilled from the person
    assert sorted(o["text"]["text"] for o in team["options"]) == ["People Ops", "Sales EMEA", "Support"]
    share = block(view, ids.WIN_SHARE_BLOCK)
    assert [o["value"] for o in share["element"]["options"]] == ["named", "anonymous", "private"]
    assert share["element"]["initial_option"]["value"] == "named"
    assert "change managers who review it still see who sent it" in share["hint"]["text"]
    # Someone not on the roster is told what to do first; nothing opens.
    assert status == 200 and "`/adopt role`" in stranger["text"] and stranger["response_type"] == "ephemeral"
    assert len(opened_views(fake_slack)) == 1


@pytest.mark.parametrize("hours", ["-1", "41", "abc", None])
def test_hours_outside_0_to_40_are_an_inline_error_and_nothing_is_stored(
    hours: str | None, settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server:
        view = open_modal(server, fake_slack)
        answer = submit(server, AUTHOR, view, state(view, hours=hours, what="  " if hours is None else STORY))
    assert answer["response_action"] == "errors"
    assert "a number from 0 to 40" in answer["errors"][ids.WIN_HOURS_BLOCK]
    if hours is None:
        assert ids.WIN_WHAT_BLOCK in answer["errors"]  # an empty story too
    with session_scope(engine, readonly=True) as session:
        for model in (Win, OutboxMessage, Activity):
            assert session.scalar(select(func.count()).select_from(model)) == 0


def test_the_message_shortcut_prefills_the_text_and_a_link_to_the_message(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    posted = make_web_client(settings).chat_postMessage(channel="C0FAKE", text="placeholder")
    slack_text = (
        "Used <https://chat.example|our assistant> for the QBR deck &amp; saved 2 h, thanks <@UOTHER001>"
    )
    with SlackAppServer(settings, engine) as server:
        payload = signing.message_shortcut_payload(
            AUTHOR, slack_text, channel_id="C0FAKE", message_ts=str(posted["ts"]), author_id=OTHER
        )
        assert server.interact(payload)[0] == 200
        view = wait_for(lambda: opened_views(fake_slack), what="the prefilled modal")[0]
        # Slack can't give a permalink (e.g. a message it no longer has): the link is built from the payload.
        fallback = signing.message_shortcut_payload(AUTHOR, "Second one", message_ts="1700000000.000100")
        assert server.interact(fallback)[0] == 200
        second = wait_for(lambda: opened_views(fake_slack)[1:], what="the second modal")[0]
        answer = submit(
            server,
            AUTHOR,
            view,
            state(view, what=block(view, ids.WIN_WHAT_BLOCK)["element"]["initial_value"]),
        )
        assert answer["response_action"] == "update"
    link = f"https://fake.slack.com/archives/C0FAKE/p{str(posted['ts']).replace('.', '')}"
    prefilled = block(view, ids.WIN_WHAT_BLOCK)["element"]["initial_value"]
    assert prefilled == (
        "Used our assistant (https://chat.example) for the QBR deck & saved 2 h, thanks @UOTHER001"
    )
    assert link in json.dumps(view["blocks"]) and link in view["private_metadata"]
    assert "https://fake.slack.com/archives/C0FAKE/p1700000000000100" in second["private_metadata"]
    assert block(second, ids.WIN_WHAT_BLOCK)["element"]["initial_value"] == "Second one"
    [win] = _all_wins(engine)
    assert win.source_link == link and win.what == prefilled
    send(engine, settings)
    assert f"<{link}|The original message>" in text_of(review_dm(fake_slack, MANAGER))


def _all_wins(engine: Engine) -> list[Win]:
    with session_scope(engine, readonly=True) as session:
        return list(session.scalars(select(Win).order_by(Win.id)))


# --- moderation -----------------------------------------------------------------------------------------


def test_approve_posts_once_tells_the_author_and_updates_every_managers_dm(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        win_id = share_win(server, fake_slack, engine)
        send(engine, settings)
        assert fake_slack.messages(CHANNEL) == []  # nothing public before approval
        [confirmation] = fake_slack.messages(AUTHOR)
        assert "Thanks for sharing your win" in text_of(confirmation)
        for manager in (MANAGER, ADMIN):
            dm = review_dm(fake_slack, manager)
            assert action_ids(dm) == [ids.WIN_APPROVE, ids.WIN_EDIT, ids.WIN_REJECT]
            assert f"<@{AUTHOR}>" in text_of(dm) and "Sales EMEA" in text_of(dm)
        # The queue, for change managers only.
        _, queue = server.command("wins", user_id=MANAGER)
        assert queue["response_type"] == "ephemeral" and queue["text"] == "1 win waiting for review."
        assert block(queue["blocks"], f"{ids.WIN_REVIEW_BLOCK}{win_id}")
        _, refused = server.command("wins", user_id=OTHER)
        assert (
            refused["text"] == "Sorry, `/adopt wins` is only for change managers. Nothing was opened or sent."
        )

        click(server, review_dm(fake_slack, MANAGER), MANAGER, ids.WIN_APPROVE)
        wait_for(lambda: win_row(engine, win_id).status == "approved", what="the approval")
        send(engine, settings)
        # The other manager's stale DM, and a second click by the first: told, nothing else happens.
        stale = fake_slack.messages(ADMIN)[0].history[0]
        click(
            server,
            {**stale, "ts": fake_slack.messages(ADMIN)[0].ts},
            ADMIN,
            ids.WIN_APPROVE,
            sink=sink,
            name="a",
            channel=f"D{ADMIN}",
        )
        click(
            server,
            {**stale, "ts": "1.1"},
            MANAGER,
            ids.WIN_APPROVE,
            sink=sink,
            name="b",
            channel=f"D{MANAGER}",
        )
        [late] = wait_for(lambda: sink.posts("a"), what="the admin's answer")
        [again] = wait_for(lambda: sink.posts("b"), what="the second click's answer")
        send(engine, settings)

    assert late["text"] == f"This win was already approved by <@{MANAGER}>. Nothing changed."
    assert late["response_type"] == "ephemeral" and late["replace_original"] is False
    assert again["text"] == late["text"]
    [post] = fake_slack.messages(CHANNEL)
    assert f"Shared by <@{AUTHOR}>" in text_of(post) and STORY.replace("'", "'") in text_of(post)
    assert action_ids(post) == [ids.WIN_TRY_THIS]
    for manager in (MANAGER, ADMIN):
        dm = review_dm(fake_slack, manager)
        assert dm.updates == 1 and action_ids(dm) == []
        assert f"Approved by <@{MANAGER}> · shared in <#{CHANNEL}>" in text_of(dm)
    approved = [m for m in fake_slack.messages(AUTHOR) if m.text == "Your win is approved!"]
    assert len(approved) == 1 and f"shared in <#{CHANNEL}>" in text_of(approved[0])
    win = win_row(engine, win_id)
    assert win.reviewer_user_id == MANAGER and win.shared_at is not None


def test_two_managers_approving_at_the_same_moment_share_it_once(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        win_id = share_win(server, fake_slack, engine)
        send(engine, settings)
        dms = {user: review_dm(fake_slack, user) for user in (MANAGER, ADMIN)}
        threads = [
            threading.Thread(
                target=click, args=(server, dms[u], u, ids.WIN_APPROVE), kwargs={"sink": sink, "name": u}
            )
            for u in dms
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        [answer] = wait_for(lambda: sink.posts(MANAGER) + sink.posts(ADMIN), what="the loser's answer")
    send(engine, settings)
    winner = win_row(engine, win_id).reviewer_user_id
    assert winner in (MANAGER, ADMIN)
    assert answer["text"] == f"This win was already approved by <@{winner}>. Nothing changed."
    assert len(fake_slack.messages(CHANNEL)) == 1
    assert fake_slack.duplicates("key") == {}


def test_edit_lets_a_manager_fix_the_story_then_shares_the_edited_version(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server:
        win_id = share_win(server, fake_slack, engine, what="I usd AI for teh QBR deck", hours="40")
        send(engine, settings)
        click(server, review_dm(fake_slack, MANAGER), MANAGER, ids.WIN_EDIT)
        edit = wait_for(lambda: opened_views(fake_slack)[1:], what="the edit modal")[0]
        assert edit["callback_id"] == ids.WIN_EDIT_MODAL and edit["submit"]["text"] == "Save and approve"
        assert block(edit, ids.WIN_WHAT_BLOCK)["element"]["initial_value"] == "I usd AI for teh QBR deck"
        assert block(edit, ids.WIN_HOURS_BLOCK)["element"]["initial_value"] == "40"
        assert not any(
            b.get("block_id") == ids.WIN_SHARE_BLOCK for b in edit["blocks"]
        )  # the author's choice
        bad = submit(server, MANAGER, edit, state(edit, what="I used AI for the QBR deck", hours="41"))
        assert ids.WIN_HOURS_BLOCK in bad["errors"] and win_row(engine, win_id).status == "pending"
        done = submit(server, MANAGER, edit, state(edit, what="I used AI for the QBR deck", hours="4"))
        assert done == {}
    send(engine, settings)
    win = win_row(engine, win_id)
    assert (win.status, win.what, win.hours_per_week, win.share) == (
        "approved",
        "I used AI for the QBR deck",
        4.0,
        "named",
    )
    [post] = fake_slack.messages(CHANNEL)
    assert "I used AI for the QBR deck" in text_of(post) and "4 h a week" in text_of(post)
    assert f"Edited and approved by <@{MANAGER}>" in text_of(review_dm(fake_slack, ADMIN))
    [approved] = [m for m in fake_slack.messages(AUTHOR) if m.text == "Your win is approved!"]
    assert f"<@{MANAGER}> lightly edited it first." in text_of(approved)


def test_reject_asks_for_a_note_the_author_receives_and_nothing_is_posted(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        win_id = share_win(server, fake_slack, engine)
        send(engine, settings)
        click(server, review_dm(fake_slack, ADMIN), ADMIN, ids.WIN_REJECT)
        modal = wait_for(lambda: opened_views(fake_slack)[1:], what="the reject modal")[0]
        assert modal["callback_id"] == ids.WIN_REJECT_MODAL
        values = {ids.WIN_REASON_BLOCK: {ids.WIN_REASON_INPUT: {"type": "plain_text_input", "value": " "}}}
        empty = submit(server, ADMIN, modal, values)
        assert empty["errors"] == {ids.WIN_REASON_BLOCK: "Write a short note for the author."}
        note = "It names a customer <!channel>: could you share it again without it?"
        values[ids.WIN_REASON_BLOCK][ids.WIN_REASON_INPUT]["value"] = note
        assert submit(server, ADMIN, modal, values) == {}
        send(engine, settings)
        click(
            server,
            review_dm(fake_slack, MANAGER).history[0] | {"ts": "1.2"},
            MANAGER,
            ids.WIN_APPROVE,
            sink=sink,
            channel=f"D{MANAGER}",
        )
        [late] = wait_for(lambda: sink.posts("r"), what="the late approval's answer")
    send(engine, settings)
    assert late["text"] == f"This win was already rejected by <@{ADMIN}>. Nothing changed."
    win = win_row(engine, win_id)
    assert (win.status, win.reject_reason, win.reviewer_user_id) == ("rejected", note, ADMIN)
    assert fake_slack.messages(CHANNEL) == []
    [rejected] = [m for m in fake_slack.messages(AUTHOR) if m.text == "Your win wasn't shared this time."]
    assert "It names a customer &lt;!channel&gt;: could you share it again without it?" in text_of(rejected)
    assert "<!channel>" not in text_of(rejected)
    for manager in (MANAGER, ADMIN):
        assert f"Rejected by <@{ADMIN}>" in text_of(review_dm(fake_slack, manager))


def test_only_change_managers_can_decide(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        win_id = share_win(server, fake_slack, engine)
        send(engine, settings)
        forwarded = review_dm(fake_slack, MANAGER)
        for action in (ids.WIN_APPROVE, ids.WIN_REJECT, ids.WIN_EDIT):
            click(server, forwarded, OTHER, action, sink=sink, name=action)
        answers = [
            wait_for(lambda a=a: sink.posts(a), what="a refusal")[0]
            for a in (ids.WIN_APPROVE, ids.WIN_REJECT, ids.WIN_EDIT)
        ]
    assert all("only for change managers" in a["text"] for a in answers)
    assert win_row(engine, win_id).status == "pending" and len(opened_views(fake_slack)) == 1


# --- escaping and anonymity -----------------------------------------------------------------------------

HOSTILE = "Saved 3 h <!channel> <!here> <@UOTHER001> <!subteam^S0123|@sales> Q&A <http://evil.example|click>"
RAW_TOKENS = ("<!channel>", "<!here>", "<@UOTHER001>", "<!subteam^", "<http://evil", "Q&A")


def _assert_inert(message: Message) -> None:
    seen = text_of(message)
    for token in RAW_TOKENS:
        assert token not in seen, (token, seen)
    assert "&lt;!channel&gt; &lt;!here&gt; &lt;@UOTHER001&gt; &lt;!subteam^S0123|@sales&gt; Q&amp;A" in seen
    assert "&lt;http://evil.example|click&gt;" in seen
    for b in message.blocks or []:
        if "&lt;!channel&gt;" in json.dumps(b):  # sections carrying typed text are not parsed by Slack
            texts = [b["text"]] if "text" in b else b.get("fields", [])
            assert all(t.get("verbatim") is True for t in texts if "&lt;!channel&gt;" in t["text"])


def test_typed_text_can_never_ping_or_forge_a_link(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server:
        share_win(server, fake_slack, engine, what=HOSTILE, tool="<!here> & <http://evil.example|GPT>")
        send(engine, settings)
        _assert_inert(review_dm(fake_slack, MANAGER))
        click(server, review_dm(fake_slack, MANAGER), MANAGER, ids.WIN_APPROVE)
        wait_for(lambda: _all_wins(engine)[0].status == "approved", what="the approval")
        send(engine, settings)
        assert server.event({"type": "app_home_opened", "user": AUTHOR, "tab": "home"}) == 200
        home = wait_for(lambda: fake_slack.home_views.get(AUTHOR), what="the author's Home")
    [post] = fake_slack.messages(CHANNEL)
    _assert_inert(post)
    assert "&lt;!here&gt; &amp; &lt;http://evil.example|GPT&gt;" in text_of(post)
    assert re.findall(r"<[@!#][^>]*>", text_of(post)) == [f"<@{AUTHOR}>"]  # the one mention is ours
    home_text = json.dumps(home["blocks"], ensure_ascii=False)
    assert "Your wins" in home_text and "&lt;!channel&gt;" in home_text and "<!channel>" not in home_text


def test_an_anonymous_win_never_names_its_author_outside_the_reviewers_dms(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    with SlackAppServer(settings, engine) as server:
        win_id = share_win(server, fake_slack, engine, share="anonymous")
        send(engine, settings)
        assert f"<@{AUTHOR}>" in text_of(review_dm(fake_slack, MANAGER))  # reviewers know whom to ask
        click(server, review_dm(fake_slack, MANAGER), MANAGER, ids.WIN_APPROVE)
        wait_for(lambda: win_row(engine, win_id).status == "approved", what="the approval")
        send(engine, settings)
        [post] = fake_slack.messages(CHANNEL)
        click(server, post, OTHER, ids.WIN_TRY_THIS)  # a colleague tries it too
        tried = wait_for(lambda: opened_views(fake_slack)[1:], what="the modal for the colleague")[0]
        for user in (OTHER, MANAGER):
            assert server.event({"type": "app_home_opened", "user": user, "tab": "home"}) == 200
        wait_for(lambda: OTHER in fake_slack.home_views and MANAGER in fake_slack.home_views, what="Homes")
    assert "Shared anonymously" in text_of(post)
    assert block(tried, ids.WIN_TOOL_BLOCK)["element"]["initial_value"] == "ChatGPT"
    reviewers = {MANAGER, ADMIN, f"D{MANAGER}", f"D{ADMIN}"}
    author_own = {AUTHOR, f"D{AUTHOR}"}
    checked = 0
    for call in fake_slack.calls:
        target = call.params.get("channel") or call.params.get("user_id") or call.params.get("users")
        if target in reviewers or target in author_own:
            continue
        seen = json.dumps(call.params)
        for secret in (AUTHOR, "Ada", "Lovelace"):
            assert secret not in seen, (call.method, seen)
        checked += 1
    assert checked >= 5  # the channel post, the modal, the Homes at least
    for record in caplog.records:
        assert AUTHOR not in record.getMessage() and "Lovelace" not in record.getMessage()


def test_a_private_win_is_approved_and_counted_but_never_posted(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server:
        win_id = share_win(server, fake_slack, engine, share="private")
        send(engine, settings)
        assert "Not publicly" in text_of(review_dm(fake_slack, MANAGER))
        click(server, review_dm(fake_slack, MANAGER), MANAGER, ids.WIN_APPROVE)
        wait_for(lambda: win_row(engine, win_id).status == "approved", what="the approval")
        send(engine, settings)
        assert server.event({"type": "app_home_opened", "user": AUTHOR, "tab": "home"}) == 200
        home = wait_for(lambda: fake_slack.home_views.get(AUTHOR), what="the author's Home")
        # The Home's "Share a win" button opens the modal again.
        assert server.interact(signing.block_actions_payload(AUTHOR, ids.WIN_OPEN_MODAL, view=home))[0] == 200
        again = wait_for(lambda: opened_views(fake_slack)[1:], what="the modal from Home")[0]
    assert again["callback_id"] == ids.WIN_MODAL
    assert fake_slack.messages(CHANNEL) == []
    [approved] = [m for m in fake_slack.messages(AUTHOR) if m.text == "Your win is approved!"]
    assert "isn't posted" in text_of(approved)
    assert "counted, not posted" in text_of(review_dm(fake_slack, ADMIN))
    home_text = json.dumps(home["blocks"], ensure_ascii=False)
    assert "*1* approved · *1.5 h a week* saved" in home_text and "✅ counted" in home_text


def test_the_queue_lists_pending_wins_oldest_first_and_its_buttons_decide(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        first = share_win(server, fake_slack, engine, what="First win")
        second = share_win(server, fake_slack, engine, user=OTHER, what="Second win", share="anonymous")
        _, queue = server.command("wins", user_id=ADMIN)
        assert queue["text"] == "2 wins waiting for review."
        listed = [b["block_id"] for b in queue["blocks"] if b["type"] == "actions"]
        assert listed == [f"{ids.WIN_REVIEW_BLOCK}{first}", f"{ids.WIN_REVIEW_BLOCK}{second}"]
        assert "Second win" in json.dumps(queue["blocks"]) and f"<@{OTHER}>" in json.dumps(queue["blocks"])
        payload = signing.block_actions_payload(
            ADMIN,
            ids.WIN_APPROVE,
            str(second),
            {"type": "message", "ts": "1.3", "blocks": queue["blocks"]},
            response_url=sink.url("q"),
        )
        payload["container"]["is_ephemeral"] = True
        assert server.interact(payload)[0] == 200
        [answer] = wait_for(lambda: sink.posts("q"), what="the queue's answer")
        _, after = server.command("wins", user_id=ADMIN)
    assert answer["text"] == f"✅ Approved by <@{ADMIN}> · shared in <#{CHANNEL}>"
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert (win_row(engine, first).status, win_row(engine, second).status) == ("pending", "approved")
    assert after["text"] == "1 win waiting for review."
    send(engine, settings)
    [post] = fake_slack.messages(CHANNEL)
    assert "Second win" in text_of(post) and "Shared anonymously" in text_of(post)
    assert f"Approved by <@{ADMIN}>" in text_of(_review_of(fake_slack, MANAGER, second))
    assert action_ids(_review_of(fake_slack, MANAGER, first)) == [
        ids.WIN_APPROVE,
        ids.WIN_EDIT,
        ids.WIN_REJECT,
    ]


def _review_of(fake: FakeSlack, user: str, win_id: int) -> Message:
    [message] = [m for m in fake.messages(user) if m.payload.get("win_id") == win_id]
    return message
