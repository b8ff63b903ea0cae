"""The content library: roles, nudges, pulse surveys, holidays, leaders' suggested actions and the AI tools
whose usage reports can be imported (TOML files).

Change managers edit these plain files. `load_library` reads and checks all of them and reports every
problem at once, each naming its file and entry, so `adoptbot content check` catches a broken edit before
it reaches anyone. Length limits are Slack's documented Block Kit limits for where each text is shown.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from bot.content_locales import language_for, localized_fields, read_translations
from bot.content_rules import (
    _COUNTRY,
    _ID,
    _ROLE_ID_MAX,
    ACTION_KEYS,
    ADKAR_STAGES,
    ANY_TOOL,
    DEFAULT_LANGUAGE,
    HEADER_TEXT_MAX,
    HOLIDAY_KEYS,
    HOLIDAY_SPAN_MAX_DAYS,
    INPUT_LABEL_MAX,
    LEVELS,
    MODAL_TITLE_MAX,
    NUDGE_KEYS,
    OPTION_TEXT_MAX,
    QUESTION_KEYS,
    QUESTION_KINDS,
    RADIO_OPTIONS_MAX,
    SCALE_POINTS,
    SECTION_TEXT_MAX,
    SURVEY_KEYS,
    SURVEY_QUESTIONS_MAX,
    TOOL_ID_MAX,
    TRY_IT_MAX,
    URL_MAX,
    Holiday,
    Nudge,
    Question,
    Role,
    Survey,
    Tool,
    _did_you_mean,
    _quoted,
    _Table,
)
from bot.errors import UsageError

try:  # tomli is tomllib (same parser, same errors) compiled to C: a library reads about three times faster
    import tomli as toml
except ImportError:  # pragma: no cover - an install without it still works, more slowly
    import tomllib as toml  # type: ignore[no-redef]

if TYPE_CHECKING:
    from bot.content_locales import Translation


@dataclass(frozen=True)
class Library:
    path: Path
    roles: dict[str, Role]
    nudges: tuple[Nudge, ...]
    surveys: dict[str, Survey]
    holidays: tuple[Holiday, ...]
    actions: dict[str, tuple[str, ...]]  # every ADKAR stage -> suggested actions for leaders (may be empty)
    tools: dict[str, Tool] = field(default_factory=dict)  # tools.toml (optional): id -> tool
    translations: Mapping[str, Translation] = field(default_factory=dict)  # locales/<lang>/ by lang
    lang: str = DEFAULT_LANGUAGE  # the language of the texts above
    base: Library | None = field(default=None, repr=False, compare=False)  # the default-language library
    _localized: dict[str, Library] = field(default_factory=dict, init=False, repr=False, compare=False)
    _by_id: dict[str, Nudge] = field(default_factory=dict, init=False, repr=False, compare=False)

    def localized(self, lang: str | None) -> Library:
        """This library in `lang` (a tag such as "de" or Slack's "pt-BR"), falling back entry by entry and
        field by field to the default language. Ids, levels, stages and question ids stay the same, so
        what people answer or receive in any language is stored and counted together."""
        root = self.base or self
        wanted = language_for(lang)
        translation = root.translations.get(wanted)
        if translation is None:
            return root
        if wanted not in root._localized:
            fields = localized_fields(root, translation)
            root._localized[wanted] = replace(root, **fields, lang=wanted, base=root)
        return root._localized[wanted]

    def nudge(self, nudge_id: str) -> Nudge | None:
        """The nudge with this id, if the library has it (a dict lookup: a tick asks thousands of times)."""
        if not self._by_id:
            self._by_id.update((n.id, n) for n in self.nudges)
        return self._by_id.get(nudge_id)

    def nudge_text(self, nudge: Nudge, lang: str | None) -> Nudge:
        """`nudge` with its title, body and try_it in `lang` (the default text where none is translated)."""
        localized = self.localized(lang)
        if localized.lang == DEFAULT_LANGUAGE:
            return nudge
        return localized.nudge(nudge.id) or nudge

    def nudges_for(self, role: str) -> list[Nudge]:
        """The nudges a person in `role` can get (their role's and everyone's), in the order they come:
        by level, then ADKAR stage (awareness first), then everyone's before the role's (the ground rules
        first) and tool tracks last, then id."""
        return sorted((n for n in self.nudges if n.applies_to(role)), key=_teaching_order)

    def is_holiday(self, day: date, timezone: str) -> bool:
        """Whether `day` (a local date) is a holiday for someone in `timezone` (an IANA name)."""
        return any(h.day == day and (not h.timezones or timezone in h.timezones) for h in self.holidays)

    def default_survey(self) -> Survey:
        return self.surveys[min(self.surveys)]


def _teaching_order(nudge: Nudge) -> tuple[int, int, int, str]:
    stage = ADKAR_STAGES.index(nudge.stage) if nudge.stage in ADKAR_STAGES else len(ADKAR_STAGES)
    group = 2 if nudge.tools else 0 if "*" in nudge.roles else 1  # everyone's, the role's, tool tracks
    return (nudge.level, stage, group, nudge.id)


class ContentError(UsageError):
    """The library has problems; `errors` lists every one as "<file>: <entry>: <problem>"."""

    def __init__(self, errors: list[str], path: Path | None = None, *, message: str | None = None) -> None:
        self.errors = errors
        self.path = path
        if message is None:
            count = len(errors)
            message = f"{count} problem{'' if count == 1 else 's'} in the content library: {errors[0]}"
            if count > 1:
                message += " (`adoptbot content check` lists them all)"
        super().__init__(message)


def bundled_content_dir() -> Path:
    """The starter library: the repository's content/ in a source checkout, else the installed copy."""
    root = Path(__file__).resolve().parent.parent
    if (root / "pyproject.toml").is_file() and (root / "content" / "roles.toml").is_file():
        return root / "content"
    # Installed from a wheel: pyproject.toml maps content/ to the package data bot/starter_content.
    installed = Path(__file__).resolve().parent / "starter_content"
    try:
        found = resources.files("bot.starter_content")
    except ModuleNotFoundError:
        return installed
    roles = found.joinpath(
        "roles.toml"
    )  # a namespace package's files() is a MultiplexedPath, its files Paths
    return roles.parent if isinstance(roles, Path) else installed


def load_library(path: Path | None = None) -> Library:
    """Read and check the library in `path` (default: the bundled one).

    Raises ContentError listing every problem found, not just the first.
    """
    folder = bundled_content_dir() if path is None else Path(path)
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        message = f"content library folder {folder} {what}."
        raise ContentError([message], folder, message=message)
    reader = _Reader(folder)
    library = reader.read()
    translations = read_translations(reader, library, reader.nudge_files)
    if translations:
        library = replace(library, translations=translations)
    if reader.problems:
        raise ContentError(reader.problems, folder)
    return library


# --- reading -------------------------------------------------------------------------------------------


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def _country_timezones() -> dict[str, tuple[str, ...]]:
    """ISO 3166 country code -> the IANA time zones used there, from the tz database's zone.tab."""
    try:
        text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError):
        try:
            text = Path("/usr/share/zoneinfo/zone.tab").read_text(encoding="utf-8")
        except OSError:
            return {}
    zones: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            zones.setdefault(fields[0], []).append(fields[2])
    return {country: tuple(names) for country, names in zones.items()}


