"""Pulse comments for leaders: only ever summaries over at least k comments, never a comment itself.

*A fixed partition.* A run's comments are summarised in fixed parts and nowhere else: each team with at
least k comments is a part of its own, and everything else (teams with fewer than k comments, people
without a team) is one part, "other teams", that exists only when it holds at least k comments. A view
of several teams shows its teams' own parts side by side (the whole organisation adds "other teams"); it
is never summarised over the union. Summarising a union would let a leader of Alpha and Tiny subtract
Alpha's summary from Alpha+Tiny's and read what Tiny's three people wrote; a part is the same in every
view, so no two views differ by fewer than k comments. A theme's count is shown only when it is k or
more; a theme in fewer comments is listed as such, never with its number.

Each part is summarised on its own (`summaries`). With OPENAI_API_KEY, an AI summary of the themes
(through `bot.ai.complete`: only that part's comments, names, e-mails and mentions redacted, the call
audited, a 10-second limit); an answer that repeats any comment's wording at length is thrown away.
Without a key, or when the AI call fails or is refused, the summary is built here (`theme_summary`):
how many comments, and their themes (`bot.pulses.themes`: short phrases found by YAKE keyword
extraction that at least two comments mention, never filler, a fragment, anyone's whole comment or a
word of anyone's name), most mentioned first.

The text returned is plain and unescaped: escape it (`bot.slack.text.escape`) before putting it in Slack.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import ai, clock
from bot.config import Settings
from bot.db import insert_ignore, is_readonly
from bot.models import AiCache, PulseAnswer, PulseResponse, Team
from bot.pulses.themes import fold, singular, themes

QUOTE_WORDS = 6  # an AI summary sharing this many consecutive words with a comment is a quote: rejected
QUOTE_MIN_WORDS = 3  # ... or a whole comment of at least this many words ("Training" is no quote)
AI_MAX_WORDS = 120

_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_LETTERS = re.compile(r"[^\W\d_]+")  # the runs of letters that roster names are made of (`bot.ai`)
PartKey = int | None  # a team id, or None for "other teams"

SYSTEM_PROMPT = (
    "You summarise anonymous employee survey comments about using AI at work for their leaders. "
    "Write 2 to 4 short bullet points naming the recurring themes and what people ask for. "
    "Never quote a comment, never name or describe a person, never guess who wrote what. "
    f"Plain text, at most {AI_MAX_WORDS - 20} words."
)


OTHER_TEAMS = "Other teams"


@dataclass(frozen=True)
class CommentSummary:
    """The summary of one part of a run's comments (module docstring)."""

    team_id: int | None  # None: the "other teams" part
    group: str  # the team's name, or OTHER_TEAMS
    comments: int
    text: str  # plain, unescaped


def comment_parts(session: Session, run_id: int, k: int) -> dict[int | None, list[str]]:
    """The run's non-empty comments by part: a team's own when it has at least k, the rest under None
    when they are at least k together (module docstring). Each part in no meaningful order."""
    stmt = (
        select(PulseResponse.team_id, PulseAnswer.text)
        .join(PulseResponse, PulseResponse.id == PulseAnswer.response_id)
        .where(PulseAnswer.run_id == run_id, PulseResponse.run_id == run_id, PulseAnswer.text.is_not(None))
    )
    by_team: dict[int | None, list[str]] = {}
    for team_id, text in session.execute(stmt):
        if text and text.strip():
            by_team.setdefault(team_id, []).append(text.strip())
    parts: dict[int | None, list[str]] = {}
    rest: list[str] = []
    for team_id, texts in by_team.items():
        if team_id is not None and len(texts) >= k:
            parts[team_id] = sorted(texts)
        else:
            rest += texts
    if len(rest) >= k:
        parts[None] = sorted(rest)
    return parts


