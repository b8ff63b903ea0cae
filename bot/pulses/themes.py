"""Comment themes without AI: short phrases that recur across comments, with how many comments say each.

YAKE (Yet Another Keyword Extractor, the `yake` package) proposes candidate phrases of one to four words
and ranks them by statistics of the text alone (frequency, spread over sentences, position, casing, the
words around them). Those statistics need no dictionary or model, so comments in other languages get
themes too; the stop-lists are English, though, so there a theme may keep a function word. A candidate
becomes a theme only when at least two comments say it, and:

- no first or last word is a stop word (YAKE's English list plus `bot.pulses.theme_stoplist`), so no
  "please", "thanks", "really", "think", "would", no dangling "of the";
- a single word has three letters or more and is not a generic one (`theme_stoplist.NOT_ALONE`: "team",
  "time", "people");
- no word is a single letter, a number or a piece of one ("GPT-4o" is no word), or a word of anyone's
  name in the roster; a phrase with a stop word inside is no piece of a longer one ("rules on customer",
  always followed by "data");
- it is not anyone's whole comment.

Forms merge: case ("Layoffs", "layoffs"), plurals ("prompt libraries", "prompt library") and
possessives; a theme is shown in its most frequent form. A word or phrase said mostly inside longer
themes gives way to them ("training" to "training time"). Themes are ordered by how many comments
mention them, then by YAKE's score, then alphabetically: the same comments, in any order, always give
the same themes in the same order.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Protocol

from bot.pulses.theme_stoplist import FILLER_WORDS, NOT_ALONE_WORDS, THEME_WORDS_SET

MAX_THEMES = 6
MAX_WORDS = 4  # a theme is a short phrase
MIN_COMMENTS = 2  # a phrase in one comment is that comment's, not a theme
CANDIDATES = 60  # YAKE's best candidates considered, for any number of comments

_PIECE = re.compile(r"[\w'’-]+")  # a token between spaces and punctuation
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*")  # letters, with inner apostrophes or hyphens
_CLAUSE = re.compile(r"[.!?;:,()\[\]{}\"“”…/|]+|\s[-–—]+\s")  # a phrase never runs across these

Key = tuple[str, ...]

# YAKE logs a failure with the start of the text it was given: comments never reach a log.
logging.getLogger("yake").addHandler(logging.NullHandler())
logging.getLogger("yake").propagate = False


class _Extractor(Protocol):
    def extract_keywords(self, text: str) -> list[tuple[str, float]]: ...


@dataclass(frozen=True)
class Theme:
    """A phrase and how many comments mention it (in any of its merged forms)."""

    phrase: str
    comments: int


@cache
def _stop_words() -> frozenset[str]:
    import yake

    english: set[str] = yake.KeywordExtractor(lan="en").stopword_set
    return frozenset({w.strip() for w in english if w.strip()} - THEME_WORDS_SET | FILLER_WORDS)


def _extractor() -> _Extractor:
    import yake

    # Near-duplicates are merged here by their words (not YAKE's string similarity, which would keep
    # "prompt library" or "prompt libraries" by score alone).
    extractor: _Extractor = yake.KeywordExtractor(
        lan="en", n=MAX_WORDS, dedup_lim=1.0, top=CANDIDATES, stopwords=set(_stop_words())
    )
    return extractor


def singular(word: str) -> str:
    """English plural to singular, for merging forms only ("libraries" -> "library", "boxes" -> "box")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s")):
        return word[:-1]
    return word


def fold(word: str) -> str:
    """Without case or accents, as `bot.ai` compares names ("José" is "jose")."""
    if word.isascii():  # nothing to decompose (a roster of 100,000 names is mostly ASCII)
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _normal(word: str) -> str:
    return singular(fold(word))


def _runs(comment: str) -> list[list[str]]:
    """The comment's runs of words: a clause cut further at anything that is no word (a number, "4o")."""
    runs: list[list[str]] = []
    for clause in _CLAUSE.split(comment.replace("’", "'")):
        run: list[str] = []
        for piece in _PIECE.findall(clause):
            word = piece.strip("'-")
            if word.lower().endswith("'s"):
                word = word[:-2]
            if _WORD.fullmatch(word):
                run.append(word)
            else:
                if run:
                    runs.append(run)
                run = []
        if run:
            runs.append(run)
    return runs


@dataclass
class _Seen:
    """Where a phrase was seen: in which comments, in which forms, and the words just around it."""

    comments: set[int] = field(default_factory=set)
    forms: Counter[str] = field(default_factory=Counter)
    before: set[str | None] = field(default_factory=set)
    after: set[str | None] = field(default_factory=set)

    def cut(self) -> bool:
        """Whether the phrase is always written with the same word before it, or after it, that is no
        stop word ("rules on customer" always followed by "data"): then it is a piece of a longer one."""
        return any(len(side) == 1 and None not in side for side in (self.before, self.after))


