"""Pulse comments for leaders: only ever a summary over at least k comments, never a comment itself.

`summarise_comments` returns None under k comments. Otherwise, with OPENAI_API_KEY, an AI summary of the
themes (through `bot.ai.complete`: names, e-mails and mentions redacted, the call audited, a 10-second
limit); an answer that repeats any comment's wording at length is thrown away. Without a key, or when
the AI call fails or is refused, the summary is built here: how many comments, and the phrases (one to
four words, stop words aside) that recur in at least two different comments. A phrase that is a whole
comment is never shown, nor a word from anyone's name.

The text returned is plain and unescaped: escape it (`bot.slack.text.escape`) before putting it in Slack.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import ai
from bot.config import Settings
from bot.models import PulseAnswer, PulseResponse

MAX_PHRASES = 6
MAX_NGRAM = 4
JOINED_MAX_WORDS = 8  # overlapping recurring phrases are joined up to this length
MIN_COMMENTS_PER_PHRASE = 2
QUOTE_WORDS = 6  # an AI summary sharing this many consecutive words with a comment is a quote: rejected
QUOTE_MIN_WORDS = 3  # ... or a whole comment of at least this many words ("Training" is no quote)
AI_MAX_WORDS = 120

_STOP_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each even ever every few for from further get gets getting got had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if
    in into is isn't it it's its itself just let's like lot lots me most much mustn't my myself no nor
    not now of off often on once one only or other ought our ours ourselves out over own really same shan't
    she she'd she'll she's should shouldn't so some still such than that that's the their theirs them
    themselves then there there's these they they'd they'll they're they've thing things this those
    through to too under until up us use used using very was wasn't way we we'd we'll we're we've were
    weren't what what's when when's where where's which while who who's whom why why's will with won't
    would wouldn't yet you you'd you'll you're you've your yours yourself yourselves ai
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")

SYSTEM_PROMPT = (
    "You summarise anonymous employee survey comments about using AI at work for their leaders. "
    "Write 2 to 4 short bullet points naming the recurring themes and what people ask for. "
    "Never quote a comment, never name or describe a person, never guess who wrote what. "
    f"Plain text, at most {AI_MAX_WORDS - 20} words."
)


def comments_for(session: Session, run_id: int, team_ids: Sequence[int] | None) -> list[str]:
    """The non-empty comments of a run (optionally of some teams), in no meaningful order."""
    stmt = (
        select(PulseAnswer.text)
        .join(PulseResponse, PulseResponse.id == PulseAnswer.response_id)
        .where(PulseResponse.run_id == run_id, PulseAnswer.text.is_not(None))
    )
    if team_ids is not None:
        stmt = stmt.where(PulseResponse.team_id.in_(list(team_ids)))
    return sorted(t.strip() for t in session.scalars(stmt) if t and t.strip())


def summarise_comments(
    session: Session, run_id: int, team_ids: Sequence[int] | None, settings: Settings
) -> str | None:
    """A summary of the run's comments (all teams when `team_ids` is None), or None under k comments."""
    comments = comments_for(session, run_id, team_ids)
    if len(comments) < settings.min_group_size:
        return None
    names = ai.roster_name_parts(session)
    if settings.ai_enabled:
        summary = _ai_summary(session, settings, run_id, comments, names)
        if summary is not None:
            return f"{len(comments)} comments. {summary}"
    return phrase_summary(comments, names)


def _ai_summary(
    session: Session, settings: Settings, run_id: int, comments: list[str], names: frozenset[str]
) -> str | None:
    digest = hashlib.sha256("\n".join(comments).encode()).hexdigest()[:24]
    prompt = f"{len(comments)} comments, one per line:\n" + "\n".join(
        "- " + " ".join(c.split()) for c in comments
    )
    answer = ai.complete(
        session,
        settings,
        purpose="pulse_comments",
        system=SYSTEM_PROMPT,
        prompt=prompt,
        max_words=AI_MAX_WORDS,
        cache_key=f"pulse-comments:{run_id}:{digest}",
        names=names,
    )
    if answer is None or quotes_a_comment(answer, comments):
        return None
    return answer.strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def quotes_a_comment(summary: str, comments: Iterable[str]) -> bool:
    """Whether `summary` repeats a whole comment (of 3 words or more), or QUOTE_WORDS consecutive words."""
    said = " " + " ".join(_words(summary)) + " "
    for comment in comments:
        words = _words(comment)
        if len(words) < QUOTE_MIN_WORDS:
            continue
        span = min(len(words), QUOTE_WORDS)
        for start in range(len(words) - span + 1):
            if " " + " ".join(words[start : start + span]) + " " in said:
                return True
    return False


def _phrases(words: list[str], names: frozenset[str]) -> set[str]:
    found: set[str] = set()
    for size in range(1, MAX_NGRAM + 1):
        for start in range(len(words) - size + 1):
            gram = words[start : start + size]
            if gram[0] in STOP_WORDS or gram[-1] in STOP_WORDS or any(w in names for w in gram):
                continue
            if size == 1 and len(gram[0]) < 3:
                continue
            found.add(" ".join(gram))
    return found


def recurring_phrases(comments: Sequence[str], names: frozenset[str] = frozenset()) -> list[tuple[str, int]]:
    """(phrase, number of comments it appears in), for phrases in at least two comments, most common first.

    Overlapping phrases found in the same comments are joined ("clearer rules on customer" + "rules on
    customer data"), and a phrase inside a longer one that recurs just as often is left out ("more
    training" over "training"); a phrase that is someone's whole comment is never returned.
    """
    texts = [" ".join(_words(c)) for c in comments]
    whole = set(texts)
    found: dict[str, set[int]] = {}
    for index, comment in enumerate(comments):
        for phrase in _phrases(_words(comment), names):
            found.setdefault(phrase, set()).add(index)
    recurring = {
        p: frozenset(docs)
        for p, docs in found.items()
        if len(docs) >= MIN_COMMENTS_PER_PHRASE and p not in whole
    }
    recurring = _join_overlaps(recurring, texts, whole)
    kept = {
        p: len(docs)
        for p, docs in recurring.items()
        if not any(
            p != q and f" {p} " in f" {q} " and len(other) >= len(docs) for q, other in recurring.items()
        )
    }
    return sorted(kept.items(), key=lambda item: (-item[1], -len(item[0].split()), item[0]))[:MAX_PHRASES]


def _join_overlaps(
    phrases: dict[str, frozenset[int]], texts: list[str], whole: set[str]
) -> dict[str, frozenset[int]]:
    """Add the joins of phrases that overlap word for word and occur in the same comments."""
    result = dict(phrases)
    changed = True
    while changed:
        changed = False
        items = sorted(result.items())
        for left, docs in items:
            head = left.split()
            for right, other in items:
                tail = right.split()
                if left == right or docs != other or len(head) < 2 or head[1:] != tail[:-1]:
                    continue
                joined = " ".join([*head, tail[-1]])
                if joined in result or joined in whole or len(head) + 1 > JOINED_MAX_WORDS:
                    continue
                if all(f" {joined} " in f" {texts[i]} " for i in docs):
                    result[joined] = docs
                    changed = True
    return result


def phrase_summary(comments: Sequence[str], names: frozenset[str] = frozenset()) -> str:
    phrases = recurring_phrases(comments, names)
    if not phrases:
        return f"{len(comments)} comments; no phrase recurs across them."
    listed = ", ".join(f"“{p}” ({n})" for p, n in phrases)
    return f"{len(comments)} comments. Recurring phrases (number of comments): {listed}."
