"""Optional AI polish (the only module that imports `openai`).

Every feature works without it: `complete()` returns None when AI is off or anything goes wrong, and the
caller keeps its template. What this module guarantees for each request it makes:

- **Redaction** (`redact()`): before anything leaves the process, e-mail addresses, Slack mentions and
  user IDs, phone numbers, names from the roster (any word that is part of a known person's name, in any
  capitalisation and with or without accents: "Priya", "priya", "PRIYA", "raman's") and honorific-led
  names ("Dr Smith") are replaced by placeholders. Every request is redacted against the whole roster,
  whether or not the caller passes names. This is a pattern filter, not a guarantee: a name that is
  neither in the roster nor written after an honorific can pass through, so callers send only what the
  feature needs (content text, role and team names), never free text they don't have to.
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
import unicodedata
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
_LETTERS = re.compile(r"[^\W\d_]+", re.UNICODE)  # a run of letters: names are matched word by word

_clients: dict[tuple[str, str | None, float], OpenAI] = {}
_clients_lock = threading.Lock()


def _fold(word: str) -> str:
    """A word compared without case or accents ("José", "JOSE" and "jose" are one name)."""
    if word.isascii():  # nothing to decompose (a roster of 100,000 names is mostly ASCII)
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def name_parts(names: Iterable[str]) -> frozenset[str]:
    """The folded words of people's names (two letters or more) that `redact()` removes.

    A name is cut at anything that is not a letter, so "Anne-Marie O'Neil" gives "anne", "marie" and
    "neil": each of them is removed wherever it appears, however it is written.
    """
    parts: set[str] = set()
    for name in names:
        for word in _LETTERS.findall(name):
            folded = _fold(word)
            if len(folded) >= 2:
                parts.add(folded)
    return frozenset(parts)


def roster_name_parts(session: Session) -> frozenset[str]:
    """Name words of everyone in the roster (erased people have no name left to protect)."""
    names = session.scalars(select(Person.name).where(Person.erased_at.is_(None), Person.name != ""))
    return name_parts(names)


def redact(text: str, names: frozenset[str] = frozenset()) -> str:
    """`text` without e-mails, mentions, phone numbers, honorific names and roster names (see module doc).

    A roster name is removed in any capitalisation ("ask priya raman" as well as "Ask Priya Raman"),
    also inside longer tokens such as "priya_raman" or "Raman's". That removes a common word that is
    also someone's name ("will", "mark") too: over-removal costs a little polish, under-removal would
    leak a person.
    """
    text = _EMAIL.sub("[email]", text)
    text = _MENTION.sub("[person]", text)
    text = _PHONE.sub("[phone]", text)
    text = _HONORIFIC.sub("[name]", text)
    text = _HANDLE.sub("[person]", text)
    if names:

        def _name(match: re.Match[str]) -> str:
            word = match.group(0)
            return "[name]" if _fold(word) in names else word

        text = _LETTERS.sub(_name, text)
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
    names: frozenset[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> str | None:
    """The model's answer to `prompt` (redacted first), or None when AI is off or the call fails.

    `max_words` rejects longer answers (the caller's template wins); `names` are the roster's name words
    to redact (`roster_name_parts`, which is read here when the caller has not loaded it already);
    `cache_key` reuses an earlier answer for the same key.
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
    if names is None:
        names = roster_name_parts(session)
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