def _grams(comments: Sequence[str]) -> dict[Key, _Seen]:
    """Every phrase of 1 to MAX_WORDS words of the comments' runs, by key."""
    stop = _stop_keys()[0]
    found: dict[Key, _Seen] = {}
    for index, comment in enumerate(comments):
        for run in _runs(comment):
            keys = [_normal(w) for w in run]
            around = [None if k in stop else k for k in keys]
            for size in range(1, MAX_WORDS + 1):
                for start in range(len(run) - size + 1):
                    end = start + size
                    seen = found.setdefault(tuple(keys[start:end]), _Seen())
                    seen.comments.add(index)
                    seen.forms[_shown(run[start:end])] += 1
                    seen.before.add(around[start - 1] if start > 0 else None)
                    seen.after.add(around[end] if end < len(run) else None)
    return found


def _shown(words: Sequence[str]) -> str:
    """A phrase as shown: lower case, but an acronym ("GDPR", "HR") stays as written."""
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in words)


def _acceptable(key: Key, seen: _Seen, whole: set[Key], names: frozenset[str]) -> bool:
    """Whether a phrase can be a theme at all (module docstring)."""
    stop, alone = _stop_keys()
    if len(seen.comments) < MIN_COMMENTS or key in whole or not 0 < len(key) <= MAX_WORDS:
        return False
    if key[0] in stop or key[-1] in stop or any(len(w) < 2 or not _WORD.fullmatch(w) for w in key):
        return False
    if len(key) == 1 and (len(key[0]) < 3 or key[0] in alone):
        return False
    if any(w in names for w in key) or any(
        fold(part) in names for form in seen.forms for part in re.split(r"[\s'-]+", form)
    ):
        return False
    return not (any(w in stop for w in key[1:-1]) and seen.cut())


@cache
def _stop_keys() -> tuple[frozenset[str], frozenset[str]]:
    """The stop words and the words never alone, as they are and as keys (folded, singular)."""
    stop = _stop_words()
    return stop | {_normal(w) for w in stop}, NOT_ALONE_WORDS | {_normal(w) for w in NOT_ALONE_WORDS}


def themes(comments: Sequence[str], names: frozenset[str] = frozenset()) -> list[Theme]:
    """The comments' themes, most mentioned first, at most MAX_THEMES (module docstring).

    `names` are folded name words (`bot.ai.roster_name_parts`): no theme contains one.
    """
    comments = sorted(c.strip() for c in comments if c.strip())  # in any order: the same themes
    if len(comments) < MIN_COMMENTS:
        return []
    seen = _grams(comments)
    whole = {tuple(_normal(w) for run in _runs(c) for w in run) for c in comments}
    text = "\n".join(c if c[-1] in ".!?" else c + "." for c in comments)
    scores: dict[Key, float] = {}
    for phrase, score in _extractor().extract_keywords(text):
        runs = _runs(phrase)
        key = tuple(_normal(w) for w in runs[0]) if len(runs) == 1 else ()
        if key in seen and _acceptable(key, seen[key], whole, names):
            scores[key] = min(score, scores.get(key, score))
    said = {key: frozenset(seen[key].comments) for key in scores}
    ranked = sorted(scores, key=lambda k: (-len(said[k]), -len(k), round(scores[k], 9), k))
    kept: list[Key] = []
    for key in ranked:
        longer = [other for other in scores if _inside(key, other)]
        if 2 * len(frozenset().union(*(said[other] for other in longer))) > len(said[key]):
            continue  # mostly said as part of longer themes: those are shown instead
        if any(_inside(other, key) or (_overlap(key, other) and said[key] <= said[other]) for other in kept):
            continue  # a shown theme and more, or a piece of one said in no other comment
        kept.append(key)
        if len(kept) == MAX_THEMES:
            break
    return [Theme(_form(seen[key].forms), len(said[key])) for key in kept]


def _overlap(one: Key, other: Key) -> bool:
    """Whether two phrases share words end to start ("clearer rules on" and "rules on customer")."""
    return any(one[-size:] == other[:size] or other[-size:] == one[:size] for size in range(1, len(one)))


def _inside(short: Key, long: Key) -> bool:
    return len(short) < len(long) and any(
        long[i : i + len(short)] == short for i in range(len(long) - len(short) + 1)
    )


def _form(written: Counter[str]) -> str:
    """The form written most often; of equally frequent ones, the first alphabetically."""
    return min(written, key=lambda form: (-written[form], form))
