"""AI-adapted "try it" prompts (with OPENAI_API_KEY): cached, redacted, audited; any failure -> template."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import Engine, select

from bot import outbox
from bot.config import Settings
from bot.db import session_scope
from bot.models import AiCall, OutboxMessage
from bot.nudges.service import AI_PURPOSE, deliver_due
from tests.support.factories import add_person, add_team
from tests.support.fake_openai import FakeOpenAI
from tests.test_nudges_world import LONG_AGO, make_library

TUESDAY_10_BERLIN = datetime(2026, 11, 24, 9, 0)
ADAPTED = "Paste a prospect's last three emails and ask for a sharper follow-up."


def _settings(fake: FakeOpenAI) -> Settings:
    return dataclasses.replace(Settings(), openai_api_key="sk-test", openai_base_url=fake.url)


def _people(engine: Engine) -> None:
    with session_scope(engine) as session:
        team = add_team(session, "Maria Lopez's deal desk")
        for user, name, email in (
            ("UMARIA001", "Maria Lopez", "maria@corp.example"),
            ("UJONAS001", "Jonas Berg", "jonas.berg@corp.example"),
        ):
            person = add_person(session, user, timezone="Europe/Berlin", team=team, created_at=LONG_AGO)
            person.name, person.email = name, email


def _try_it_texts(engine: Engine) -> list[str]:
    with session_scope(engine, readonly=True) as session:
        stored = session.scalars(select(OutboxMessage.payload).where(OutboxMessage.kind == "nudge")).all()
        payloads = [outbox.with_blocks(session, payload) for payload in stored]
    texts = []
    for payload in payloads:
        texts += [
            b["text"]["text"]
            for b in payload["blocks"]
            if b["type"] == "section" and b["text"]["text"].startswith("*Try it*")
        ]
    return texts


def _outcomes(engine: Engine) -> list[str]:
    with session_scope(engine, readonly=True) as session:
        calls = session.scalars(select(AiCall).order_by(AiCall.id)).all()
    assert {c.purpose for c in calls} <= {AI_PURPOSE}
    return [c.outcome for c in calls]


def _tick(engine: Engine, settings: Settings, *, timeout: float = 10.0) -> int:
    with session_scope(engine) as session:
        return deliver_due(session, settings, make_library(), TUESDAY_10_BERLIN, ai_timeout=timeout)


def test_adapted_prompt_is_used_once_per_nudge_role_and_team(engine: Engine, fake_openai: FakeOpenAI) -> None:
    _people(engine)
    fake_openai.reply(ADAPTED, prompt_tokens=90, completion_tokens=14)
    assert _tick(engine, _settings(fake_openai)) == 2
    assert _try_it_texts(engine) == [f"*Try it* (adapted for your role)\n>{ADAPTED}"] * 2
    [request] = fake_openai.requests  # one call for both: same nudge, role and team
    assert "Role: Sales" in request.text and "Ask the assistant to draft it." in request.text
    for private in ("Maria", "Lopez", "Jonas", "Berg", "@corp.example"):
        assert private not in request.text
    assert "Team: [name] [name]'s deal desk" in request.text
    assert _outcomes(engine) == ["ok"]


def test_a_timeout_falls_back_to_the_template_silently(engine: Engine, fake_openai: FakeOpenAI) -> None:
    _people(engine)
    fake_openai.delay(2.0)
    assert _tick(engine, _settings(fake_openai), timeout=0.3) == 2
    assert _try_it_texts(engine) == ["*Try it*\n>Ask the assistant to draft it."] * 2
    assert _outcomes(engine) == ["timeout"]


def test_a_server_error_falls_back_and_is_audited(engine: Engine, fake_openai: FakeOpenAI) -> None:
    _people(engine)
    fake_openai.fail_next(500, times=5)
    assert _tick(engine, _settings(fake_openai)) == 2
    assert _try_it_texts(engine) == ["*Try it*\n>Ask the assistant to draft it."] * 2
    assert _outcomes(engine) == ["error:InternalServerError"]


def test_without_a_key_no_ai_is_asked(engine: Engine, fake_openai: FakeOpenAI) -> None:
    _people(engine)
    settings = dataclasses.replace(Settings(), openai_base_url=fake_openai.url)
    assert _tick(engine, settings) == 2
    assert fake_openai.requests == [] and _outcomes(engine) == []