class _Reader:
    """Reads every file of one library folder, collecting problems instead of stopping at the first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.problems: list[str] = []
        self.declared_roles: set[str] = set()  # every role id in roles.toml, even one with problems
        self.named_roles: set[str] = set()  # roles that some nudge names, valid or not
        self.unreadable_nudges = False  # a nudge file we could not parse may name any role
        self.nudge_files: dict[str, str] = {}  # every nudge id in the files, valid or not -> its file

    def read(self) -> Library:
        roles = self._roles()
        tools = self._tools()
        nudges = self._nudges(roles, tools)
        surveys = self._surveys()
        holidays = self._holidays()
        actions = self._actions()
        for role_id in roles:
            if role_id not in self.named_roles and not self.unreadable_nudges:
                self.problems.append(
                    f"roles.toml: role '{role_id}': no nudge names this role "
                    f'(every role needs nudges of its own: roles = ["{role_id}"] in nudges/*.toml)'
                )
        return Library(self.folder, roles, tuple(nudges), surveys, holidays, actions, tools)

    def _load(self, relative: str, *, optional: bool = False) -> dict[str, Any] | None:
        path = self.folder / relative
        if not path.is_file():
            if not optional:
                self.problems.append(f"{relative}: file is missing")
            return None
        try:
            return toml.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError:
            self.problems.append(f"{relative}: not UTF-8 text; save the file as UTF-8")
        except toml.TOMLDecodeError as error:
            message = str(error)
            if found := re.search(r"\s*\(at line (\d+), column (\d+)\)$", message):
                where = f"at line {found[1]}, column {found[2]}"
                message = message[: found.start()]
            else:
                where = "at the end of the file"
                message = message.replace(" (at end of document)", "")
            self.problems.append(f"{relative}: TOML syntax error {where}: {message}")
        return None

    def _files(self, folder: str) -> list[str]:
        directory = self.folder / folder
        if not directory.is_dir():
            return []
        return [f"{folder}/{p.name}" for p in sorted(directory.glob("*.toml")) if p.is_file()]

    def _tables(self, relative: str, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        """The [[key]] entries of a file, reporting anything else in it."""
        for other in data:
            if other != key:
                self.problems.append(f"{relative}: unknown key '{other}'{_did_you_mean(other, [key])}")
        entries = data.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            self.problems.append(f"{relative}: write each {key} as a [[{key}]] table")
            return []
        return entries

    # roles.toml ------------------------------------------------------------------------------------------

    def _roles(self) -> dict[str, Role]:
        data = self._load("roles.toml")
        if data is None:
            return {}
        for other in set(data) - {"roles"}:
            self.problems.append(f"roles.toml: unknown key '{other}'{_did_you_mean(other, ['roles'])}")
        entries = data.get("roles")
        if not isinstance(entries, dict):
            self.problems.append("roles.toml: write each role as a [roles.<id>] table with a name")
            return {}
        roles: dict[str, Role] = {}
        self.declared_roles.update(entries)
        for role_id, entry in entries.items():
            where = f"roles.toml: role '{role_id}'"
            if not isinstance(entry, dict):
                self.problems.append(f"{where}: write it as a [roles.{role_id}] table with a name")
                continue
            table = _Table(self.problems, where, entry, ("name",))
            if not _ID.match(role_id) or len(role_id) > _ROLE_ID_MAX:
                rule = f"lowercase letters, digits, '-' or '_' (at most {_ROLE_ID_MAX} characters)"
                table.problem(f"role id must be {rule}")
            name = table.text("name", limit=OPTION_TEXT_MAX, why=" for a menu option")
            if name is not None:
                roles[role_id] = Role(role_id, name)
        if not entries:
            self.problems.append("roles.toml: no roles; add at least one [roles.<id>] table")
        return roles

    # nudges/*.toml -------------------------------------------------------------------------------------

    def _nudges(self, roles: dict[str, Role], tools: dict[str, Tool]) -> list[Nudge]:
        files = self._files("nudges")
        if not files:
            self.problems.append("nudges/: no nudge files; add nudges/<role>.toml with [[nudge]] entries")
        nudges: list[Nudge] = []
        seen = self.nudge_files
        for relative in files:
            data = self._load(relative)
            if data is None:
                self.unreadable_nudges = True
                continue
            if not data.get("nudge", data):
                self.problems.append(f"{relative}: no [[nudge]] entries")
            entries = self._tables(relative, data, "nudge")
            for number, entry in enumerate(entries, start=1):
                if isinstance(entry.get("roles"), list):
                    self.named_roles.update(r for r in entry["roles"] if isinstance(r, str))
                nudge = self._nudge(relative, number, entry, roles, tools, seen)
                if nudge is not None:
                    nudges.append(nudge)
        return nudges

    def _nudge(
        self,
        relative: str,
        number: int,
        entry: dict[str, Any],
        roles: dict[str, Role],
        tools: dict[str, Tool],
        seen: dict[str, str],
    ) -> Nudge | None:
        raw_id = entry.get("id")
        label = f"'{raw_id}'" if isinstance(raw_id, str) and raw_id.strip() else f"#{number}"
        table = _Table(self.problems, f"{relative}: nudge {label}", entry, NUDGE_KEYS)
        before = len(self.problems)
        nudge_id = table.identifier()
        if nudge_id is not None:
            if nudge_id in seen:
                table.problem(f"id '{nudge_id}' is already used in {seen[nudge_id]}")
            else:
                seen[nudge_id] = relative
        nudge_roles = self._nudge_roles(table, roles)
        level = table.integer("level")
        if level is not None and level not in LEVELS:
            table.problem("level must be 1, 2 or 3")
        stage = table.text("stage")
        if stage is not None and stage not in ADKAR_STAGES:
            table.problem(f"stage '{stage}' is not an ADKAR stage{_did_you_mean(stage, ADKAR_STAGES)}")
        title = table.text("title", limit=HEADER_TEXT_MAX, why=" in a header")
        body = table.mrkdwn("body", required=True, limit=SECTION_TEXT_MAX, why=" in a section")
        try_it = table.mrkdwn("try_it", required=False, limit=TRY_IT_MAX, why=" (a section, with its label)")
        minutes = table.integer("minutes", required=False)
        if minutes is not None and minutes < 1:
            table.problem("minutes must be a positive whole number")
        link = self._link(table)
        nudge_tools = self._nudge_tools(table, tools)
        if len(self.problems) > before or not (
            nudge_id and nudge_roles and level and stage and title and body and nudge_tools is not None
        ):
            return None
        return Nudge(
            nudge_id, nudge_roles, level, stage, title, body, try_it, minutes, link, relative, nudge_tools
        )

    def _nudge_tools(self, table: _Table, tools: dict[str, Tool]) -> tuple[str, ...] | None:
        """The tool ids a nudge is about; () when it is tool-neutral (no `tools`, or ["any"])."""
        if "tools" not in table.data:
            return ()
        values = table.texts("tools")
        if values is None:
            return None
        if not values:
            table.problem(f'tools must name at least one tool, or be ["{ANY_TOOL}"] for every tool')
            return None
        if ANY_TOOL in values:
            if len(values) > 1:
                table.problem(
                    f'tools: "{ANY_TOOL}" already means every tool; write tools = ["{ANY_TOOL}"] alone'
                )
                return None
            return ()
        unknown = [v for v in values if v not in tools]
        for value in unknown:
            known = [*sorted(tools), ANY_TOOL]
            table.problem(
                f"unknown tool '{value}'{_did_you_mean(value, known)}; tools are defined in tools.toml"
            )
        if unknown:
            return None
        return tuple(dict.fromkeys(values))

    def _nudge_roles(self, table: _Table, roles: dict[str, Role]) -> tuple[str, ...] | None:
        values = table.texts("roles")
        if values is None:
            return None
        if not values:
            table.problem('roles must name at least one role, or be ["*"] for everyone')
            return None
        if "*" in values:
            if len(values) > 1:
                table.problem('roles: "*" already means every role; write roles = ["*"] alone')
                return None
            return ("*",)
        unknown = [v for v in values if v not in self.declared_roles]
        for value in unknown:
            hint = _did_you_mean(value, sorted(self.declared_roles)) if self.declared_roles else ""
            table.problem(f"unknown role '{value}'{hint}; roles are defined in roles.toml")
        if unknown or any(v not in roles for v in values):
            return None  # a role with problems of its own is reported in roles.toml
        return tuple(dict.fromkeys(values))

    def _link(self, table: _Table) -> str | None:
        link = table.text("link", required=False)
        if link is None:
            return None
        parts = urlsplit(link)
        if parts.scheme == "http":
            table.problem(f"link must use https://, not http:// (it would be read unencrypted): '{link}'")
        elif parts.scheme != "https" or not parts.netloc or re.search(r"[\s<>|]", link):
            table.problem(f"link must be a web address starting with https://, not '{link}'")
        elif len(link) > URL_MAX:
            table.problem(f"link is {len(link)} characters; Slack allows at most {URL_MAX:,}")
        return link

    # pulses/*.toml -------------------------------------------------------------------------------------

    def _surveys(self) -> dict[str, Survey]:
        files = self._files("pulses")
        if not files:
            self.problems.append(
                "pulses/: no survey; add pulses/<id>.toml (see the bundled pulses/adkar.toml)"
            )
        surveys: dict[str, Survey] = {}
        sources: dict[str, str] = {}
        for relative in files:
            data = self._load(relative)
            if data is None:
                continue
            survey = self._survey(relative, data)
            if survey is None:
                continue
            if survey.id in surveys:
                self.problems.append(
                    f"{relative}: survey id '{survey.id}' is already used in {sources[survey.id]}"
                )
                continue
            surveys[survey.id] = survey
            sources[survey.id] = relative
        return surveys

    def _survey(self, relative: str, data: dict[str, Any]) -> Survey | None:
        table = _Table(self.problems, relative, data, SURVEY_KEYS)
        before = len(self.problems)
        survey_id = table.identifier()
        title = table.text("title", limit=MODAL_TITLE_MAX, why=" for a modal title")
        cadence = table.integer("cadence_weeks")
        if cadence is not None and not 1 <= cadence <= 52:
            table.problem("cadence_weeks must be between 1 and 52 (weeks between two pulses)")
        scale = table.texts("scale", required=False, item_limit=OPTION_TEXT_MAX)
        if scale is not None and len(scale) != SCALE_POINTS:
            table.problem(f"scale must list {SCALE_POINTS} labels, for answers 1 to {SCALE_POINTS}")
        entries = data.get("question", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            table.problem("write each question as a [[question]] table")
            entries = []
        if not entries and isinstance(data.get("question", []), list):
            table.problem("a survey needs at least one [[question]]")
        if len(entries) > SURVEY_QUESTIONS_MAX:
            table.problem(
                f"a survey has at most {SURVEY_QUESTIONS_MAX} questions (a Slack modal holds 100 blocks)"
            )
        questions: list[Question] = []
        for number, entry in enumerate(entries, start=1):
            question = self._question(relative, number, entry, tuple(scale or ()))
            if question is not None:
                questions.append(question)
        ids = [q.id for q in questions]
        for question_id in sorted({i for i in ids if ids.count(i) > 1}):
            table.problem(f"question id '{question_id}' is used more than once")
        usage = [q.id for q in questions if q.metric == "usage"]
        if len(usage) > 1:
            table.problem(f'only one question can have metric = "usage" (found: {", ".join(usage)})')
        if len(self.problems) > before or not (survey_id and title and cadence):
            return None
        return Survey(survey_id, title, cadence, tuple(questions), relative, tuple(scale or ()))

    def _question(
        self, relative: str, number: int, entry: dict[str, Any], scale: tuple[str, ...]
    ) -> Question | None:
        raw_id = entry.get("id")
        label = f"'{raw_id}'" if isinstance(raw_id, str) and raw_id.strip() else f"#{number}"
        table = _Table(self.problems, f"{relative}: question {label}", entry, QUESTION_KEYS)
        before = len(self.problems)
        question_id = table.identifier()
        text = table.text("text", limit=INPUT_LABEL_MAX, why=" in an input label")
        kind = table.text("kind")
        if kind is not None and kind not in QUESTION_KINDS:
            table.problem(f"kind '{kind}' must be scale, choice or text")
        options = table.texts("options", required=False, item_limit=OPTION_TEXT_MAX)
        if kind == "choice":
            if options is None or len(options) < 2:
                table.problem("a choice question needs options: at least 2 answers")
            elif len(options) > RADIO_OPTIONS_MAX:
                table.problem(
                    f"a choice question has at most {RADIO_OPTIONS_MAX} options (Slack's radio buttons)"
                )
            elif len(set(options)) < len(options):
                table.problem("options must all be different")
        elif kind == "scale":
            if options is not None and len(options) != SCALE_POINTS:
                table.problem(
                    f"options of a scale question are its {SCALE_POINTS} labels, for answers 1 to 5"
                )
            options = options if options is not None else list(scale)
        elif kind == "text" and options is not None:
            table.problem("a text question has no options")
        stage = table.text("stage", required=False)
        if stage is not None:
            if stage not in ADKAR_STAGES:
                table.problem(f"stage '{stage}' is not an ADKAR element{_did_you_mean(stage, ADKAR_STAGES)}")
            elif kind in ("choice", "text"):
                table.problem("stage belongs on a scale question (its 1..5 answers are averaged per element)")
        metric = table.text("metric", required=False)
        if metric is not None:
            if metric != "usage":
                table.problem(f"metric '{metric}' is not known; the only metric is \"usage\"")
            elif kind != "choice":
                table.problem('metric = "usage" belongs on a choice question whose first option means never')
        required = entry.get("required", kind != "text")
        if not isinstance(required, bool):
            table.problem(f"required must be true or false, not {_quoted(required)}")
        elif kind == "text" and required:
            table.problem("a text question is an optional comment; it cannot be required")
        if len(self.problems) > before or not (question_id and text and kind):
            return None
        return Question(question_id, text, kind, tuple(options or ()), stage, metric, bool(required))

    # calendar.toml, actions.toml (optional) ------------------------------------------------------------

    def _holidays(self) -> tuple[Holiday, ...]:
        data = self._load("calendar.toml", optional=True)
        if data is None:
            return ()
        holidays: list[Holiday] = []
        for number, entry in enumerate(self._tables("calendar.toml", data, "holiday"), start=1):
            holidays.extend(self._holiday(number, entry))
        return tuple(sorted(holidays, key=lambda h: (h.day, h.name)))

    def _holiday(self, number: int, entry: dict[str, Any]) -> list[Holiday]:
        raw_name = entry.get("name")
        label = f"'{raw_name}'" if isinstance(raw_name, str) and raw_name.strip() else f"#{number}"
        table = _Table(self.problems, f"calendar.toml: holiday {label}", entry, HOLIDAY_KEYS)
        before = len(self.problems)
        name = table.text("name", limit=HEADER_TEXT_MAX)
        first = self._date(table, "date", required=True)
        last = self._date(table, "until", required=False) or first
        if first and last and not timedelta(0) <= last - first < timedelta(days=HOLIDAY_SPAN_MAX_DAYS):
            table.problem(f"until must be on or after date, and at most {HOLIDAY_SPAN_MAX_DAYS} days later")
        zones: list[str] = []
        for zone in table.texts("timezones", required=False) or []:
            if zone in _known_timezones():
                zones.append(zone)
            else:
                close = difflib.get_close_matches(zone, _known_timezones(), n=1)
                hint = (
                    f" (did you mean '{close[0]}'?)"
                    if close
                    else " (use an IANA name such as 'Europe/Berlin')"
                )
                table.problem(f"unknown time zone '{zone}'{hint}")
        for country in table.texts("countries", required=False) or []:
            if _COUNTRY.match(country) and country in _country_timezones():
                zones.extend(_country_timezones()[country])
            else:
                table.problem(f"unknown country '{country}' (use an ISO 3166 two-letter code such as 'DE')")
        if len(self.problems) > before or not (name and first and last):
            return []
        days = (first + timedelta(days=n) for n in range((last - first).days + 1))
        return [Holiday(day, name, tuple(sorted(set(zones)))) for day in days]

    @staticmethod
    def _date(table: _Table, key: str, *, required: bool) -> date | None:
        value = table.data.get(key)
        if value is None:
            if required:
                table.problem(f"{key} is required")
            return None
        if not isinstance(value, date) or hasattr(value, "hour"):
            table.problem(f"{key} must be a TOML date without quotes, like {key} = 2026-12-25")
            return None
        return value

    def _actions(self) -> dict[str, tuple[str, ...]]:
        actions: dict[str, tuple[str, ...]] = {key: () for key in ACTION_KEYS}
        data = self._load("actions.toml", optional=True)
        if data is None:
            return actions
        table = data.get("actions")
        if set(data) - {"actions"} or not isinstance(table, dict):
            self.problems.append(
                "actions.toml: write an [actions] table with a list of texts per ADKAR stage (and for "
                "idle_licences, say_do_gap, unreported_use)"
            )
            return actions
        reader = _Table(self.problems, "actions.toml: [actions]", table, ACTION_KEYS)
        for stage in ACTION_KEYS:
            items = reader.texts(stage, required=False)
            if items is None:
                continue
            # A digest shows a stage's actions as bullet lines in one section.
            if sum(len(item) + 3 for item in items) > SECTION_TEXT_MAX:
                reader.problem(f"{stage}: together the actions must fit in {SECTION_TEXT_MAX:,} characters")
            actions[stage] = tuple(items)
        return actions

    # tools.toml (optional) ---------------------------------------------------------------------------

    def _tools(self) -> dict[str, Tool]:
        data = self._load("tools.toml", optional=True)
        if data is None:
            return {}
        for other in set(data) - {"tools"}:
            self.problems.append(f"tools.toml: unknown key '{other}'{_did_you_mean(other, ['tools'])}")
        entries = data.get("tools")
        if not isinstance(entries, dict):
            self.problems.append("tools.toml: write each tool as a [tools.<id>] table with a name")
            return {}
        tools: dict[str, Tool] = {}
        for tool_id, entry in entries.items():
            where = f"tools.toml: tool '{tool_id}'"
            if not isinstance(entry, dict):
                self.problems.append(f"{where}: write it as a [tools.{tool_id}] table with a name")
                continue
            if not _ID.match(tool_id) or len(tool_id) > TOOL_ID_MAX:
                rule = f"lowercase letters, digits, '-' or '_' (at most {TOOL_ID_MAX} characters)"
                self.problems.append(f"{where}: tool id must be {rule}")
                continue
            name = _Table(self.problems, where, entry, ("name",)).text("name", limit=200)
            if name is not None:
                tools[tool_id] = Tool(tool_id, name)
        return tools


__all__ = [
    "ADKAR_STAGES",
    "ANY_TOOL",
    "ContentError",
    "Holiday",
    "Library",
    "Nudge",
    "Question",
    "Role",
    "Survey",
    "Tool",
    "bundled_content_dir",
    "load_library",
]
