"""Translations of the content library (locales/<lang>/): texts fall back entry by entry and field by field
to English, a survey stays the same survey in every language (its answers pool by question id), every
broken translation is an error naming locale, file and entry, and `content check` summarises what each
language leaves untranslated (`--strict`: as problems) and prints the launch table with `--coverage`."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.cli import main
from bot.config import Settings
from bot.content import load_library
from bot.content_locales import LANGUAGES, gaps, language_for
from bot.db import session_scope
from bot.metrics.service import compute_metrics
from bot.models import Person, PulseAnswer
from bot.pulses import service as pulses
from tests.support.factories import add_people
from tests.test_content import BASE, edited, problems, write_library

DE_SALES = """
[[nudge]]
id = "sales-call-prep"
title = "Ein Kundengespräch mit einem Account-Briefing vorbereiten"
body = "Füge *öffentliche* Infos über den Kunden ein und frag nach seinen wahrscheinlichen Prioritäten."
try_it = "Nenne anhand des folgenden Textes 3 wahrscheinliche Prioritäten: [Text einfügen]"
"""
DE_PULSE = """
id = "pulse"
title = "KI-Puls"

[[question]]
id = "why"
text = "Ich verstehe, warum wir KI nutzen."

[[question]]
id = "usage"
text = "Wie oft hast du in den letzten zwei Wochen KI genutzt?"
options = ["Gar nicht", "Ein- oder zweimal", "An den meisten Tagen"]
"""


def with_locale(files: dict[str, str], lang: str = "de", **texts: str) -> dict[str, str]:
    return {
        **files,
        **{f"locales/{lang}/{name.replace('__', '/')}.toml": text for name, text in texts.items()},
    }


def german(**changes: str) -> dict[str, str]:
    texts = {
        "nudges__sales": DE_SALES,
        "pulses__pulse": DE_PULSE,
        "roles": '[roles.sales]\nname = "Vertrieb"\n',
    }
    return with_locale(BASE, **{**texts, **changes})


def changed(text: str, old: str, new: str) -> str:
    assert old in text, f"test setup: {old!r} not in the text"
    return text.replace(old, new, 1)


# --- links (in the default files) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        ('"http://intranet.example.com/ai"', "link must use https://, not http://"),
        ('""', "link must not be empty"),
        ('"   "', "link must not be empty"),
        ('"intranet.example.com/ai"', "link must be a web address starting with https://"),
    ],
)
def test_a_link_must_be_https_and_not_empty(tmp_path: Path, link: str, expected: str) -> None:
    files = edited("nudges/sales.toml", "minutes = 10", f"minutes = 10\nlink = {link}")
    (found,) = problems(write_library(tmp_path / "lib", files))
    assert found.startswith(f"nudges/sales.toml: nudge 'sales-call-prep': {expected}"), found


# --- using translations -------------------------------------------------------------------------------


def test_a_translated_library_falls_back_entry_by_entry_and_field_by_field(tmp_path: Path) -> None:
    partly = changed(
        DE_SALES,
        'try_it = "Nenne anhand des folgenden Textes 3 wahrscheinliche Prioritäten: [Text einfügen]"\n',
        "",
    )
    library = load_library(write_library(tmp_path / "lib", german(nudges__sales=partly)))
    de = library.localized("de")
    assert de.lang == "de" and library.lang == "en"
    (sales,) = de.nudges_for("sales")
    assert sales.title == "Ein Kundengespräch mit einem Account-Briefing vorbereiten"
    assert sales.body.startswith("Füge *öffentliche* Infos")
    assert sales.try_it == "Using only the text below, list 3 likely priorities: [paste]"  # not translated
    assert (sales.id, sales.level, sales.stage, sales.roles, sales.minutes) == (
        "sales-call-prep",
        1,
        "knowledge",
        ("sales",),
        10,
    )
    (legal,) = de.nudges_for("legal")
    assert legal.title == "Rewrite a clause in plain language"  # no German at all
    assert de.roles["sales"].name == "Vertrieb" and de.roles["legal"].name == "Legal"
    assert library.nudge_text(library.nudges_for("sales")[0], "de-AT").title.startswith("Ein Kundengespräch")
    assert (
        library.nudge_text(library.nudges_for("sales")[0], "fr").title
        == "Prepare a call with an account brief"
    )
    # Slack's locale tags, and any language without a folder, fall back to English.
    assert [library.localized(tag).lang for tag in ("de-DE", "DE", "fr-FR", "ja", "pt_BR", None, "xx")] == [
        "de",
        "de",
        "en",
        "en",
        "en",
        "en",
        "en",
    ]
    assert de.localized("en") is library and de.localized("de") is de


def test_language_tags_map_to_the_supported_languages() -> None:
    assert [
        language_for(t) for t in ("en-US", "de-CH", "fr-CA", "es-419", "ja-JP", "pt-BR", "pt-PT", "ko-KR", "")
    ] == ["en", "de", "fr", "es", "ja", "pt-BR", "pt-BR", "en", "en"]
    assert set(LANGUAGES) == {"en", "de", "fr", "es", "ja", "pt-BR"}


def test_a_survey_is_the_same_survey_in_every_language(tmp_path: Path) -> None:
    library = load_library(write_library(tmp_path / "lib", german()))
    english, deutsch = library.surveys["pulse"], library.localized("de").surveys["pulse"]
    assert deutsch.title == "KI-Puls" and deutsch.questions[1].options[0] == "Gar nicht"
    assert deutsch.questions[2].text == "Anything to add?"  # untranslated question: English
    shape = [(q.id, q.kind, q.stage, q.metric, q.required, len(q.options)) for q in english.questions]
    assert [(q.id, q.kind, q.stage, q.metric, q.required, len(q.options)) for q in deutsch.questions] == shape
    assert (deutsch.id, deutsch.cadence_weeks) == (english.id, english.cadence_weeks)


def test_the_starter_library_in_german_keeps_every_id_and_answer_position() -> None:
    library = load_library()
    assert "de" in library.translations
    for lang in library.translations:
        localized = library.localized(lang)
        for survey_id, survey in library.surveys.items():
            other = localized.surveys[survey_id]
            assert [
                (q.id, q.kind, q.stage, q.metric, q.required, len(q.options)) for q in other.questions
            ] == [(q.id, q.kind, q.stage, q.metric, q.required, len(q.options)) for q in survey.questions]
        assert [(n.id, n.level, n.stage, n.roles, n.tools, n.minutes, n.link) for n in localized.nudges] == [
            (n.id, n.level, n.stage, n.roles, n.tools, n.minutes, n.link) for n in library.nudges
        ]
    de = library.localized("de")
    assert de.surveys["adkar"].title == "KI-Pulsbefragung"
    assert de.roles["sales"].name == "Vertrieb"
    assert set(de.actions) == set(library.actions)
    assert all(
        len(de.actions[k]) == len(library.actions[k]) and de.actions[k] != library.actions[k]
        for k in de.actions
    )
    usage = next(q for q in de.surveys["adkar"].questions if q.metric == "usage")
    assert usage.options[0] == "Gar nicht"  # the first option still means never


OPEN = datetime(2026, 10, 5, 8, 0)
JOINED = datetime(2026, 1, 1)


def test_german_and_english_answers_are_one_teams_answers(engine: Engine) -> None:
    """Half the team answers the German survey, half the English one: one set of figures, by question id."""
    library = load_library()
    s = dataclasses.replace(Settings(), secret="test-secret")
    with session_scope(engine) as session:
        people = [
            p.id for p in add_people(session, 5, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
        ]
    with session_scope(engine) as session:
        run = pulses.open_run(session, library=library, settings=s, now=OPEN).run_id
    sheets = [
        (5, 4, 2, 3, 4, 3, 0),
        (4, 4, 2, 2, 3, 3, 2),
        (3, 5, 1, 2, 3, 4, 4),
        (4, 3, 3, 3, 2, 2, 1),
        (5, 5, 2, 1, 4, 5, 0),
    ]
    ids = [q.id for q in library.surveys["adkar"].questions if q.kind != "text"]
    for number, (pid, sheet) in enumerate(zip(people, sheets, strict=True)):
        lang = "de" if number % 2 == 0 else "en"
        with session_scope(engine) as session:
            person = session.get(Person, pid)
            assert person is not None
            person.locale = lang  # the roster's language: the form comes in it
            form = pulses.answer_form(
                session, run_id=run, person=person, library=library, settings=s, now=OPEN
            )
            assert form.survey.title == ("KI-Pulsbefragung" if lang == "de" else "AI adoption pulse")
            pulses.record_answers(
                session,
                run_id=run,
                person=person,
                raw=dict(zip(ids, (str(v) for v in sheet), strict=True)),
                library=library,
                settings=s,
                now=OPEN + timedelta(hours=3),
            )
    with session_scope(engine, readonly=True) as session:
        stored = set(session.scalars(select(PulseAnswer.question_id)))
        row = next(
            r.to_dict()
            for r in compute_metrics(session, week_monday=OPEN.date(), settings=s)
            if r.team == "Sales"
        )
    assert stored == set(ids)
    assert row["respondents"] == 5
    assert [row[k] for k in ("awareness", "desire", "knowledge", "ability", "reinforcement")] == [
        4.2,
        4.2,
        2.1,
        3.2,
        3.4,
    ]
    assert row["usage_rate"] == 0.6


# --- every broken translation, named by locale, file and entry ----------------------------------------

DE = "locales/de"
CASES = [
    (
        german(nudges__sales=changed(DE_SALES, 'id = "sales-call-prep"', 'id = "sales-call-perp"')),
        f"{DE}/nudges/sales.toml: nudge 'sales-call-perp': no nudge 'sales-call-perp' in the default library "
        "(did you mean 'sales-call-prep'?)",
    ),
    (
        {**german(), f"{DE}/nudges/legal.toml": DE_SALES},
        f"{DE}/nudges/legal.toml: nudge 'sales-call-prep': nudge 'sales-call-prep' is in nudges/sales.toml; "
        f"translate it in {DE}/nudges/sales.toml",
    ),
    (
        german(nudges__sales=DE_SALES + "level = 2\n"),
        f"{DE}/nudges/sales.toml: nudge 'sales-call-prep': level differs from nudges/sales.toml;",
    ),
    (
        german(nudges__sales=changed(DE_SALES, "[Text einfügen]", "Text einfügen")),
        f"{DE}/nudges/sales.toml: nudge 'sales-call-prep': try_it: the default text has 1 [placeholders], "
        "this one 0;",
    ),
    (
        german(nudges__sales=changed(DE_SALES, "Prioritäten.", "Prioritäten ({name}).")),
        f"{DE}/nudges/sales.toml: nudge 'sales-call-prep': body: {{name}} must stay exactly as in the "
        "default text",
    ),
    (
        german(
            nudges__sales=changed(DE_SALES, "Prioritäten.", "Prioritäten (<http://example.com|Leitfaden>).")
        ),
        f"{DE}/nudges/sales.toml: nudge 'sales-call-prep': body: links must use https://, not http://",
    ),
    (
        german(
            nudges__sales=changed(DE_SALES, "Prioritäten.", "Prioritäten: <https://evil.example.com|hier>.")
        ),
        f"{DE}/nudges/sales.toml: nudge 'sales-call-prep': body: the link https://evil.example.com is not in "
        "the default text",
    ),
    (
        german(nudges__sales=changed(DE_SALES, "title =", "titel =")),
        f"{DE}/nudges/sales.toml: nudge 'sales-call-prep': unknown key 'titel' (did you mean 'title'?)",
    ),
    (
        german(pulses__pulse=changed(DE_PULSE, '"Ein- oder zweimal", ', "")),
        f"{DE}/pulses/pulse.toml: question 'usage': options: 2 given, pulses/pulse.toml has 3;",
    ),
    (
        german(pulses__pulse=changed(DE_PULSE, 'id = "why"', 'id = "wyh"')),
        f"{DE}/pulses/pulse.toml: question 'wyh': no question 'wyh' in pulses/pulse.toml "
        "(did you mean 'why'?)",
    ),
    (
        german(pulses__pulse=changed(DE_PULSE, 'id = "why"', 'id = "why"\nkind = "choice"')),
        f"{DE}/pulses/pulse.toml: question 'why': kind differs from pulses/pulse.toml;",
    ),
    (
        german(pulses__pulse=changed(DE_PULSE, 'id = "pulse"', 'id = "puls"')),
        f"{DE}/pulses/pulse.toml: id 'puls' must be 'pulse', the id of pulses/pulse.toml",
    ),
    (
        german(
            pulses__pulse=changed(DE_PULSE, 'title = "KI-Puls"', 'title = "Unsere KI-Pulsbefragung im Team"')
        ),
        f"{DE}/pulses/pulse.toml: title is 31 characters; Slack allows at most 24",
    ),
    (
        german(roles='[roles.sales]\nname = "Vertrieb"\n[roles.einkauf]\nname = "Einkauf"\n'),
        f"{DE}/roles.toml: role 'einkauf': no role 'einkauf' in roles.toml",
    ),
    (
        german(nudges__hr=DE_SALES),
        f"{DE}/nudges/hr.toml: there is no nudges/hr.toml in the library to translate",
    ),
    (
        german(calendar='[[holiday]]\ndate = 2026-10-03\nname = "Tag der Deutschen Einheit"\n'),
        f"{DE}/calendar.toml: not a file that can be translated",
    ),
    (
        with_locale(BASE, lang="deutsch", roles='[roles.sales]\nname = "Vertrieb"\n'),
        "locales/deutsch: unknown language 'deutsch' (expected one of: de, fr, es, ja, pt-BR)",
    ),
    (
        with_locale(BASE, lang="en", roles='[roles.sales]\nname = "Sales"\n'),
        "locales/en: the default language's texts are the library's own files; remove this folder",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES, ids=[c[1].split(": ", 1)[-1][:50] for c in CASES])
def test_each_broken_translation_names_locale_file_and_entry(
    tmp_path: Path, files: dict[str, str], expected: str
) -> None:
    found = problems(write_library(tmp_path / "lib", files))
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


def test_a_translated_link_keeps_its_address_and_may_translate_its_label(tmp_path: Path) -> None:
    files = edited(
        "nudges/sales.toml",
        "about the account",
        "about the account (<https://intranet.example.com/ai|our guide>)",
    )
    ok = with_locale(
        files,
        nudges__sales=changed(
            DE_SALES, "Prioritäten.", "Prioritäten (<https://intranet.example.com/ai|unser Leitfaden>)."
        ),
    )
    (nudge,) = load_library(write_library(tmp_path / "ok", ok)).localized("de").nudges_for("sales")
    assert "<https://intranet.example.com/ai|unser Leitfaden>" in nudge.body
    dropped = with_locale(files, nudges__sales=DE_SALES)
    assert problems(write_library(tmp_path / "dropped", dropped)) == [
        f"{DE}/nudges/sales.toml: nudge 'sales-call-prep': body: the link https://intranet.example.com/ai "
        "of the default text is missing or changed; keep every address as it is (translate only a link's "
        "label, after the |)"
    ]


# --- adoptbot content check: the summary, --strict and --coverage ----------------------------------------


def test_check_summarises_what_each_language_leaves_untranslated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = german()
    files.update(with_locale({}, lang="pt-BR", roles='[roles.legal]\nname = "Jurídico"\n'))
    write_library(tmp_path / "content", files)
    assert main(["content", "check", "content"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Content OK: 2 roles, 2 nudges, 1 survey (pulse, 3 questions), 0 holidays.",
        "Translations (an untranslated text is shown in English; --strict makes it a problem):",
        "  de: 1 of 2 nudges untranslated; 1 of 1 surveys partly translated; 1 of 2 role names untranslated",
        "  pt-BR: 2 of 2 nudges untranslated; 1 of 1 surveys untranslated; 1 of 2 role names untranslated",
    ]
    assert main(["content", "check", "content", "--strict"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines()[:4] == [
        "content/locales/de/nudges/legal.toml: nudge 'legal-plain-language': not translated",
        "content/locales/de/pulses/pulse.toml: survey 'pulse': question 'why' options, question 'comment' "
        "not translated",
        "content/locales/de/roles.toml: role 'legal': not translated",
        "content/locales/pt-BR/nudges/legal.toml: nudge 'legal-plain-language': not translated",
    ]
    assert captured.err.splitlines()[-1] == "adoptbot: 7 problems found in content/"


def test_a_complete_translation_passes_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    legal = (
        '[[nudge]]\nid = "legal-plain-language"\ntitle = "Eine Klausel in einfacher Sprache"\n'
        'body = "Erkläre eine Standardklausel und prüfe, dass sich nichts geändert hat."\n'
    )
    pulse = DE_PULSE + '\n[[question]]\nid = "comment"\ntext = "Möchtest du noch etwas sagen?"\n'
    pulse = changed(pulse, 'title = "KI-Puls"', 'title = "KI-Puls"\nscale = ["1", "2", "3", "4", "5"]')
    files = german(
        nudges__legal=legal,
        pulses__pulse=pulse,
        roles='[roles.sales]\nname = "Vertrieb"\n[roles.legal]\nname = "Recht"\n',
    )
    library = load_library(write_library(tmp_path / "content", files))
    assert gaps(library, "de").complete
    assert main(["content", "check", "content", "--strict"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "  de: complete"


def test_coverage_is_the_table_a_change_manager_reads_before_launch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = german()
    files["tools.toml"] = '[tools.claude]\nname = "Claude"\n'
    files["nudges/everyone.toml"] = "".join(
        f'[[nudge]]\nid = "everyone-{n}"\nroles = ["*"]\nlevel = {1 + n % 3}\nstage = "ability"\n'
        f'title = "T{n}"\nbody = "B{n}"\n' + ('tools = ["claude"]\n' if n == 0 else "")
        for n in range(7)
    )
    write_library(tmp_path / "content", files)
    monkeypatch.setenv("ADOPTBOT_NUDGES_PER_WEEK", "3")
    assert main(["content", "check", "content", "--coverage"]) == 0
    out = capsys.readouterr().out
    assert "2 nudges a week" not in out and "3 nudges a week (ADOPTBOT_NUDGES_PER_WEEK)" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("  ")]
    assert ["role", "L1", "L2", "L3", "A", "D", "K", "Ab", "R", "own", "reach", "weeks", "+tools"] in rows
    # sales: its own knowledge nudge at L1; reach: own + 6 tool-neutral everyone nudges = 7, 2 weeks at 3 a
    # week; with Claude 8 nudges, still 2 weeks.
    assert ["sales", "1", "0", "0", "0", "0", "1", "0", "0", "1", "7", "2", "2"] in rows
    assert ["legal", "0", "1", "0", "0", "1", "0", "0", "0", "1", "7", "2", "2"] in rows
    assert ["everyone", "3", "2", "2", "0", "0", "0", "7", "0", "7"] in rows
    assert ["claude", "1", "0", "0", "1"] in rows
    assert ["de", "1/9", "(11%)", "0/1", "1/2", "0/0"] in rows


def test_coverage_of_a_broken_library_lists_the_problems_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_library(tmp_path / "content", german(nudges__sales=DE_SALES + "level = 3\n"))
    assert main(["content", "check", "content", "--coverage"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "content/locales/de/nudges/sales.toml: nudge 'sales-call-prep': level differs from "
        "nudges/sales.toml; ids, roles, level, stage, tools, minutes and link come from the default file: "
        "leave them out here",
        "adoptbot: 1 problem found in content/",
    ]


def test_the_starter_library_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check", "--coverage"]) == 0
    out = capsys.readouterr().out
    assert "  de: " in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ")}
    library = load_library()
    for role in library.roles:
        reach = sum(not n.tools for n in library.nudges_for(role))
        assert rows[role][10:12] == [str(reach), str(reach // 2)]
