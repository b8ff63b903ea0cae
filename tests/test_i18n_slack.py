"""The bot's own words in Slack in each person's language, beyond the nudge DM and the pulse: `/adopt
help`, `/adopt me`, `pause`/`resume`, refusals, the apology of the error handler, the end-of-library DM,
App Home's profile and progress. Everything goes the real way (signed requests, the fake Slack, the outbox);
a German, a French and a Japanese person read their language while an English person reads what they did
before."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from slack_bolt import App
from sqlalchemy import Engine

from bot.config import Settings
from bot.db import session_scope
from bot.slack import subcommands
from bot.slack.subcommands import Invocation, Subcommand
from tests.support.factories import add_person, add_team
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_nudges_end import LIBRARY as SMALL_LIBRARY
from tests.test_nudges_end import _day, _settings
from tests.test_nudges_world import LONG_AGO, make_library

LIBRARY = make_library()


def _people(engine: Engine) -> None:
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        for user, locale in (("UDE", "de"), ("UFR", "fr"), ("UJA", "ja"), ("UEN", None)):
            add_person(session, user, timezone="Europe/Berlin", team=team, created_at=LONG_AGO, locale=locale)


def _text(answer: dict[str, Any]) -> str:
    return str(answer.get("text") or "") + json.dumps(answer.get("blocks") or [], ensure_ascii=False)


def test_help_is_in_each_persons_language_and_one_language_never_leaks_into_another(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    _people(engine)
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        _, german = server.command("help", user_id="UDE")
        _, japanese = server.command("help", user_id="UJA")
        _, english = server.command("help", user_id="UEN")  # same rights: the help is cached per language
        _, unknown = server.command("frobnicate", user_id="UFR")
    assert "Was du tun kannst" in _text(german) and "Deine Impulse für ein paar Wochen pausieren" in _text(
        german
    )
    assert "できること" in _text(japanese)
    assert "What you can do" in _text(english) and "Pause your nudges for a few weeks" in _text(english)
    assert "Was du tun kannst" not in _text(english)
    assert "Je ne connais pas `/adopt frobnicate`" in _text(unknown)


def test_me_pause_and_resume_answer_in_the_persons_language_with_local_dates(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    _people(engine)
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        _, paused = server.command("pause 3", user_id="UDE")
        _, me = server.command("me", user_id="UDE")
        _, resumed = server.command("resume", user_id="UDE")
        _, bad = server.command("pause 40", user_id="UFR")
        _, english = server.command("pause 1", user_id="UEN")
    assert paused["text"].startswith("⏸ Impulse für 3 Wochen pausiert: Sie gehen am ")
    weekdays = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
    assert any(day in paused["text"] for day in weekdays)
    assert "Stufe 1: 0 von 0 Impulsen ausprobiert" in me["text"]
    assert "*Deine KI-Impulse*" in _text(me) and "Impulse sind pausiert" in _text(me)
    assert resumed["text"] == "▶️ Impulse sind wieder an: bis zum nächsten!"
    assert bad["text"].startswith("Utilisation : `/adopt pause [SEMAINES]`")
    assert english["text"].startswith("⏸ Nudges paused for 1 week: they resume on ")


def test_a_refusal_and_the_error_handlers_apology_are_in_the_persons_language(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    def explode(inv: Invocation) -> None:
        raise RuntimeError("internals")

    def customize(app: App) -> None:
        subcommands.add(app, Subcommand("explode", "Fails", "explode", "everyone", explode))

    _people(engine)
    with SlackAppServer(slack_settings, engine, content=LIBRARY, customize=customize) as server:
        _, refused = server.command("broadcast", user_id="UFR")
        _, sorry = server.command("explode", user_id="UDE")
        _, english = server.command("explode", user_id="UEN")
    assert refused["text"] == (
        "Désolé, `/adopt broadcast` est réservé aux responsables du changement. "
        "Rien n'a été ouvert ni envoyé."
    )
    assert sorry["text"] == "Entschuldigung, da ist etwas schiefgegangen – bitte versuch es noch einmal."
    assert english["text"] == "Sorry, something went wrong — please try again."


def test_app_home_shows_profile_and_progress_in_the_persons_language(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    _people(engine)
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        server.event({"type": "app_home_opened", "user": "UJA", "tab": "home"})
        server.event({"type": "app_home_opened", "user": "UEN", "tab": "home"})
        wait_for(lambda: {"UJA", "UEN"} <= set(fake_slack.home_views), what="both Home tabs")
    japanese = json.dumps(fake_slack.home_views["UJA"], ensure_ascii=False)
    english = json.dumps(fake_slack.home_views["UEN"], ensure_ascii=False)
    assert (
        "あなたのプロフィール" in japanese and "あなたのAIヒント" in japanese and "2週間一時停止" in japanese
    )
    assert "火" in japanese  # the nudge days, as Japanese writes weekdays
    assert "Your profile" in english and "Pause for 2 weeks" in english and "Tue and Thu" in english


def test_the_end_of_library_dm_is_in_the_recipients_language(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        add_person(
            session, "UBERLIN01", timezone="Europe/Berlin", team=team, created_at=LONG_AGO, locale="es"
        )
    for day in range(4):
        _day(engine, settings, day, SMALL_LIBRARY)
    [done] = [m for m in fake_slack.messages("UBERLIN01") if "biblioteca" in (m.text or "")]
    shown = json.dumps(done.blocks, ensure_ascii=False)
    assert done.text.startswith("Has completado la biblioteca: 3 consejos, 0 probados.")
    assert "🎉 Has completado la biblioteca" in shown and "*Cómo seguir*" in shown
    assert "Compartir un logro" in shown


def test_settings_language_is_the_default_for_people_without_one(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    _people(engine)
    settings = dataclasses.replace(slack_settings, locale="pt-BR")
    with SlackAppServer(settings, engine, content=LIBRARY) as server:
        _, unknown_person = server.command("pause", user_id="UNOBODY")
        _, german = server.command("resume", user_id="UDE")
    assert unknown_person["text"].startswith("Você ainda não está na minha lista.")
    assert german["text"] == "Deine Impulse waren nicht pausiert."


def test_pulse_start_and_status_answer_a_change_manager_in_their_language(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        add_person(session, "UCMPT", team=team, change_manager=True, locale="pt-BR", created_at=LONG_AGO)
        add_person(session, "USALES", team=team, created_at=LONG_AGO)
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        _, nothing = server.command("pulse status", user_id="UCMPT")
        _, usage = server.command("pulse frobnicate", user_id="UCMPT")
    assert nothing["text"] == "Ainda não há pulse. `/adopt pulse start` abre um agora."
    assert usage["text"] == "Uso: `/adopt pulse start [ID_PESQUISA]` ou `/adopt pulse status`."
