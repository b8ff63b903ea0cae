"""Optional AI polish (the only module that imports `openai`).

Every feature works without it: `complete()` returns None when AI is off or anything goes wrong, and the
caller keeps its template. What this module guarantees for each request it makes:

- **Redaction** (`redact()`): before anything leaves the process, e-mail addresses, Slack mentions and
  user IDs, phone numbers, names from the roster (any capitalised word that is part of a known person's
  name) and honorific-led names ("Dr Smith") are replaced by placeholders. This is a pattern filter, not
  a guarantee: a name that is neither in the roster nor written after an honorific can pass through, so
  callers send only what the feature needs (content text, role and team names), never free text they
  don't have to.
- **A hard time limit**: one attempt (`max_retries=0`) with a 10-second timeout by default.
- **An audit row** (`AiCall`) for every call and every cache hit: purpose, model, tokens, latency and
  outcome (`ok`, `cache`, `timeout`, `rejected:<why>`, `error:<type>`); never the prompt or the answer.
- **A cache** (`AiCache`) by a caller-chosen key, so the same polish is asked for once.

The audit row and cache entry are written in the caller's session, inside its transaction.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.config import Settings
from bot.db import insert_ignore
from bot.models import AiCache, AiCall, Person

if TYPE_CHECKING:
    from openai import OpenAI

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_MENTION = re.compile(r"<[@!#][^>]*>|\b[UW][A-Z0-9]{8,}\b")
_PHONE = re.compile(r"(?<![\w.])\+?\d[\d ()./-]{6,}\d(?![\w.])")
_HONORIFIC = re.compile(r"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof|Sir|Dame)\.?\s+[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?")
_HANDLE = re.compile(r"(?<![\w@])@[A-Za-z][\w.-]{1,}")
_CAPITALISED = re.compile(r"\b[^\W\d_][\w'-]*", re.UNICODE)

_clients: dict[tuple[str, str | None, float], OpenAI] = {}
_clients_lock = threading.Lock()


def name_parts(names: Iterable[str]) -> frozenset[str]:
    """The lower-cased words of people's names (two letters or more) that `redact()` removes."""
    parts: set[str] = set()
    for name in names:
        for word in re.split(r"[\s,]+", name):
            word = word.strip(".()\"'")
            if len(word) >= 2 and word[0].isalpha():
                parts.add(word.lower())
    return frozenset(parts)


def roster_name_parts(session: Session) -> frozenset[str]:
    """Name words of everyone in the roster (erased people have no name left to protect)."""
    names = session.scalars(select(Person.name).where(Person.erased_at.is_(None), Person.name != ""))
    return name_parts(names)


def redact(text: str, names: frozenset[str] = frozenset()) -> str:
    """`text` without e-mails, mentions, phone numbers, honorific names and roster names (see module doc).

    Roster names are matched only where capitalised, so the verb "will" survives while the name "Will" goes;
    a capitalised common word that is also someone's name (e.g. "May" in a date) is removed too: over-
    removal costs a little polish, under-removal would leak a person.
    """
    text = _EMAIL.sub("[email]", text)
    text = _MENTION.sub("[person]", text)
    text = _PHONE.sub("[phone]", text)
    text = _HONORIFIC.sub("[name]", text)
    text = _HANDLE.sub("[person]", text)
    if names:

        def _name(match: re.Match[str]) -> str:
            word = match.group(0)
            base = word[:-2] if word.endswith(("'s", "’s")) else word
            if word[0].isupper() and base.lower() in names:
                return "[name]" + word[len(base) :]
            return word

        text = _CAPITALISED.sub(_name, text)
    return text


def _client(settings: Settings, timeout: float) -> OpenAI:
    from openai import OpenAI

    assert settings.openai_api_key
    key = (settings.openai_api_key, settings.openai_base_url, timeout)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = OpenAI(
                api_key=settings.openai_api_key,
                base_url=settings.openai_base_url,
                timeout=timeout,
                max_retries=0,
            )
        return client


def _audit(
    session: Session,
    settings: Settings,
    *,
    purpose: str,
    started: float,
    outcome: str,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> None:
    session.add(
        AiCall(
            purpose=purpose[:40],
            model=settings.openai_model[:80],
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_ms=int((time.monotonic() - started) * 1000),
            outcome=outcome[:40],
            created_at=utcnow(),
        )
    )
    session.flush()


def complete(
    session: Session,
    settings: Settings,
    *,
    purpose: str,
    system: str,
    prompt: str,
    max_words: int | None = None,
    max_tokens: int | None = None,
    cache_key: str | None = None,
    names: frozenset[str] = frozenset(),
    timeout: float = DEFAULT_TIMEOUT,
) -> str | None:
    """The model's answer to `prompt` (redacted first), or None when AI is off or the call fails.

    `max_words` rejects longer answers (the caller's template wins); `names` are extra name words to
    redact (see `roster_name_parts`); `cache_key` reuses an earlier answer for the same key.
    """
    if not settings.ai_enabled:
        return None
    started = time.monotonic()
    if cache_key is not None:
        cached = session.get(AiCache, cache_key)
        if cached is not None:
            _audit(session, settings, purpose=purpose, started=started, outcome="cache")
            return cached.value
    if max_tokens is None and max_words is not None:
        max_tokens = max_words * 2 + 20
    try:
        response = _client(settings, timeout).chat.completions.create(
            model=settings.openai_model,
            messages=[
                {"role": "system", "content": redact(system, names)},
                {"role": "user", "content": redact(prompt, names)},
            ],
            max_tokens=max_tokens,
        )
    except Exception as error:  # any failure means "use the template"; the audit row says which
        outcome = "timeout" if _is_timeout(error) else f"error:{type(error).__name__}"
        log.warning("AI call for %s failed: %s", purpose, outcome)
        _audit(session, settings, purpose=purpose, started=started, outcome=outcome)
        return None
    usage = response.usage
    tokens = {
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
    }
    answer = (response.choices[0].message.content or "").strip() if response.choices else ""
    problem = _check(answer, max_words)
    if problem is not None:
        _audit(session, settings, purpose=purpose, started=started, outcome=f"rejected:{problem}", **tokens)
        return None
    _audit(session, settings, purpose=purpose, started=started, outcome="ok", **tokens)
    if cache_key is not None:
        insert_ignore(session, AiCache, [{"key": cache_key[:200], "value": answer, "created_at": utcnow()}])
    return answer


def _is_timeout(error: Exception) -> bool:
    from openai import APITimeoutError

    return isinstance(error, APITimeoutError | TimeoutError)


def _check(answer: str, max_words: int | None) -> str | None:
    """Why an answer is unusable, or None."""
    if not answer:
        return "empty"
    if max_words is not None and len(answer.split()) > max_words:
        return "too_long"
    return None


__all__ = ["DEFAULT_TIMEOUT", "complete", "name_parts", "redact", "roster_name_parts"]