def summaries(
    session: Session,
    run_id: int,
    settings: Settings,
    *,
    only: Collection[int | None] | None = None,
    team_names: Mapping[int, str] | None = None,
    names: frozenset[str] | None = None,
    use_ai: bool | None = None,
    parts: Mapping[int | None, list[str]] | None = None,
    memo: dict[tuple[int, int | None, bool], CommentSummary] | None = None,
) -> tuple[CommentSummary, ...]:
    """The summaries of the run's comment parts: teams by name, "other teams" last.

    `only` picks parts by key (a team id; None for "other teams"), e.g. `audience_parts(team_ids)`;
    `use_ai` (default: whether AI is configured) asks the model for each part's themes; `names` are the
    roster's name words (loaded when not given), never shown in a summary. `parts` and `memo` let a
    caller that shows many views partition and summarise each part once.
    """
    if parts is None:
        parts = comment_parts(session, run_id, settings.min_group_size)
    keys = [key for key in parts if only is None or key in only]
    if not keys:
        return ()
    if team_names is None:
        team_names = {team_id: name for team_id, name in session.execute(select(Team.id, Team.name))}
    ai_on = settings.ai_enabled if use_ai is None else use_ai and settings.ai_enabled
    k = settings.min_group_size
    pending = [key for key in keys if memo is None or (run_id, key, ai_on) not in memo]
    if pending and names is None:
        names = ai.roster_name_parts(session)
    named = names or frozenset()
    themed = (
        {}
        if ai_on
        else stored_theme_summaries(session, run_id, {key: parts[key] for key in pending}, k, named)
    )
    found = []
    for key in keys:
        done = memo.get((run_id, key, ai_on)) if memo is not None else None
        if done is None:
            texts = parts[key]
            text = _ai_summary(session, settings, run_id, texts, named) if ai_on else None
            if text is not None:
                text = f"{len(texts)} comments. {text}"
            else:
                text = themed.get(key) or stored_theme_summaries(session, run_id, {key: texts}, k, named)[key]
            group = OTHER_TEAMS if key is None else team_names.get(key, OTHER_TEAMS)
            done = CommentSummary(key, group, len(texts), text)
            if memo is not None:
                memo[(run_id, key, ai_on)] = done
        found.append(done)
    found.sort(key=lambda c: (c.team_id is None, c.group.casefold(), c.group))
    return tuple(found)


THEMES_VERSION = 1  # part of every stored theme summary's key: raise it when `theme_summary` changes


def stored_theme_summaries(
    session: Session, run_id: int, parts: Mapping[PartKey, Sequence[str]], k: int, names: frozenset[str]
) -> dict[PartKey, str]:
    """`theme_summary` of each part, kept in the AI cache: a closed run's comments do not change, and
    finding a thousand teams' themes takes half a minute, each week the run is shown again.

    The key is the run and a hash of everything the summary depends on: the part's comments, k, and the
    roster names that occur in them (another hire's name changes nothing; a new colleague named like a
    theme word does). Forgetting someone who commented deletes the run's entries with the AI summaries
    (`bot.forget`, the `pulse-comments:<run>:` prefix).
    """
    keys = {part: _theme_key(run_id, texts, k, names) for part, texts in parts.items()}
    if not keys:
        return {}
    query = select(AiCache.key, AiCache.value).where(AiCache.key.in_(list(keys.values())))
    stored: dict[str, str] = {key: value for key, value in session.execute(query)}
    found: dict[PartKey, str] = {}
    made: list[dict[str, object]] = []
    for part, key in keys.items():
        text = stored.get(key)
        if text is None:
            text = theme_summary(parts[part], k, names)
            made.append({"key": key, "value": text, "created_at": clock.utcnow()})
        found[part] = text
    if not is_readonly(session):  # a dashboard page reads what the close job or a digest stored
        insert_ignore(session, AiCache, made)
    return found


def store_themes(session: Session, run_id: int, settings: Settings) -> int:
    """Find and store the theme summaries of every part of the run's comments, ahead of the digests that
    will show them (`stored_theme_summaries`); return how many parts."""
    k = settings.min_group_size
    parts = comment_parts(session, run_id, k)
    if not parts:
        return 0
    return len(stored_theme_summaries(session, run_id, parts, k, ai.roster_name_parts(session)))


def _theme_key(run_id: int, texts: Sequence[str], k: int, names: frozenset[str]) -> str:
    words = {fold(run) for text in texts for run in _LETTERS.findall(text)}
    said = sorted(names & (words | {singular(word) for word in words}))  # as `themes` compares words
    content = "\x1f".join([str(THEMES_VERSION), str(k), *said, "", *sorted(texts)])
    return f"pulse-comments:{run_id}:themes:{hashlib.sha256(content.encode()).hexdigest()[:40]}"


def audience_parts(team_ids: Collection[int] | None) -> Collection[int | None] | None:
    """The parts a view shows: its teams' own; the whole organisation (`team_ids` None) every part,
    "other teams" included. Never a summary over the view's own union of teams."""
    return None if team_ids is None else set(team_ids)


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


def theme_summary(comments: Sequence[str], k: int, names: frozenset[str] = frozenset()) -> str:
    """How many comments, and their themes, most mentioned first: with the number of comments that
    mention each when that is at least `k`, else only as "fewer than k" (module docstring)."""
    found = themes(comments, names)
    if not found:
        return f"{len(comments)} comments; no theme recurs across them."
    counted = [f"“{t.phrase}” (in {t.comments})" for t in found if t.comments >= k]
    fewer = [f"“{t.phrase}”" for t in found if t.comments < k]
    listed = ", ".join(counted)
    if fewer:
        each = "each in" if len(fewer) > 1 else "in"
        listed += ("; also " if counted else "") + f"{', '.join(fewer)} ({each} fewer than {k})"
    return f"{len(comments)} comments. Themes: {listed}."
