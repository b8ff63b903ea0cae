"""The rules every text of the content library follows: its ids, keys and Slack's limits, the plain data
types it is read into, and `_Table`, which reads one TOML table and records each problem with where it is.

`bot.content` reads the library's own files with these, `bot.content_locales` its translations.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date
from typing import Any

DEFAULT_LANGUAGE = "en"  # the language of the library's own files; translations live in locales/<lang>/
ADKAR_STAGES = ("awareness", "desire", "knowledge", "ability", "reinforcement")
# actions.toml: leaders' suggested actions per ADKAR stage (a team's barrier), and for what the AI tools'
# own reports show: licences unused for four weeks, people saying they use AI more than the tools measure
# (say_do_gap), or the tools measuring more use than people report (unreported_use).
MEASURED_ACTIONS = ("idle_licences", "say_do_gap", "unreported_use")
ACTION_KEYS = (*ADKAR_STAGES, *MEASURED_ACTIONS)
LEVELS = (1, 2, 3)
QUESTION_KINDS = ("scale", "choice", "text")
SCALE_POINTS = 5  # a scale question is answered 1..5

# Slack's limits (docs.slack.dev, Block Kit reference) for the place each text is shown.
SECTION_TEXT_MAX = 3000  # section block text: a nudge body, a stage's suggested actions
HEADER_TEXT_MAX = 150  # header block text: a nudge title
TRY_IT_MAX = 2900  # shown in a section too, with room left for its label and code fence
INPUT_LABEL_MAX = 2000  # input block label: a survey question
OPTION_TEXT_MAX = 75  # option object text: a choice answer, a scale label, a role in a menu
RADIO_OPTIONS_MAX = 10  # radio button group: at most 10 options
MODAL_TITLE_MAX = 24  # modal title: the survey's title
SURVEY_QUESTIONS_MAX = 50  # one input block each; a modal holds 100 blocks
URL_MAX = 3000  # button url

NUDGE_KEYS = ("id", "roles", "level", "stage", "title", "body", "try_it", "minutes", "link", "tools")
ANY_TOOL = "any"  # a nudge's `tools` value meaning tool-neutral (the default)
QUESTION_KEYS = ("id", "text", "kind", "options", "stage", "metric", "required")
SURVEY_KEYS = ("id", "title", "cadence_weeks", "scale", "question")
HOLIDAY_KEYS = ("date", "until", "name", "timezones", "countries")
HOLIDAY_SPAN_MAX_DAYS = 31

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_ID_MAX = 80  # nudge, survey and question ids are stored in String(80) columns
TOOL_ID_MAX = 64  # usage_facts.tool is a String(64)
_ROLE_ID_MAX = 64  # Person.role is String(64)
_COUNTRY = re.compile(r"^[A-Z]{2}$")
# An unencrypted link in text people click: refused, as in `link`.
_PLAIN_HTTP = re.compile(r"\bhttp://[^\s<>|]*", re.IGNORECASE)
# What Slack reads inside <...> in mrkdwn: links, mailto, channel/user/group mentions, dates.
_SLACK_ANGLE = re.compile(r"<(?:https?://|mailto:|#C|@[UW]|!subteam\^|!date\^)[^<>\s|]+(?:\|[^<>]*)?>")


@dataclass(frozen=True)
class Role:
    id: str
    name: str


@dataclass(frozen=True)
class Tool:
    """An AI tool whose usage reports `adoptbot usage import` reads (tools.toml)."""

    id: str
    name: str


@dataclass(frozen=True)
class Nudge:
    id: str
    roles: tuple[str, ...]
    level: int
    stage: str
    title: str
    body: str
    try_it: str | None
    minutes: int | None
    link: str | None
    source: str  # file it came from, relative to the library folder, e.g. "nudges/sales.toml"
    tools: tuple[str, ...] = ()  # tool ids from tools.toml it is about; () = tool-neutral ("any")

    def applies_to(self, role: str) -> bool:
        return "*" in self.roles or role in self.roles

    def fits(self, held: AbstractSet[str]) -> bool:
        """Whether someone holding the tools in `held` may get it: tool-neutral, or about one they hold."""
        return not self.tools or not held.isdisjoint(self.tools)


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str  # "scale" | "choice" | "text"
    options: tuple[str, ...]  # choice: the answers (usage: first = never); scale: 5 labels for 1..5, or ()
    stage: str | None  # ADKAR element a scale question measures
    metric: str | None  # "usage" on the question about how often AI was used
    required: bool  # text questions are never required


@dataclass(frozen=True)
class Survey:
    id: str
    title: str
    cadence_weeks: int
    questions: tuple[Question, ...]
    source: str = ""  # file it came from, e.g. "pulses/adkar.toml"
    scale: tuple[str, ...] = ()  # the survey's own scale labels, if it has them


@dataclass(frozen=True)
class Holiday:
    day: date
    name: str
    timezones: tuple[str, ...]  # empty = everyone


def _did_you_mean(value: str, allowed: Iterable[str]) -> str:
    allowed = list(allowed)
    close = difflib.get_close_matches(value, allowed, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    return f" (expected one of: {', '.join(allowed)})"


def _quoted(value: object) -> str:
    return f"'{value}'" if isinstance(value, str) else repr(value)


class _Table:
    """One TOML table being read; each problem is recorded as "<where>: <problem>"."""

    def __init__(self, problems: list[str], where: str, data: Mapping[str, Any], allowed: Iterable[str]):
        self.problems = problems
        self.where = where
        self.data = data
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                self.problem(f"unknown key '{key}'{_did_you_mean(key, allowed)}")

    def problem(self, message: str) -> None:
        self.problems.append(f"{self.where}: {message}")

    def text(self, key: str, *, required: bool = True, limit: int | None = None, why: str = "") -> str | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(f"{key} is required")
            return None
        if not isinstance(value, str):
            self.problem(f"{key} must be text in quotes, not {_quoted(value)}")
            return None
        value = value.strip()
        if not value:
            self.problem(f"{key} must not be empty")
            return None
        if limit is not None and len(value) > limit:
            self.problem(f"{key} is {len(value):,} characters; Slack allows at most {limit:,}{why}")
        return value

    def identifier(self, key: str = "id", *, limit: int = _ID_MAX) -> str | None:
        value = self.text(key)
        if value is not None and (not _ID.match(value) or len(value) > limit):
            self.problem(
                f"{key} '{value}' must be lowercase letters, digits, '-' or '_' (at most {limit} characters)"
            )
            return None
        return value

    def integer(self, key: str, *, required: bool = True) -> int | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(f"{key} is required")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{key} must be a whole number, not {_quoted(value)}")
            return None
        return value

    def texts(self, key: str, *, required: bool = True, item_limit: int | None = None) -> list[str] | None:
        value = self.data.get(key)
        if value is None:
            if required:
                self.problem(f"{key} is required")
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.problem(f'{key} must be a list of non-empty texts, like ["a", "b"]')
            return None
        items = [v.strip() for v in value]
        for item in items:
            if item_limit is not None and len(item) > item_limit:
                short = item if len(item) <= 40 else item[:37] + "..."
                self.problem(f"{key}: '{short}' is {len(item)} characters; Slack allows at most {item_limit}")
        return items

    def mrkdwn(self, key: str, *, required: bool, limit: int, why: str = "") -> str | None:
        value = self.text(key, required=required, limit=limit, why=why)
        if value is not None:
            if "http://" in value.lower() and (plain := _PLAIN_HTTP.search(value)):
                self.problem(f"{key}: links must use https://, not http:// (near '{plain.group()[:40]}')")
            start = value.find("<")
            while start != -1:
                if not _SLACK_ANGLE.match(value, start):
                    near = value[start : start + 20].split("\n")[0]
                    self.problem(
                        f"{key}: Slack reads '<' as the start of a link; write &lt; instead (near '{near}')"
                    )
                    break
                start = value.find("<", start + 1)
        return value
