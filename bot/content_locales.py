"""Translations of the content library: `locales/<lang>/` mirrors the default (English) files.

A locale file translates texts only, entry by entry, by id: a nudge's title, body and try_it; a survey's
title, scale labels, question texts and options (same number, same order); role and tool names; leaders'
actions. Ids, roles, levels, stages, tools, minutes, links and question kinds come from the default files,
so a survey answered in German is the same survey with the same question ids, and an answer stored by
question id (and option index) pools with the English answers. Whatever a locale leaves out falls back to
the default text, entry by entry and field by field.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from bot.content_rules import (
    ACTION_KEYS,
    DEFAULT_LANGUAGE,
    HEADER_TEXT_MAX,
    INPUT_LABEL_MAX,
    MODAL_TITLE_MAX,
    NUDGE_KEYS,
    OPTION_TEXT_MAX,
    QUESTION_KEYS,
    SCALE_POINTS,
    SECTION_TEXT_MAX,
    SURVEY_KEYS,
    TRY_IT_MAX,
    Nudge,
    Question,
    Role,
    Survey,
    Tool,
    _did_you_mean,
    _Table,
)

LANGUAGES = ("en", "de", "fr", "es", "ja", "pt-BR")  # the default first; the others are folders in locales/
LOCALES_DIR = "locales"
NUDGE_TEXTS = ("title", "body", "try_it")
NUDGE_FIXED = tuple(k for k in NUDGE_KEYS if k not in ("id", *NUDGE_TEXTS))
QUESTION_FIXED = ("kind", "stage", "metric", "required")

# What must survive translation unchanged: [placeholders] (counted: their words may be translated),
# {fields} (verbatim), and every link target or web address (a mrkdwn link's label may be translated).
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]+\]")
_FIELD = re.compile(r"\{[A-Za-z0-9_.]+\}")
_ANGLE_TARGET = re.compile(r"<([^<>|\s]+)(?:\|[^<>]*)?>")
_BARE_URL = re.compile(r"https?://[^\s<>|)\]]+", re.IGNORECASE)


@dataclass(frozen=True)
class NudgeTranslation:
    title: str | None = None
    body: str | None = None
    try_it: str | None = None


@dataclass(frozen=True)
class QuestionTranslation:
    text: str | None = None
    options: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SurveyTranslation:
    title: str | None = None
    scale: tuple[str, ...] | None = None
    questions: Mapping[str, QuestionTranslation] | None = None


@dataclass(frozen=True)
class Translation:
    """One locale's texts, by the id of what they translate."""

    lang: str
    nudges: Mapping[str, NudgeTranslation]
    surveys: Mapping[str, SurveyTranslation]
    roles: Mapping[str, str]
    tools: Mapping[str, str]
    actions: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class Gaps:
    """What a locale leaves untranslated (falling back to the default language)."""

    lang: str
    nudges: int
    nudges_missing: int  # no translation at all
    nudges_partial: int  # some of title, body, try_it
    surveys: int
    surveys_missing: int
    surveys_partial: int
    roles: int
    roles_missing: int
    actions: int  # stages with default actions
    actions_missing: int
    details: tuple[str, ...]  # one "<locale file>: <entry>: ..." line per gap

    @property
    def complete(self) -> bool:
        return not self.details

    def summary(self) -> str:
        """E.g. "de: 12 of 94 nudges untranslated; 3 of 94 nudges partly translated"."""
        parts = []
        for missing, partial, total, noun in (
            (self.nudges_missing, self.nudges_partial, self.nudges, "nudges"),
            (self.surveys_missing, self.surveys_partial, self.surveys, "surveys"),
            (self.roles_missing, 0, self.roles, "role names"),
            (self.actions_missing, 0, self.actions, "action stages"),
        ):
            if missing:
                parts.append(f"{missing} of {total} {noun} untranslated")
            if partial:
                parts.append(f"{partial} of {total} {noun} partly translated")
        return f"{self.lang}: " + ("; ".join(parts) if parts else "complete")

    @property
    def nudge_share(self) -> float:
        """The share of nudges translated in full (1.0 for a library without nudges)."""
        if not self.nudges:
            return 1.0
        return (self.nudges - self.nudges_missing - self.nudges_partial) / self.nudges


