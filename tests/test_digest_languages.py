"""Each leader's digest in their language: the words, the numbers' notation, the narrative (the template's
or the model's), the chart's title and alt text; the org channel's digest in ADOPTBOT_LOCALE; an English
leader reads exactly what they did before."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import Engine, update

from bot import outbox
from bot.config import Settings
from bot.db import session_scope
from bot.jobs import run_due_jobs
from bot.models import Person
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_slack import FakeSlack, Message
from tests.test_digest import NOW, K, build_world, library
from tests.test_digest_delivery import CHANNEL, drain


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(
        slack_settings, min_group_size=K, digest_channel=CHANNEL, send_rate=50.0, locale="fr"
    )


def _digest(fake: FakeSlack, channel: str) -> Message:
    [message] = [
        m
        for m in fake.messages(channel)
        if m.event_type == outbox.EVENT_TYPE and str(m.payload["key"]).startswith("digest")
    ]
    return message


def test_a_german_leader_reads_german_an_english_one_english_and_the_channel_french(
    engine: Engine, fake_slack: FakeSlack, settings: Settings
) -> None:
    world = build_world(engine)
    with session_scope(engine) as session:
        session.execute(update(Person).where(Person.id == world.person_id("ada")).values(locale="de"))
        session.execute(update(Person).where(Person.id == world.person_id("tim")).values(locale="en"))
    run_due_jobs(engine, settings, library(), NOW)
    drain(engine, settings)

    german = _digest(fake_slack, str(world.people["ada"].slack_user_id))
    english = _digest(fake_slack, str(world.people["tim"].slack_user_id))
    channel = _digest(fake_slack, CHANNEL)
    assert german.text.startswith("KI-Wochenübersicht, Woche 2026-W47:")
    shown = german.block_text()
    assert "📊 KI-Wochenübersicht · 2026-W47" in shown and "Diese Woche engagiert" in shown
    assert "In Woche 2026-W47 haben" in shown  # the narrative, from the template, in German
    assert "AI adoption" not in shown
    assert english.text.startswith("AI adoption digest, week 2026-W47:")
    assert "Engaged this week" in english.block_text() and "In week 2026-W47," in english.block_text()
    assert channel.text.startswith("Résumé de l'adoption de l'IA, semaine 2026-W47")
    charts = {f.channel: f for f in fake_slack.files.values() if f.filename.endswith(".png")}
    german_chart = charts[f"D{world.people['ada'].slack_user_id}"]
    assert german_chart.title == "KI-Nutzung im Verlauf, 2026-W45 bis 2026-W47"
    assert charts[f"D{world.people['tim'].slack_user_id}"].title.startswith("AI adoption trend,")


def test_the_ai_narrative_is_asked_for_in_the_leaders_language(
    engine: Engine, fake_slack: FakeSlack, settings: Settings, fake_openai: FakeOpenAI
) -> None:
    world = build_world(engine)
    with session_scope(engine) as session:
        session.execute(update(Person).where(Person.id == world.person_id("ada")).values(locale="ja"))
    ai_settings = dataclasses.replace(settings, openai_api_key="sk-test", openai_base_url=fake_openai.url)
    fake_openai.reply("今週は参加が増えました。準備度は横ばいです。成果の共有を続けましょう。")
    run_due_jobs(engine, ai_settings, library(), NOW)
    drain(engine, ai_settings)

    narratives = [r.text for r in fake_openai.requests if "weekly AI-adoption digest" in r.text]
    assert any("in plain Japanese" in text for text in narratives)
    assert any("in plain French" in text for text in narratives)  # the others: ADOPTBOT_LOCALE
    japanese = _digest(fake_slack, str(world.people["ada"].slack_user_id)).block_text()
    assert "今週は参加が増えました。" in japanese and "以下の数値のAIによる要約" in japanese
