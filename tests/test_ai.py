"""bot.ai against a fake OpenAI-compatible server: answers, cache, timeout, errors, redaction, audit."""

from __future__ import annotations

import dataclasses
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import ai
from bot.config import Settings
from bot.models import AiCache, AiCall, Person
from tests.support.fake_openai import FakeOpenAI


def _settings(fake: FakeOpenAI) -> Settings:
    return dataclasses.replace(
        Settings(), openai_api_key="sk-test", openai_base_url=fake.url, openai_model="gpt-test"
    )


def _calls(session: Session) -> list[AiCall]:
    return list(session.scalars(select(AiCall).order_by(AiCall.id)))


def test_without_a_key_nothing_is_sent_and_nothing_logged(session: Session, fake_openai: FakeOpenAI) -> None:
    settings = dataclasses.replace(Settings(), openai_base_url=fake_openai.url)
    assert ai.complete(session, settings, purpose="test", system="s", prompt="p") is None
    assert fake_openai.requests == []
    assert _calls(session) == []


def test_answer_is_returned_cached_and_audited(session: Session, fake_openai: FakeOpenAI) -> None:
    settings = _settings(fake_openai)
    fake_openai.reply("Draft three subject lines.", prompt_tokens=42, completion_tokens=5)
    first = ai.complete(
        session,
        settings,
        purpose="nudge_try_it",
        system="Be brief.",
        prompt="Adapt this.",
        max_words=60,
        cache_key="k1",
    )
    again = ai.complete(
        session,
        settings,
        purpose="nudge_try_it",
        system="Be brief.",
        prompt="Adapt this.",
        max_words=60,
        cache_key="k1",
    )
    assert first == again == "Draft three subject lines."
    assert len(fake_openai.requests) == 1  # the second answer came from the cache
    request = fake_openai.requests[0]
    assert request.model == "gpt-test"
    assert request.body["max_tokens"] == 140
    calls = _calls(session)
    assert [(c.purpose, c.outcome) for c in calls] == [("nudge_try_it", "ok"), ("nudge_try_it", "cache")]
    assert (calls[0].model, calls[0].prompt_tokens, calls[0].completion_tokens) == ("gpt-test", 42, 5)
    assert calls[0].latency_ms >= 0
    assert session.get(AiCache, "k1") is not None


def test_timeout_returns_none_quickly_and_is_audited(session: Session, fake_openai: FakeOpenAI) -> None:
    fake_openai.delay(2.0)
    answer = ai.complete(
        session, _settings(fake_openai), purpose="p", system="s", prompt="p", timeout=0.3, cache_key="slow"
    )
    assert answer is None
    assert len(fake_openai.requests) == 1  # one attempt: no retries
    [call] = _calls(session)
    assert call.outcome == "timeout"
    assert 250 <= call.latency_ms < 1900
    assert session.get(AiCache, "slow") is None


def test_server_error_returns_none_and_is_audited(session: Session, fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(500)
    assert ai.complete(session, _settings(fake_openai), purpose="p", system="s", prompt="p") is None
    assert len(fake_openai.requests) == 1
    assert [c.outcome for c in _calls(session)] == ["error:InternalServerError"]


def test_too_long_an_answer_is_rejected(session: Session, fake_openai: FakeOpenAI) -> None:
    fake_openai.reply(" ".join(["word"] * 61))
    assert (
        ai.complete(session, _settings(fake_openai), purpose="p", system="s", prompt="p", max_words=60)
        is None
    )
    assert [c.outcome for c in _calls(session)] == ["rejected:too_long"]


def test_prompts_leave_without_names_or_emails(session: Session, fake_openai: FakeOpenAI) -> None:
    session.add(Person(name="Maria Lopez", email="maria.lopez@example.com", slack_user_id="U0MARIA01"))
    session.flush()
    names = ai.roster_name_parts(session)
    prompt = (
        "Maria Lopez (maria.lopez@example.com, +49 30 1234 5678) asked <@U0MARIA01> and Dr Okafor to share "
        "Maria's notes; she will reply."
    )
    ai.complete(
        session, _settings(fake_openai), purpose="p", system="Write for Lopez.", prompt=prompt, names=names
    )
    sent = fake_openai.requests[0].text
    for secret in ("Maria", "Lopez", "maria.lopez", "example.com", "U0MARIA01", "Okafor", "1234"):
        assert secret not in sent
    assert "[name] [name] ([email], [phone]) asked [person] and [name] to share [name]'s notes" in sent
    assert "she will reply" in sent


def test_redact_removes_roster_names_in_any_case_and_keeps_other_words() -> None:
    names = ai.name_parts(["Will Mark", "Ann O'Neil"])
    # In lower case a name cannot be told from the word: both go, rather than leak a person.
    assert ai.redact("Will will mark the annual report with O'Neil and o'neil.", names) == (
        "[name] [name] [name] the annual report with O'[name] and o'[name]."
    )
    assert (
        ai.redact("Ask @jane.doe or write to jane@corp.io", frozenset()) == "Ask [person] or write to [email]"
    )
    assert ai.redact("Version 2.10.3 ships in 2026.", frozenset()) == "Version 2.10.3 ships in 2026."


def test_names_leave_no_trace_in_the_request_whatever_their_case(
    session: Session, fake_openai: FakeOpenAI
) -> None:
    session.add_all(
        [
            Person(name="Priya Raman", email="priya.raman@corp.example", slack_user_id="U0PRIYA01"),
            Person(name="José Núñez-García", email="jose@corp.example", slack_user_id="U0JOSE001"),
        ]
    )
    session.flush()
    prompt = (
        "ask priya raman, PRIYA or raman's team; priya_raman wrote it with jose nunez-garcia "
        "(Núñez too), cc <@U0PRIYA01> and priya.raman@corp.example"
    )
    # The caller passes no names: the request is redacted against the roster all the same.
    ai.complete(session, _settings(fake_openai), purpose="p", system="Help José.", prompt=prompt)
    [request] = fake_openai.requests
    sent = json.dumps(request.body, ensure_ascii=False).casefold()
    for name in ("priya", "raman", "josé", "jose", "núñez", "nunez", "garcía", "garcia", "u0priya01", "corp"):
        assert name not in sent, name
    assert "ask [name] [name], [name] or [name]'s team; [name]_[name] wrote it" in request.text