class Default(Protocol):
    """What translations are checked against and fall back to: the library's own (a `bot.content.Library`)."""

    @property
    def nudges(self) -> tuple[Nudge, ...]: ...
    @property
    def surveys(self) -> Mapping[str, Survey]: ...
    @property
    def roles(self) -> Mapping[str, Role]: ...
    @property
    def tools(self) -> Mapping[str, Tool]: ...
    @property
    def actions(self) -> Mapping[str, tuple[str, ...]]: ...
    @property
    def translations(self) -> Mapping[str, Translation]: ...


class Files(Protocol):
    """The reader of the library's own files (`bot.content._Reader`), whose problems translations add to."""

    folder: Path
    problems: list[str]
    declared_roles: set[str]

    def _load(self, relative: str) -> dict[str, Any] | None: ...


@lru_cache(maxsize=512)  # a pure function of the tag, asked once per message a tick queues
def language_for(tag: str | None) -> str:
    """The supported language for a locale tag such as Slack's "de-DE" or "pt-BR"; else the default."""
    if not tag:
        return DEFAULT_LANGUAGE
    wanted = tag.strip().replace("_", "-").lower()
    for lang in LANGUAGES:
        if lang.lower() == wanted:
            return lang
    primary = wanted.split("-")[0]
    close = [lang for lang in LANGUAGES if lang.lower().split("-")[0] == primary]
    return close[0] if close else DEFAULT_LANGUAGE


# --- using translations ------------------------------------------------------------------------------


def localized_fields(library: Default, translation: Translation) -> dict[str, Any]:
    """The texts of `library` in `translation`'s language, the default text wherever it has none: the
    nudges, surveys, roles, tools and actions of a `Library` in that language."""
    return {
        "nudges": tuple(_nudge(n, translation.nudges.get(n.id)) for n in library.nudges),
        "surveys": {
            survey_id: _survey(survey, translation.surveys.get(survey_id))
            for survey_id, survey in library.surveys.items()
        },
        "roles": {
            role_id: replace(role, name=translation.roles.get(role_id, role.name))
            for role_id, role in library.roles.items()
        },
        "tools": {
            tool_id: replace(tool, name=translation.tools.get(tool_id, tool.name))
            for tool_id, tool in library.tools.items()
        },
        "actions": {
            stage: translation.actions.get(stage) or items for stage, items in library.actions.items()
        },
    }


def _nudge(nudge: Nudge, text: NudgeTranslation | None) -> Nudge:
    if text is None:
        return nudge
    return replace(
        nudge,
        title=text.title or nudge.title,
        body=text.body or nudge.body,
        try_it=(text.try_it or nudge.try_it) if nudge.try_it else None,
    )


def _survey(survey: Survey, text: SurveyTranslation | None) -> Survey:
    if text is None:
        return survey
    questions = text.questions or {}
    return replace(
        survey,
        title=text.title or survey.title,
        scale=text.scale or survey.scale,
        questions=tuple(_question(q, questions.get(q.id), survey, text.scale) for q in survey.questions),
    )


def _question(
    question: Question, text: QuestionTranslation | None, survey: Survey, scale: tuple[str, ...] | None
) -> Question:
    options = question.options
    if text is not None and text.options is not None:
        options = text.options
    elif question.kind == "scale" and scale and (not options or options == survey.scale):
        options = scale
    return replace(question, text=(text.text if text else None) or question.text, options=options)


