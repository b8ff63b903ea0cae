"""A broadcast in each reader's language: the French change manager's composer, preview and status in
French; each recipient's "From … via Adoptbot", "Got it" and "✓ Acknowledged" in their own language (the
message itself as the change manager wrote it); reminders in each recipient's language, sent by the job."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import Engine

from bot import clock
from bot.config import Settings
from bot.db import session_scope
from bot.jobs import run_due_jobs
from bot.slack import ids
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_broadcasts_slack import (
    acks,
    buttons,
    click,
    composer,
    fast,
    only,
    preview,
    send_queued,
    status_message,
    submit,
    team_id,
)
from tests.test_nudges_world import make_library

MANAGER = "UMGR0001"  # the helpers' change manager


def _seed(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_person(session, MANAGER, team="Change", role="hr", change_manager=True, name="Marie", locale="fr")
        add_person(session, "UDE1", team="Sales", role="sales", locale="de")
        add_person(session, "UJA1", team="Sales", role="sales", slack_locale="ja-JP")
        add_person(session, "UNONE", team="Sales", role="sales")  # no language: ADOPTBOT_LOCALE (Spanish)


def test_the_sender_reads_french_and_each_recipient_their_own_language(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(fast(slack_settings), locale="es")
    _seed(engine)
    with SlackAppServer(settings, engine) as server:
        modal = composer(server, fake_slack)
        assert modal["title"]["text"] == "Annonce" and modal["submit"]["text"] == "Aperçu"
        submit(server, modal, message="Nouvelle politique IA", teams=[team_id(engine, "Sales")], ask_ack=True)
        send_queued(engine, settings)
        shown = preview(fake_slack).block_text()
        assert "Atteindra 3 personnes" in shown and "De *Marie* via Adoptbot" in shown
        click(server, preview(fake_slack), ids.BROADCAST_SEND, MANAGER)
        wait_for(lambda: only(engine).status == "sending", what="the fan-out")
        send_queued(engine, settings)
        german = fake_slack.messages("UDE1")[0]
        assert buttons(german)[ids.BROADCAST_GOT_IT]["text"]["text"] == "Verstanden"
        assert "Von *Marie* über Adoptbot" in german.block_text()
        assert "Nouvelle politique IA" in german.block_text()  # the message as written
        click(server, german, ids.BROADCAST_GOT_IT, "UDE1")
        wait_for(lambda: acks(engine) == 1, what="the German acknowledgement")
        send_queued(engine, settings)
    assert "✓ Bestätigt" in fake_slack.messages("UDE1")[0].block_text()
    japanese = fake_slack.messages("UJA1")[0]
    assert "Marie* より（Adoptbot 経由）" in japanese.block_text()
    assert buttons(japanese)[ids.BROADCAST_GOT_IT]["text"]["text"] == "了解しました"
    spanish = fake_slack.messages("UNONE")[0]
    assert buttons(spanish)[ids.BROADCAST_GOT_IT]["text"]["text"] == "Entendido"
    assert "Remise à tous les 3" in status_message(fake_slack).block_text()


def test_reminders_go_out_in_each_recipients_language(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(fast(slack_settings), locale="es")
    _seed(engine)
    with SlackAppServer(settings, engine) as server:
        modal = composer(server, fake_slack)
        submit(
            server, modal, message="Lisez ceci", teams=[team_id(engine, "Sales")], ask_ack=True, reminder="2"
        )
        send_queued(engine, settings)
        click(server, preview(fake_slack), ids.BROADCAST_SEND, MANAGER)
        wait_for(lambda: only(engine).status == "sending", what="the fan-out")
        send_queued(engine, settings)
    later = clock.utcnow() + timedelta(days=3)
    assert run_due_jobs(engine, settings, make_library(), later).failed_jobs == []
    send_queued(engine, settings)
    reminders = {
        user: next(m for m in fake_slack.messages(user) if "broadcast-remind" in str(m.payload.get("key")))
        for user in ("UDE1", "UJA1", "UNONE")
    }
    assert reminders["UDE1"].text.startswith("Erinnerung: Bitte bestätige, dass du „Lisez ceci“ gelesen hast")
    assert reminders["UJA1"].text.startswith("リマインダー: 「Lisez ceci」を読んだことを確認してください")
    assert reminders["UNONE"].text.startswith("Recordatorio: confirma que has leído «Lisez ceci»")
