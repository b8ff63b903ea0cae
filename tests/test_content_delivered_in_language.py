"""What people read comes in their language where the library has a translation: nudge DMs (tick -> outbox
-> fake Slack, and the message after a click), the pulse (invitation, modal, "Answered ✓"), and the role
name on App Home. Answers given in German and English pool into one team's figures."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select, update

from bot.clock import utcnow
from bot.config import Settings
from bot.content import Library, load_library
from bot.db import session_scope
from bot.digest.service import suggested_action
from bot.jobs import run_due_jobs
from bot.metrics.service import compute_metrics
from bot.models import OutboxMessage, Person, PulseAnswer
from bot.nudges.service import deliver_due
from bot.outbox import drain
from bot.pulses import confirm as pulse_confirm
from bot.pulses import service as pulses
from bot.slack import ids
from bot.slack.client import make_web_client
from tests.support import signing
from tests.support.factories import add_person, add_team
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_slack import FakeSlack, Message
from tests.support.slack_app import SlackAppServer, button_in, library, wait_for
from tests.test_content import write_library
from tests.test_content_locales import DE_PULSE, german
from tests.test_digest import NOW, WEEK, K, build_world
from tests.test_nudges_slack import TUESDAY_10_BERLIN
from tests.test_nudges_world import LONG_AGO, deliveries
from tests.test_pulses_slack import STAGES, _click, _sheet, _submit

DE_TITLE = "Ein Kundengespräch mit einem Account-Briefing vorbereiten"
DE_TRY_IT = "Nenne anhand des folgenden Textes 3 wahrscheinliche Prioritäten: [Text einfügen]"
EN_TITLE = "Prepare a call with an account brief"


def _texts(blocks: list[dict[str, Any]] | None) -> str:
    return json.dumps(blocks or [], ensure_ascii=False)


def _nudge(fake: FakeSlack, user: str) -> Message:
    [message] = [m for m in fake.messages(user) if ids.NUDGE_TRIED in json.dumps(m.blocks)]
    return message


def _tick_and_send(engine: Engine, settings: Settings, content: Library, now: datetime) -> None:
    report = run_due_jobs(engine, settings, content, now)
    assert report.failed_jobs == []
    drain(engine, make_web_client(settings), settings)


def test_a_nudge_comes_in_the_recipients_language_and_stays_in_it_after_a_click(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    content = load_library(write_library(tmp_path, german()))
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        berlin = {"timezone": "Europe/Berlin", "team": team, "created_at": LONG_AGO}
        german_roster = add_person(session, "UDEROSTER", locale="de", **berlin).id
        add_person(session, "UDESLACK", slack_locale="de-AT", **berlin)  # Slack's tag, matched to `de`
        add_person(session, "UENGLISH", locale="en", slack_locale="de-DE", **berlin)  # the roster wins
        add_person(session, "UJAPAN", locale="ja", **berlin)  # shipped, but this library has no Japanese
    _tick_and_send(engine, slack_settings, content, TUESDAY_10_BERLIN)

    for user in ("UDEROSTER", "UDESLACK"):
        message = _nudge(fake_slack, user)
        assert message.blocks is not None
        assert message.blocks[0] == {
            "type": "header",
            "text": {"type": "plain_text", "text": DE_TITLE, "emoji": True},
        }
        assert message.blocks[1]["text"]["text"].startswith("Füge *öffentliche* Infos")
        assert f"*Probier's aus*\n>{DE_TRY_IT}" == message.blocks[2]["text"]["text"]
        assert message.text == f"Dein KI-Impuls: {DE_TITLE}"  # the bot's own words in German too
    for user, fallback in (("UENGLISH", "Your AI nudge"), ("UJAPAN", "AIのヒント")):
        message = _nudge(fake_slack, user)  # the library has no Japanese nudge; the bot speaks Japanese
        assert message.text == f"{fallback}: {EN_TITLE}"
        assert "Füge" not in _texts(message.blocks) and "Prioritäten" not in _texts(message.blocks)

    # A click edits the message in the language it was sent in.
    sent = _nudge(fake_slack, "UDEROSTER")
    tried = next(
        e
        for b in sent.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.NUDGE_TRIED
    )
    with SlackAppServer(slack_settings, engine, content=content) as server:
        payload = signing.block_actions_payload(
            "UDEROSTER",
            ids.NUDGE_TRIED,
            tried["value"],
            {"type": "message", "ts": sent.ts, "text": sent.text, "blocks": sent.blocks},
            channel_id=sent.channel,
        )
        assert server.interact(payload)[0] == 200
        wait_for(lambda: deliveries(engine, german_roster)[0].status == "tried", what="the click")
    drain(engine, make_web_client(slack_settings), slack_settings)
    updated = fake_slack.message(sent.channel, sent.ts)
    assert updated is not None and updated.updates == 1
    assert updated.blocks is not None and updated.blocks[0]["text"]["text"] == DE_TITLE
    assert DE_TRY_IT in _texts(updated.blocks) and "Du hast es ausprobiert – super!" in _texts(updated.blocks)

    # Exactly once: another tick in the same hour sends nothing more.
    posted = len(fake_slack.calls_to("chat.postMessage"))
    _tick_and_send(engine, slack_settings, content, TUESDAY_10_BERLIN + timedelta(minutes=30))
    assert len(fake_slack.calls_to("chat.postMessage")) == posted
    with session_scope(engine, readonly=True) as session:
        keys = session.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "nudge")).all()
    assert len(keys) == 4


def _settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, secret="slack-test-secret")


def _open_and_send(engine: Engine, settings: Settings, content: Library) -> None:
    with session_scope(engine) as session:
        pulses.open_run(session, library=content, settings=settings, now=utcnow())
        session.execute(update(OutboxMessage).values(not_before=utcnow() - timedelta(seconds=1)))
    drain(engine, make_web_client(settings), settings)


def test_a_german_respondent_answers_the_german_pulse_and_the_team_pools_with_english_answers(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    users = ["UDE1", "UDE2", "UEN1", "UEN2", "UEN3"]
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        add_person(session, "UDE1", team=team, locale="de")
        add_person(session, "UDE2", team=team, slack_locale="de-DE")
        for user in users[2:]:
            add_person(session, user, team=team)
    _open_and_send(engine, settings, library())
    invitation = fake_slack.messages("UDE1")[0]
    assert invitation.blocks is not None and invitation.blocks[0]["text"]["text"].startswith(
        "*KI-Pulsbefragung*\n"
    )
    assert "*AI adoption pulse*" in _texts(fake_slack.messages("UEN1")[0].blocks)

    sheets = [
        _sheet(5, 4, 2, 3, 4, 3, 0),
        _sheet(4, 4, 2, 2, 3, 3, 2),
        _sheet(3, 5, 1, 2, 3, 4, 4),
        _sheet(4, 3, 3, 3, 2, 2, 1),
        _sheet(5, 5, 2, 1, 4, 5, 0),
    ]
    with SlackAppServer(settings, engine) as server:
        for user, sheet in zip(users, sheets, strict=True):
            modal = _click(server, fake_slack, user)
            inputs = [b for b in modal["blocks"] if b["type"] == "input"]
            first = [o["text"]["text"] for o in inputs[0]["element"]["options"]]
            usage = [o["text"]["text"] for o in inputs[6]["element"]["options"]]
            if user.startswith("UDE"):
                assert modal["title"]["text"] == "KI-Pulsbefragung"
                assert inputs[0]["label"]["text"].startswith("Ich verstehe, warum unser Unternehmen")
                assert first[0] == "1 — Stimme gar nicht zu" and first[4] == "5 — Stimme voll zu"
                assert usage[0] == "Gar nicht"
            else:
                assert modal["title"]["text"] == "AI adoption pulse"
                assert first[0] == "1 — Strongly disagree"
                assert "Stimme" not in _texts(modal["blocks"])
            # the same questions, in the same order, answered by the same values
            assert [b["block_id"] for b in inputs][:7] == [
                ids.PULSE_QUESTION_BLOCK + q.id for q in library().surveys["adkar"].questions[:7]
            ]
            answer = _submit(server, user, modal, sheet)
            assert answer["response_action"] == "update"

    with session_scope(engine, readonly=True) as session:
        stored = set(session.scalars(select(PulseAnswer.question_id)))
        week = utcnow().date() - timedelta(days=utcnow().weekday())
        rows = compute_metrics(session, week_monday=week, settings=settings, now=utcnow() + timedelta(days=8))
    row = next(r.to_dict() for r in rows if r.team == "Sales EMEA")
    assert stored <= {q.id for q in library().surveys["adkar"].questions}
    assert row["respondents"] == 5
    assert [row[s] for s in STAGES] == [4.2, 4.2, 2.1, 3.2, 3.4]
    assert row["usage_rate"] == 0.6

    # The next day's "Answered ✓" edit names the survey in each person's language too.
    with session_scope(engine) as session:
        pulse_confirm.confirm_answers(
            session, library=library(), settings=settings, now=utcnow() + timedelta(days=1)
        )
    drain(engine, make_web_client(settings), settings)
    for user, title, answered in (
        ("UDE2", "KI-Pulsbefragung", "✅ *Beantwortet ✓* – danke!"),
        ("UEN2", "AI adoption pulse", "✅ *Answered ✓* — thank you."),
    ):
        [edited] = fake_slack.messages(user)
        assert edited.updates == 1 and edited.blocks is not None
        assert edited.blocks[0]["text"]["text"] == f"*{title}*\n{answered}"


def test_translated_survey_texts_are_escaped_and_kept_within_slacks_limits(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    long_label = "Ich stimme dieser Aussage überhaupt und ganz entschieden nicht zu, wirklich"
    assert len(long_label) == 75  # the most a translation may give: the modal adds "1 — " in front
    pulse = DE_PULSE.replace(
        'title = "KI-Puls"',
        f'title = "KI & <Arbeit>"\nscale = ["{long_label}", "Nein", "Weder noch", "Ja", "Voll"]',
    )
    content = load_library(write_library(tmp_path, german(pulses__pulse=pulse)))
    settings = _settings(slack_settings)
    with session_scope(engine) as session:
        add_person(session, "UDE1", locale="de")
    _open_and_send(engine, settings, content)
    [invitation] = fake_slack.messages("UDE1")
    assert invitation.blocks is not None
    assert invitation.blocks[0]["text"]["text"].startswith("*KI &amp; &lt;Arbeit&gt;*\n")
    with SlackAppServer(settings, engine, content=content) as server:
        modal = _click(server, fake_slack, "UDE1")
    assert modal["title"]["text"] == "KI & <Arbeit>"  # plain text: Slack shows it as typed
    options = [o["text"]["text"] for o in modal["blocks"][1]["element"]["options"]]
    assert len(options[0]) <= 75 and options[0].startswith("1 — Ich stimme") and options[0].endswith("…")
    assert options[1:] == ["2 — Nein", "3 — Weder noch", "4 — Ja", "5 — Voll"]


def _role_menu(fake: FakeSlack, before: int) -> dict[str, str]:
    """Role id -> the name the role modal opened after `before` calls shows."""
    call = wait_for(lambda: fake.calls_to("views.open", ok=True)[before:], what="the role modal")[-1]
    block = next(b for b in call.params["view"]["blocks"] if b.get("block_id") == ids.ROLE_BLOCK)
    return {o["value"]: o["text"]["text"] for o in block["element"]["options"]}


def test_app_home_and_the_role_menu_show_role_names_in_the_persons_language(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    with session_scope(engine) as session:
        add_person(session, "UDEHR", team="People", role="hr", locale="de")
        add_person(session, "UENHR", team="People", role="hr", slack_locale="de-DE", locale="en")
    shown: dict[str, dict[str, str]] = {}
    menus: dict[str, dict[str, str]] = {}
    with SlackAppServer(slack_settings, engine) as server:
        for user in ("UDEHR", "UENHR"):
            server.event({"type": "app_home_opened", "user": user, "channel": "D" + user, "tab": "home"})
            home = wait_for(lambda user=user: fake_slack.home_views.get(user), what="the Home tab")
            fields = next(b for b in home["blocks"] if b["type"] == "section" and "fields" in b)["fields"]
            shown[user] = {f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1] for f in fields}
            if user == "UDEHR":
                assert "deiner Rolle (Personal &amp; HR)" in _texts(home["blocks"])
            # App Home's "Change role" button opens the role menu in the same language ...
            button = button_in(home, ids.OPEN_ROLE_MODAL)
            before = len(fake_slack.calls_to("views.open", ok=True))
            payload = signing.block_actions_payload(
                user, ids.OPEN_ROLE_MODAL, button["value"], view={"type": "home"}, channel_id="D" + user
            )
            assert server.interact(payload)[0] == 200
            menus[user] = _role_menu(fake_slack, before)
            # ... and so does `/adopt role`.
            before = len(fake_slack.calls_to("views.open", ok=True))
            assert server.command("role", user_id=user)[0] == 200
            assert _role_menu(fake_slack, before) == menus[user]
    assert shown["UDEHR"]["*Rolle*"] == "Personal &amp; HR"  # roles.toml's German name, escaped
    assert shown["UENHR"]["*Role*"] == "People &amp; HR"  # the roster's `en` wins over Slack's German
    assert menus["UDEHR"]["sales"] == "Vertrieb" and menus["UDEHR"]["hr"] == "Personal & HR"
    assert menus["UENHR"]["sales"] == library().roles["sales"].name
    assert set(menus["UDEHR"]) == set(menus["UENHR"]) == set(library().roles)


def test_an_ai_adapted_try_it_is_asked_for_in_the_recipients_language(
    engine: Engine, fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    content = load_library(write_library(tmp_path, german()))
    settings = dataclasses.replace(Settings(), openai_api_key="sk-test", openai_base_url=fake_openai.url)
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        for user, locale in (("UDE1", "de"), ("UDE2", "de"), ("UEN1", None)):
            add_person(session, user, timezone="Europe/Berlin", team=team, created_at=LONG_AGO, locale=locale)
    fake_openai.reply("Nimm die letzten drei Mails eines Interessenten.")
    with session_scope(engine) as session:
        assert deliver_due(session, settings, content, TUESDAY_10_BERLIN) == 3
    by_language = {("German" in r.text): r.text for r in fake_openai.requests}
    assert len(fake_openai.requests) == 2  # one per language: both Germans share theirs
    assert DE_TRY_IT in by_language[True] and "Role: Vertrieb" in by_language[True]
    assert "Write it in German." in by_language[True]
    assert "list 3 likely priorities" in by_language[False] and "Role: Sales" in by_language[False]


def test_a_leaders_digest_suggests_actions_in_their_language(
    engine: Engine, fake_slack: FakeSlack, slack_settings: Settings
) -> None:
    settings = dataclasses.replace(slack_settings, min_group_size=K)
    world = build_world(engine)
    with session_scope(engine) as session:
        bea = session.get(Person, world.person_id("bea"))  # leads Beta, stuck at knowledge
        assert bea is not None
        bea.locale = "de"
    run_due_jobs(engine, settings, library(), NOW)
    drain(engine, make_web_client(settings), settings)

    def digest_text(key: str) -> str:
        [message] = [
            m
            for m in fake_slack.messages(str(world.people[key].slack_user_id))
            if str((m.payload or {}).get("key", "")).startswith("digest")
        ]
        return message.block_text()

    german_action = suggested_action(library().localized("de"), "knowledge", WEEK)
    english_action = suggested_action(library(), "knowledge", WEEK)
    assert german_action and english_action and german_action != english_action
    assert german_action in library().localized("de").actions["knowledge"]
    assert f"💡 {german_action}" in digest_text("bea") and english_action not in digest_text("bea")
    assert f"💡 {english_action}" in digest_text("sam") and german_action not in digest_text("sam")
    assert "📊 KI-Wochenübersicht · 2026-W47" in digest_text("bea")  # the digest's own words in German too
    assert "📊 AI adoption digest · 2026-W47" in digest_text("sam")


def test_the_welcome_dm_names_the_role_in_the_newcomers_language(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    with session_scope(engine) as session:
        for email in ("ada@example.com", "bo@example.com"):
            person = add_person(session, "U0PLACE" + email[:2].upper(), team="Sales EMEA", role="sales")
            session.flush()
            person.slack_user_id, person.email = None, email
    with SlackAppServer(slack_settings, engine) as server:
        for user, email, locale in (("U0ADA", "ada@example.com", "de-DE"), ("U0BO", "bo@example.com", None)):
            joined = {"id": user, "name": user.lower(), "profile": {"email": email}, "tz": "Europe/Berlin"}
            server.event({"type": "team_join", "user": {**joined, "locale": locale} if locale else joined})
        wait_for(lambda: _welcomes(engine) == 2, what="both welcome DMs in the outbox")
    drain(engine, make_web_client(slack_settings), slack_settings)
    [ada] = fake_slack.posted_to("U0ADA")
    [bo] = fake_slack.posted_to("U0BO")
    assert "Du bist als *Vertrieb* im Team *Sales EMEA* eingerichtet" in ada.block_text()  # Slack's: German
    assert "You're set up as *Sales* in *Sales EMEA*" in bo.block_text()


def _welcomes(engine: Engine) -> int:
    with session_scope(engine, readonly=True) as session:
        return len(
            session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like("welcome:%"))).all()
        )


def test_app_homes_button_opens_the_modal_in_the_homes_language_without_reading_the_person_again(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    """The button carries the language its Home was written in: opening the modal (the ack's follow-up,
    which Slack waits on) reads nothing about the person."""
    with session_scope(engine) as session:
        add_person(session, "UDEHOME", team="People", role="hr", locale="de")
    reads: list[str] = []

    def _read(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "people" in statement:
            reads.append(statement)

    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "app_home_opened", "user": "UDEHOME", "channel": "DUDEHOME", "tab": "home"})
        home = wait_for(lambda: fake_slack.home_views.get("UDEHOME"), what="the Home tab")
        button = button_in(home, ids.OPEN_ROLE_MODAL)
        assert server.command("role", user_id="UDEHOME")[0] == 200  # the modal, as /adopt role opens it
        german = wait_for(lambda: fake_slack.calls_to("views.open", ok=True), what="the modal")[-1]
        event.listen(engine, "before_cursor_execute", _read)
        try:
            payload = signing.block_actions_payload(
                "UDEHOME", ids.OPEN_ROLE_MODAL, button["value"], view={"type": "home"}, channel_id="DUDEHOME"
            )
            assert server.interact(payload)[0] == 200
            opened = wait_for(
                lambda: fake_slack.calls_to("views.open", ok=True)[1:], what="the modal from the button"
            )[-1]
        finally:
            event.remove(engine, "before_cursor_execute", _read)
    assert opened.params["view"]["title"] == german.params["view"]["title"]
    assert opened.params["view"]["title"]["text"] != "Your role and team"  # not the English words
    assert opened.params["view"]["blocks"] == german.params["view"]["blocks"]
    assert reads == []