def gaps(library: Default, lang: str) -> Gaps:
    """What locale `lang` of `library` leaves to the default language."""
    translation = library.translations[lang]
    base = f"{LOCALES_DIR}/{lang}"
    details: list[str] = []
    missing = partial = 0
    for nudge in library.nudges:
        text = translation.nudges.get(nudge.id)
        wanted = [k for k in NUDGE_TEXTS if getattr(nudge, k)]
        absent = [k for k in wanted if text is None or not getattr(text, k)]
        where = f"{base}/{nudge.source}: nudge '{nudge.id}'"
        if len(absent) == len(wanted):
            missing += 1
            details.append(f"{where}: not translated")
        elif absent:
            partial += 1
            details.append(f"{where}: {', '.join(absent)} not translated")
    surveys_missing = surveys_partial = 0
    for survey_id, survey in library.surveys.items():
        where = f"{base}/{survey.source}: survey '{survey_id}'"
        survey_text = translation.surveys.get(survey_id)
        if survey_text is None:
            surveys_missing += 1
            details.append(f"{where}: not translated")
            continue
        absent = [] if survey_text.title else ["title"]
        questions = survey_text.questions or {}
        for question in survey.questions:
            q_text = questions.get(question.id)
            if q_text is None or not q_text.text:
                absent.append(f"question '{question.id}'")
            elif q_text.options is None and (
                question.kind == "choice" or (question.kind == "scale" and not survey_text.scale)
            ):
                absent.append(f"question '{question.id}' options")
        if absent:
            surveys_partial += 1
            details.append(f"{where}: {', '.join(absent)} not translated")
    roles_missing = [r for r in library.roles if r not in translation.roles]
    details.extend(f"{base}/roles.toml: role '{r}': not translated" for r in roles_missing)
    stages = [stage for stage in ACTION_KEYS if library.actions.get(stage)]
    actions_missing = [s for s in stages if s not in translation.actions]
    details.extend(f"{base}/actions.toml: {s}: not translated" for s in actions_missing)
    return Gaps(
        lang,
        len(library.nudges),
        missing,
        partial,
        len(library.surveys),
        surveys_missing,
        surveys_partial,
        len(library.roles),
        len(roles_missing),
        len(stages),
        len(actions_missing),
        tuple(details),
    )


# --- reading ----------------------------------------------------------------------------------------


def read_translations(
    reader: Files, library: Default, nudge_files: Mapping[str, str]
) -> dict[str, Translation]:
    """Every locale under `locales/`, checked against the default `library`; problems go to `reader`.

    `nudge_files` maps every nudge id of the default files (valid or not) to its file, so that a
    translation of a nudge with problems of its own is not reported as unknown too.
    """
    folder = reader.folder / LOCALES_DIR
    if not folder.is_dir():
        return {}
    translations: dict[str, Translation] = {}
    for directory in sorted(folder.iterdir()):
        name = directory.name
        if not directory.is_dir():
            if directory.suffix == ".toml":
                reader.problems.append(
                    f"{LOCALES_DIR}/{name}: translations go in a folder per language, like {LOCALES_DIR}/de/"
                )
            continue
        if name not in LANGUAGES:
            hint = _did_you_mean(name, [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE])
            reader.problems.append(f"{LOCALES_DIR}/{name}: unknown language '{name}'{hint}")
            continue
        if name == DEFAULT_LANGUAGE:
            reader.problems.append(
                f"{LOCALES_DIR}/{name}: the default language's texts are the library's own files; "
                f"remove this folder"
            )
            continue
        translations[name] = _LocaleReader(reader, name, library, nudge_files).read()
    return translations


