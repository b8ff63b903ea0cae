"""Wins in each reader's language: the author's modal, confirmation and verdict in theirs, each change
manager's review DM in their own, the wins channel in the organisation's, and the story itself never
translated. All through the fake Slack, with signed requests and the outbox."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.db import session_scope
from bot.models import Win
from bot.slack import ids
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_wins_slack import (
    CHANNEL,
    STORY,
    action_ids,
    click,
    open_modal,
    send,
    state,
    submit,
    text_of,
    win_row,
)

AUTHOR = "UAUTORDE1"  # German
FRENCH_CM = "UCMFR0001"
ENGLISH_CM = "UCMEN0001"


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, wins_channel=CHANNEL, locale="es")  # the organisation: Spanish


@pytest.fixture
def roster(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_person(session, AUTHOR, team="Vertrieb", locale="de")
        add_person(session, FRENCH_CM, team="RH", change_manager=True, locale="fr")
        add_person(session, ENGLISH_CM, team="People", change_manager=True, locale="en")


def test_each_reader_gets_the_win_in_their_language_and_the_story_as_typed(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server:
        modal = open_modal(server, fake_slack, AUTHOR)
        assert modal["title"]["text"] == "Erfolg teilen" and modal["submit"]["text"] == "Senden"
        assert "Was hast du mit KI gemacht?" in str(modal["blocks"])
        answer = submit(server, AUTHOR, modal, state(modal))
        assert answer["view"]["title"]["text"] == "Danke"
        with session_scope(engine, readonly=True) as session:
            win_id = int(session.scalar(select(func.max(Win.id))) or 0)
        send(engine, settings)
        [confirmation] = fake_slack.messages(AUTHOR)
        assert "Danke, dass du deinen Erfolg teilst!" in text_of(confirmation)
        [french] = fake_slack.messages(FRENCH_CM)
        [english] = fake_slack.messages(ENGLISH_CM)
        assert french.text.startswith("Nouvelle réussite IA à examiner (Vertrieb)")
        assert "Approuver" in text_of(french) and "Temps gagné" in text_of(french)
        assert english.text.startswith("New AI win to review (Vertrieb)")
        assert STORY.replace("'", "&#39;") in text_of(french) or STORY in text_of(french)

        click(server, french, FRENCH_CM, ids.WIN_APPROVE)
        wait_for(lambda: win_row(engine, win_id).status == "approved", what="the approval")
        send(engine, settings)

    [post] = fake_slack.messages(CHANNEL)
    assert text_of(post).startswith("🎉 Un nuevo logro con IA de Vertrieb")  # the organisation's language
    assert action_ids(post) == [ids.WIN_TRY_THIS] and "Yo también lo pruebo" in text_of(post)
    verdict = [m for m in fake_slack.messages(AUTHOR) if m.text == "Dein Erfolg ist freigegeben!"]
    assert len(verdict) == 1 and f"in <#{CHANNEL}> geteilt" in text_of(verdict[0])
    french_now = fake_slack.messages(FRENCH_CM)[0]
    english_now = fake_slack.messages(ENGLISH_CM)[0]
    assert f"✅ Approuvée par <@{FRENCH_CM}> · partagée dans <#{CHANNEL}>" in text_of(french_now)
    assert f"✅ Approved by <@{FRENCH_CM}> · shared in <#{CHANNEL}>" in text_of(english_now)


def test_an_invalid_win_is_refused_inline_in_the_authors_language(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, roster: None
) -> None:
    with SlackAppServer(settings, engine) as server:
        view = open_modal(server, fake_slack, AUTHOR)
        answer = submit(server, AUTHOR, view, state(view, hours="99"))
    assert answer["response_action"] == "errors"
    assert answer["errors"][ids.WIN_HOURS_BLOCK] == (
        "Gib die pro Woche gesparten Stunden als Zahl von 0 bis 40 an, z. B. 1,5."
    )