class _LocaleReader:
    def __init__(self, reader: Files, lang: str, library: Default, nudge_files: Mapping[str, str]) -> None:
        self.reader = reader
        self.problems = reader.problems
        self.lang = lang
        self.base = f"{LOCALES_DIR}/{lang}"
        self.library = library
        self.nudge_files = nudge_files
        self.nudges_by_id = {n.id: n for n in library.nudges}

    def read(self) -> Translation:
        folder = self.reader.folder / self.base
        known = {"roles.toml", "tools.toml", "actions.toml"}
        for path in sorted(folder.rglob("*.toml")):
            relative = path.relative_to(folder).as_posix()
            if not path.is_file():
                continue
            parent = relative.rsplit("/", 1)[0] if "/" in relative else ""
            if relative in known or parent in ("nudges", "pulses"):
                if not (self.reader.folder / relative).is_file():
                    self._problem(relative, f"there is no {relative} in the library to translate")
            else:
                self._problem(
                    relative,
                    "not a file that can be translated (roles.toml, tools.toml, actions.toml, "
                    "nudges/*.toml, pulses/*.toml)",
                )
        return Translation(
            self.lang,
            self._nudges(folder),
            self._surveys(folder),
            self._names("roles", {r: "" for r in self.reader.declared_roles}),
            self._names("tools", {t: "" for t in self.library.tools}),
            self._actions(),
        )

    def _problem(self, relative: str, message: str) -> None:
        self.problems.append(f"{self.base}/{relative}: {message}")

    def _load(self, relative: str) -> dict[str, Any] | None:
        if not (self.reader.folder / self.base / relative).is_file():
            return None
        if not (self.reader.folder / relative).is_file():
            return None  # reported in read()
        return self.reader._load(f"{self.base}/{relative}")

    def _files(self, folder: Path, sub: str) -> list[str]:
        directory = folder / sub
        if not directory.is_dir():
            return []
        return [f"{sub}/{p.name}" for p in sorted(directory.glob("*.toml")) if p.is_file()]

    # nudges --------------------------------------------------------------------------------------

    def _nudges(self, folder: Path) -> dict[str, NudgeTranslation]:
        found: dict[str, NudgeTranslation] = {}
        seen: set[str] = set()
        for relative in self._files(folder, "nudges"):
            data = self._load(relative)
            if data is None:
                continue
            where = f"{self.base}/{relative}"
            for other in data:
                if other != "nudge":
                    self.problems.append(f"{where}: unknown key '{other}'{_did_you_mean(other, ['nudge'])}")
            entries = data.get("nudge", [])
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                self.problems.append(f"{where}: write each nudge as a [[nudge]] table")
                continue
            for number, entry in enumerate(entries, start=1):
                translated = self._nudge(relative, number, entry, seen)
                if translated is not None:
                    found[translated[0]] = translated[1]
        return found

    def _nudge(
        self, relative: str, number: int, entry: dict[str, Any], seen: set[str]
    ) -> tuple[str, NudgeTranslation] | None:
        raw_id = entry.get("id")
        label = f"'{raw_id}'" if isinstance(raw_id, str) and raw_id.strip() else f"#{number}"
        table = _Table(self.problems, f"{self.base}/{relative}: nudge {label}", entry, NUDGE_KEYS)
        before = len(self.problems)
        nudge_id = table.identifier()
        if nudge_id is None:
            return None
        source = self.nudge_files.get(nudge_id)
        if source is None:
            ids = list(self.nudge_files)
            table.problem(f"no nudge '{nudge_id}' in the default library{_close(nudge_id, ids)}")
            return None
        if source != relative:
            table.problem(f"nudge '{nudge_id}' is in {source}; translate it in {self.base}/{source}")
            return None
        if nudge_id in seen:
            table.problem(f"id '{nudge_id}' is translated twice in {self.base}/{source}")
            return None
        seen.add(nudge_id)
        nudge = self.nudges_by_id.get(nudge_id)
        if nudge is None:
            return None  # the default nudge has problems of its own
        for key in NUDGE_FIXED:
            if key in entry and not _same(entry[key], getattr(nudge, key), key):
                table.problem(
                    f"{key} differs from {nudge.source}; ids, roles, level, stage, tools, minutes and link "
                    "come from the default file: leave them out here"
                )
        texts = {}
        for key, limit, why in (
            ("title", HEADER_TEXT_MAX, " in a header"),
            ("body", SECTION_TEXT_MAX, " in a section"),
            ("try_it", TRY_IT_MAX, " (a section, with its label)"),
        ):
            problems_before = len(self.problems)
            if key == "title":
                texts[key] = table.text(key, required=False, limit=limit, why=why)
            else:
                texts[key] = table.mrkdwn(key, required=False, limit=limit, why=why)
            original, text = getattr(nudge, key), texts[key]
            if text is not None and original is None:
                table.problem(f"{key}: the default nudge has no {key} to translate")
            elif text is not None and original is not None and len(self.problems) == problems_before:
                _compare(table, key, original, text)
        if len(self.problems) > before:
            return None
        return nudge_id, NudgeTranslation(texts["title"], texts["body"], texts["try_it"])

    # pulses --------------------------------------------------------------------------------------

    def _surveys(self, folder: Path) -> dict[str, SurveyTranslation]:
        by_file = {survey.source: survey for survey in self.library.surveys.values()}
        found: dict[str, SurveyTranslation] = {}
        for relative in self._files(folder, "pulses"):
            data = self._load(relative)
            survey = by_file.get(relative)
            if data is None or survey is None:
                continue  # a default survey with problems is reported in its own file
            text = self._survey(relative, data, survey)
            if text is not None:
                found[survey.id] = text
        return found

    def _survey(self, relative: str, data: dict[str, Any], survey: Survey) -> SurveyTranslation | None:
        table = _Table(self.problems, f"{self.base}/{relative}", data, SURVEY_KEYS)
        before = len(self.problems)
        survey_id = table.identifier()
        if survey_id is not None and survey_id != survey.id:
            table.problem(f"id '{survey_id}' must be '{survey.id}', the id of {relative}")
        if "cadence_weeks" in data and data["cadence_weeks"] != survey.cadence_weeks:
            table.problem(
                f"cadence_weeks differs from {relative}; it comes from the default file: leave it out"
            )
        title = table.text("title", required=False, limit=MODAL_TITLE_MAX, why=" for a modal title")
        scale = table.texts("scale", required=False, item_limit=OPTION_TEXT_MAX)
        if scale is not None and len(scale) != SCALE_POINTS:
            table.problem(f"scale must list {SCALE_POINTS} labels, for answers 1 to {SCALE_POINTS}")
        entries = data.get("question", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            table.problem("write each question as a [[question]] table")
            entries = []
        by_id = {q.id: q for q in survey.questions}
        questions: dict[str, QuestionTranslation] = {}
        for number, entry in enumerate(entries, start=1):
            raw_id = entry.get("id")
            label = f"'{raw_id}'" if isinstance(raw_id, str) and raw_id.strip() else f"#{number}"
            q_table = _Table(self.problems, f"{self.base}/{relative}: question {label}", entry, QUESTION_KEYS)
            question_id = q_table.identifier()
            if question_id is None:
                continue
            question = by_id.get(question_id)
            if question is None:
                q_table.problem(
                    f"no question '{question_id}' in {relative}{_close(question_id, list(by_id))}"
                )
                continue
            if question_id in questions:
                q_table.problem(f"question '{question_id}' is translated twice")
                continue
            questions[question_id] = self._question(q_table, question, relative)
        if len(self.problems) > before:
            return None
        return SurveyTranslation(title, tuple(scale) if scale else None, questions)

    def _question(self, table: _Table, question: Question, relative: str) -> QuestionTranslation:
        for key in QUESTION_FIXED:
            if key in table.data and table.data[key] != getattr(question, key):
                table.problem(
                    f"{key} differs from {relative}; ids, kinds, stages, metrics and required come from "
                    "the default file: leave them out here"
                )
        before = len(self.problems)
        text = table.text("text", required=False, limit=INPUT_LABEL_MAX, why=" in an input label")
        if text is not None and len(self.problems) == before:
            _compare(table, "text", question.text, text)
        options = table.texts("options", required=False, item_limit=OPTION_TEXT_MAX)
        if options is not None:
            expected = len(question.options) or (SCALE_POINTS if question.kind == "scale" else 0)
            if question.kind == "text":
                table.problem("a text question has no options")
            elif len(options) != expected:
                table.problem(
                    f"options: {len(options)} given, {relative} has {expected}; translate each option, "
                    "in the same order (answers are stored by position)"
                )
            elif len(set(options)) < len(options):
                table.problem("options must all be different")
        return QuestionTranslation(text, tuple(options) if options is not None else None)

    # roles.toml, tools.toml, actions.toml ---------------------------------------------------------

    def _names(self, kind: str, known: Mapping[str, str]) -> dict[str, str]:
        relative = f"{kind}.toml"
        data = self._load(relative)
        if data is None:
            return {}
        where = f"{self.base}/{relative}"
        for other in set(data) - {kind}:
            self.problems.append(f"{where}: unknown key '{other}'{_did_you_mean(other, [kind])}")
        entries = data.get(kind)
        if not isinstance(entries, dict):
            self.problems.append(f"{where}: write each {kind[:-1]} as a [{kind}.<id>] table with a name")
            return {}
        names: dict[str, str] = {}
        for entry_id, entry in entries.items():
            entry_where = f"{where}: {kind[:-1]} '{entry_id}'"
            if not isinstance(entry, dict):
                self.problems.append(f"{entry_where}: write it as a [{kind}.{entry_id}] table with a name")
                continue
            if entry_id not in known:
                self.problems.append(
                    f"{entry_where}: no {kind[:-1]} '{entry_id}' in {relative}{_close(entry_id, known)}"
                )
                continue
            name = _Table(self.problems, entry_where, entry, ("name",)).text("name", limit=OPTION_TEXT_MAX)
            if name is not None:
                names[entry_id] = name
        return names

    def _actions(self) -> dict[str, tuple[str, ...]]:
        data = self._load("actions.toml")
        if data is None:
            return {}
        where = f"{self.base}/actions.toml"
        table = data.get("actions")
        if set(data) - {"actions"} or not isinstance(table, dict):
            self.problems.append(
                f"{where}: write an [actions] table with a list of texts per stage, as in actions.toml"
            )
            return {}
        reader = _Table(self.problems, f"{where}: [actions]", table, ACTION_KEYS)
        actions: dict[str, tuple[str, ...]] = {}
        for stage in ACTION_KEYS:
            items = reader.texts(stage, required=False)
            if items is None:
                continue
            if not self.library.actions.get(stage):
                reader.problem(f"{stage}: actions.toml has no {stage} actions to translate")
            elif sum(len(item) + 3 for item in items) > SECTION_TEXT_MAX:
                reader.problem(f"{stage}: together the actions must fit in {SECTION_TEXT_MAX:,} characters")
            else:
                for item in items:
                    _compare_links(reader, stage, " ".join(self.library.actions[stage]), item, whole=False)
                actions[stage] = tuple(items)
        return actions


def _same(value: Any, default: Any, key: str) -> bool:
    """Whether a repeated fixed field of a translated nudge says what the default one says."""
    if key == "roles":
        return isinstance(value, list) and tuple(value) == default
    if key == "tools":
        return isinstance(value, list) and (tuple(value) == default or (value == ["any"] and default == ()))
    return bool(value == default)


def _close(value: str, known: Iterable[str]) -> str:
    hint = _did_you_mean(value, list(known))
    return hint if "did you mean" in hint else ""


def _links(text: str) -> Counter[str]:
    """Link targets and web addresses in `text`: <https://…|label> counts its target, a bare URL itself."""
    targets: Counter[str] = Counter(_ANGLE_TARGET.findall(text))
    outside = _ANGLE_TARGET.sub(" ", text) if targets else text
    targets.update(url.rstrip(".,;:!?") for url in _BARE_URL.findall(outside))
    return targets


def _signature(text: str) -> tuple[int, tuple[str, ...], tuple[str, ...]]:
    """What a translation must keep of `text`: its number of [placeholders], its {fields}, its links."""
    return (
        len(_PLACEHOLDER.findall(text)) if "[" in text else 0,
        tuple(sorted(_FIELD.findall(text))) if "{" in text else (),
        tuple(sorted(_links(text).elements())) if "<" in text or "://" in text else (),
    )


_default_signature = lru_cache(maxsize=16384)(_signature)  # a default text is compared once per language


def _compare(table: _Table, key: str, original: str, text: str) -> None:
    """A translation keeps the default text's placeholders, {fields}, links and web addresses."""
    before, after = _default_signature(original), _signature(text)
    if before == after:
        return
    if before[0] != after[0]:
        table.problem(
            f"{key}: the default text has {before[0]} [placeholders], this one {after[0]}; translate the "
            "words inside the brackets but keep every placeholder"
        )
    fields, translated = Counter(before[1]), Counter(after[1])
    if fields != translated:
        changed = sorted((fields - translated) + (translated - fields))
        table.problem(f"{key}: {', '.join(changed)} must stay exactly as in the default text")
    if before[2] != after[2]:
        _compare_links(table, key, original, text, whole=True)


def _compare_links(table: _Table, key: str, original: str, text: str, *, whole: bool) -> None:
    expected, found = _links(original), _links(text)
    dropped = sorted((expected - found).elements()) if whole else []
    added = sorted((found - expected).elements())
    if dropped:
        table.problem(
            f"{key}: the link {dropped[0]} of the default text is missing or changed; keep every address "
            "as it is (translate only a link's label, after the |)"
        )
    elif added:
        table.problem(f"{key}: the link {added[0]} is not in the default text; keep every address as it is")
