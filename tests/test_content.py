"""The content library: the bundled starter library is complete, and every broken edit is reported with
its file and entry (all problems at once), by `load_library` and by `adoptbot content check`."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from bot.content import (
    ADKAR_STAGES,
    ContentError,
    Library,
    bundled_content_dir,
    load_library,
)
from bot.errors import UsageError

REPO = Path(__file__).resolve().parent.parent
STARTER_ROLES = {
    "sales",
    "engineering",
    "support",
    "marketing",
    "finance",
    "hr",
    "product",
    "operations",
    "legal",
    "leadership",
}

# A small valid library; each error case below edits one file of it.
BASE = {
    "roles.toml": '[roles.sales]\nname = "Sales"\n\n[roles.legal]\nname = "Legal"\n',
    "nudges/sales.toml": """
[[nudge]]
id = "sales-call-prep"
roles = ["sales"]
level = 1
stage = "knowledge"
title = "Prepare a call with an account brief"
body = "Paste *public* information about the account and ask for likely priorities."
try_it = "Using only the text below, list 3 likely priorities: [paste]"
minutes = 10
""",
    "nudges/legal.toml": """
[[nudge]]
id = "legal-plain-language"
roles = ["legal"]
level = 2
stage = "desire"
title = "Rewrite a clause in plain language"
body = "Explain a standard clause for the business, then check nothing changed."
""",
    "pulses/pulse.toml": """
id = "pulse"
title = "AI pulse"
cadence_weeks = 2

[[question]]
id = "why"
text = "I understand why we use AI."
kind = "scale"
stage = "awareness"

[[question]]
id = "usage"
text = "How often did you use AI in the last two weeks?"
kind = "choice"
metric = "usage"
options = ["Not at all", "Once or twice", "Most days"]

[[question]]
id = "comment"
text = "Anything to add?"
kind = "text"
""",
}


def write_library(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def edited(name: str, old: str, new: str) -> dict[str, str]:
    files = dict(BASE)
    assert old in files[name], f"test setup: {old!r} not in {name}"
    files[name] = files[name].replace(old, new, 1)
    return files


def problems(folder: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_library(folder)
    return caught.value.errors


# --- the bundled starter library ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def starter() -> Library:
    return load_library()


def test_starter_library_has_the_roles_and_enough_nudges_for_each(starter: Library) -> None:
    assert set(starter.roles) == STARTER_ROLES
    for role in starter.roles:
        own = [n for n in starter.nudges if role in n.roles]
        assert len(own) >= 6, role
        assert {n.level for n in own} == {1, 2, 3}, role
        assert len({n.stage for n in own}) >= 3, role
        assert all(n.try_it and n.minutes for n in own), role
    everyone = [n for n in starter.nudges if n.roles == ("*",) and not n.tools]
    assert len(everyone) >= 4
    assert {n.source for n in everyone} == {"nudges/everyone.toml"}
    # Nudges about one tool (tool tracks) live in tools.toml, and every nudge there names its tool.
    assert {n.source for n in starter.nudges if n.tools} == {"nudges/tools.toml"}
    assert all(n.tools for n in starter.nudges if n.source == "nudges/tools.toml")


def test_each_tool_has_a_track_across_levels_and_stages(starter: Library) -> None:
    for tool in starter.tools:
        track = [n for n in starter.nudges if tool in n.tools]
        assert len(track) >= 8, tool
        assert {n.level for n in track} == {1, 2, 3}, tool
        assert {n.stage for n in track} == set(ADKAR_STAGES), tool
        assert all(n.try_it and n.minutes for n in track), tool
        # First steps reach everyone who holds the tool, whatever their role.
        assert sum(n.level == 1 and n.roles == ("*",) for n in track) >= 2, tool


def test_starter_nudges_reach_people_by_role_level_first(starter: Library) -> None:
    sales = starter.nudges_for("sales")
    # Teaching order: level, then the ADKAR stage (awareness first), everyone's before the role's, then id.
    stages = ("awareness", "desire", "knowledge", "ability", "reinforcement")
    order = [(n.level, stages.index(n.stage), 2 if n.tools else int("*" not in n.roles), n.id) for n in sales]
    assert order == sorted(order)
    assert sales[0].id == "everyone-three-rules"  # the ground rules come before any task
    ids = {n.id for n in sales}
    assert "sales-follow-up-email" in ids and "everyone-three-rules" in ids
    assert not any(n.id.startswith("legal-") for n in sales)
    assert len(ids) == len(sales)


def test_starter_survey_covers_adkar_usage_and_a_comment(starter: Library) -> None:
    survey = starter.default_survey()
    assert survey.id == "adkar" and survey.cadence_weeks == 2
    scale = [q for q in survey.questions if q.kind == "scale"]
    assert {q.stage for q in scale} == set(ADKAR_STAGES)
    assert all(len(q.options) == 5 and q.required for q in scale)
    (usage,) = [q for q in survey.questions if q.metric == "usage"]
    assert usage.kind == "choice" and usage.options[0] == "Not at all" and len(usage.options) >= 4
    (comment,) = [q for q in survey.questions if q.kind == "text"]
    assert comment.required is False


def test_starter_calendar_and_actions(starter: Library) -> None:
    assert starter.is_holiday(date(2026, 1, 1), "Asia/Tokyo")  # everyone
    assert starter.is_holiday(date(2026, 7, 3), "America/Chicago")  # countries = ["US"]
    assert not starter.is_holiday(date(2026, 7, 3), "Europe/London")
    assert starter.is_holiday(date(2027, 1, 26), "Asia/Kolkata")  # timezones = [...]
    assert not starter.is_holiday(date(2027, 1, 26), "America/New_York")
    assert not starter.is_holiday(date(2026, 3, 10), "UTC")
    assert set(starter.actions) == {*ADKAR_STAGES, "idle_licences", "say_do_gap", "unreported_use"}
    assert all(2 <= len(actions) <= 4 for actions in starter.actions.values())


def test_load_library_finds_the_bundled_library_from_any_working_folder(tmp_path: Path) -> None:
    assert Path.cwd() == tmp_path  # the autouse fixture moved us away from the repository
    assert bundled_content_dir() == REPO / "content"
    assert load_library().path == REPO / "content"
    result = subprocess.run(
        [sys.executable, "-c", "from bot.content import load_library; print(load_library().path)"],
        cwd=tmp_path.anchor,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(result.stdout.strip()) == REPO / "content"


# --- what a valid library may leave out -----------------------------------------------------------------


def test_a_library_of_roles_nudges_and_pulses_is_valid_with_defaults(tmp_path: Path) -> None:
    library = load_library(write_library(tmp_path / "lib", BASE))
    assert library.holidays == ()
    assert library.actions == {
        key: () for key in (*ADKAR_STAGES, "idle_licences", "say_do_gap", "unreported_use")
    }
    assert not library.is_holiday(date(2026, 1, 1), "UTC")
    assert [n.id for n in library.nudges_for("legal")] == ["legal-plain-language"]
    nudge = library.nudges_for("sales")[0]
    assert (nudge.try_it, nudge.minutes, nudge.link, nudge.source) == (
        "Using only the text below, list 3 likely priorities: [paste]",
        10,
        None,
        "nudges/sales.toml",
    )
    question = library.surveys["pulse"].questions[0]
    assert question.options == () and question.stage == "awareness"


def test_slack_links_and_web_links_are_accepted(tmp_path: Path) -> None:
    files = edited(
        "nudges/sales.toml",
        "minutes = 10",
        'minutes = 10\nlink = "https://intranet.example.com/ai/guide"',
    )
    files["nudges/sales.toml"] = files["nudges/sales.toml"].replace(
        "about the account", "about the account (see <https://intranet.example.com/ai|our guide>)"
    )
    (nudge,) = load_library(write_library(tmp_path / "lib", files)).nudges_for("sales")
    assert nudge.link == "https://intranet.example.com/ai/guide"
    assert "<https://intranet.example.com/ai|our guide>" in nudge.body


def test_holidays_per_country_time_zone_and_period(tmp_path: Path) -> None:
    files = dict(BASE)
    files["calendar.toml"] = """
[[holiday]]
date = 2026-10-03
name = "Day of German Unity"
countries = ["DE"]

[[holiday]]
date = 2026-12-24
until = 2026-12-31
name = "Year-end shutdown"
timezones = ["Europe/Paris", "America/Toronto"]
"""
    library = load_library(write_library(tmp_path / "lib", files))
    assert library.is_holiday(date(2026, 10, 3), "Europe/Berlin")
    assert not library.is_holiday(date(2026, 10, 3), "Europe/Paris")
    assert all(library.is_holiday(date(2026, 12, day), "America/Toronto") for day in range(24, 32))
    assert not library.is_holiday(date(2027, 1, 1), "America/Toronto")
    assert not library.is_holiday(date(2026, 12, 28), "Europe/Berlin")


# --- every problem, named by file and entry --------------------------------------------------------------

CASES = [
    (
        edited("nudges/sales.toml", "level = 1", "level = 4"),
        "nudges/sales.toml: nudge 'sales-call-prep': level must be 1, 2 or 3",
    ),
    (
        edited("nudges/sales.toml", 'stage = "knowledge"', 'stage = "adoption"'),
        "nudges/sales.toml: nudge 'sales-call-prep': stage 'adoption' is not an ADKAR stage",
    ),
    (
        edited("nudges/sales.toml", "try_it =", "tryit ="),
        "nudges/sales.toml: nudge 'sales-call-prep': unknown key 'tryit' (did you mean 'try_it'?)",
    ),
    (
        edited("nudges/sales.toml", "minutes = 10", "minutes = 0"),
        "nudges/sales.toml: nudge 'sales-call-prep': minutes must be a positive whole number",
    ),
    (
        edited("nudges/sales.toml", "minutes = 10", 'minutes = "10"'),
        "nudges/sales.toml: nudge 'sales-call-prep': minutes must be a whole number, not '10'",
    ),
    (
        edited("nudges/sales.toml", "minutes = 10", 'link = "ftp://files.example.com/guide"'),
        "nudges/sales.toml: nudge 'sales-call-prep': link must be a web address starting with https://",
    ),
    (
        edited("nudges/sales.toml", 'roles = ["sales"]', 'roles = ["sales", "legl"]'),
        "nudges/sales.toml: nudge 'sales-call-prep': unknown role 'legl' (did you mean 'legal'?)",
    ),
    (
        edited("nudges/sales.toml", 'roles = ["sales"]', 'roles = ["*", "sales"]'),
        "nudges/sales.toml: nudge 'sales-call-prep': roles: \"*\" already means every role",
    ),
    (
        edited("nudges/legal.toml", 'id = "legal-plain-language"', 'id = "sales-call-prep"'),
        "nudges/sales.toml: "
        "nudge 'sales-call-prep': id 'sales-call-prep' is already used in nudges/legal.toml",
    ),
    (
        edited("nudges/sales.toml", 'id = "sales-call-prep"', 'id = "Sales Call Prep"'),
        "nudges/sales.toml: nudge 'Sales Call Prep': id 'Sales Call Prep' must be lowercase letters",
    ),
    (
        edited("nudges/sales.toml", 'body = "Paste *public* information about the account', "#"),
        "nudges/sales.toml: nudge 'sales-call-prep': body is required",
    ),
    (
        edited(
            "nudges/sales.toml", 'title = "Prepare a call with an account brief"', f'title = "{"x" * 151}"'
        ),
        "nudges/sales.toml: nudge 'sales-call-prep': title is 151 characters; Slack allows at most 150",
    ),
    (
        edited("nudges/sales.toml", 'body = "Paste', f'body = "{"y" * 3000} Paste'),
        "nudges/sales.toml: nudge 'sales-call-prep': body is 3,076 characters; Slack allows at most 3,000",
    ),
    (
        edited("nudges/sales.toml", "about the account", "about <the account>"),
        "nudges/sales.toml: "
        "nudge 'sales-call-prep': body: Slack reads '<' as the start of a link; write &lt;",
    ),
    (
        edited("nudges/sales.toml", "level = 1", "level = 1.5"),
        "nudges/sales.toml: nudge 'sales-call-prep': level must be a whole number, not 1.5",
    ),
    (
        edited("nudges/sales.toml", 'stage = "knowledge"', 'stage = "knowledge'),
        "nudges/sales.toml: TOML syntax error at line 6, column 19: ",
    ),
    (
        edited("nudges/legal.toml", 'roles = ["legal"]', 'roles = ["sales"]'),
        "roles.toml: role 'legal': no nudge names this role",
    ),
    (
        edited("roles.toml", 'name = "Legal"', 'name = "  "'),
        "roles.toml: role 'legal': name must not be empty",
    ),
    (
        edited("pulses/pulse.toml", 'id = "usage"', 'id = "why"'),
        "pulses/pulse.toml: question id 'why' is used more than once",
    ),
    (
        edited("pulses/pulse.toml", 'kind = "text"', 'kind = "essay"'),
        "pulses/pulse.toml: question 'comment': kind 'essay' must be scale, choice or text",
    ),
    (
        edited("pulses/pulse.toml", '["Not at all", "Once or twice", "Most days"]', '["Not at all"]'),
        "pulses/pulse.toml: question 'usage': a choice question needs options: at least 2 answers",
    ),
    (
        edited("pulses/pulse.toml", 'stage = "awareness"', 'stage = "awarenes"'),
        "pulses/pulse.toml: "
        "question 'why': stage 'awarenes' is not an ADKAR element (did you mean 'awareness'?)",
    ),
    (
        edited("pulses/pulse.toml", 'stage = "awareness"', 'stage = "awareness"\nmetric = "usage"'),
        "pulses/pulse.toml: question 'why': metric = \"usage\" belongs on a choice question",
    ),
    (
        edited(
            "pulses/pulse.toml", 'kind = "text"', 'kind = "choice"\nmetric = "usage"\noptions = ["No", "Yes"]'
        ),
        'pulses/pulse.toml: only one question can have metric = "usage" (found: usage, comment)',
    ),
    (
        edited("pulses/pulse.toml", 'kind = "text"', 'kind = "text"\nrequired = true'),
        "pulses/pulse.toml: "
        "question 'comment': a text question is an optional comment; it cannot be required",
    ),
    (
        edited("pulses/pulse.toml", "cadence_weeks = 2", "cadence_weeks = 0"),
        "pulses/pulse.toml: cadence_weeks must be between 1 and 52",
    ),
    (
        edited("pulses/pulse.toml", 'title = "AI pulse"', 'title = "Our fortnightly AI adoption pulse"'),
        "pulses/pulse.toml: title is 33 characters; Slack allows at most 24 for a modal title",
    ),
    (
        edited("pulses/pulse.toml", '"Once or twice"', '"' + "Once or twice, " * 6 + '"'),
        "pulses/pulse.toml: "
        "question 'usage': options: 'Once or twice, Once or twice, Once or...' is 89 characters",
    ),
]


@pytest.mark.parametrize(("files", "expected"), CASES, ids=[c[1].split(": ", 1)[1][:60] for c in CASES])
def test_each_problem_names_file_and_entry(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    found = problems(write_library(tmp_path / "lib", files))
    assert len(found) == 1, found
    assert found[0].startswith(expected), found


CALENDAR_CASES = [
    (
        'date = 2026-12-25\nname = "Christmas Day"\ntimezones = ["Europe/Berlln"]',
        "calendar.toml: "
        "holiday 'Christmas Day': unknown time zone 'Europe/Berlln' (did you mean 'Europe/Berlin'?)",
    ),
    (
        'date = 2026-12-25\nname = "Christmas Day"\ncountries = ["Germany"]',
        "calendar.toml: holiday 'Christmas Day': unknown country 'Germany' (use an ISO 3166 two-letter code",
    ),
    (
        'date = "2026-12-25"\nname = "Christmas Day"',
        "calendar.toml: holiday 'Christmas Day': date must be a TOML date without quotes",
    ),
    (
        'date = 2026-12-25\nuntil = 2026-12-20\nname = "Christmas Day"',
        "calendar.toml: holiday 'Christmas Day': until must be on or after date",
    ),
    ('date = 2026-12-25\nnmae = "Christmas Day"', "calendar.toml: holiday #1: unknown key 'nmae'"),
]


@pytest.mark.parametrize(("entry", "expected"), CALENDAR_CASES)
def test_calendar_problems_name_the_holiday(tmp_path: Path, entry: str, expected: str) -> None:
    files = {**BASE, "calendar.toml": f"[[holiday]]\n{entry}\n"}
    found = problems(write_library(tmp_path / "lib", files))
    assert found[0].startswith(expected), found


def test_actions_problems_name_the_stage(tmp_path: Path) -> None:
    files = {
        **BASE,
        "actions.toml": '[actions]\nawarness = ["Explain why."]\nability = "Block practice time."\n',
    }
    found = problems(write_library(tmp_path / "lib", files))
    assert found == [
        "actions.toml: [actions]: unknown key 'awarness' (did you mean 'awareness'?)",
        'actions.toml: [actions]: ability must be a list of non-empty texts, like ["a", "b"]',
    ]


def test_all_problems_are_reported_at_once_with_a_one_line_summary(tmp_path: Path) -> None:
    files = edited("nudges/sales.toml", "level = 1", "level = 7")
    files["nudges/legal.toml"] = files["nudges/legal.toml"].replace('stage = "desire"', 'stage = "hope"')
    files["pulses/pulse.toml"] = files["pulses/pulse.toml"].replace("cadence_weeks = 2", "cadence_weeks = -1")
    with pytest.raises(ContentError) as caught:
        load_library(write_library(tmp_path / "lib", files))
    error = caught.value
    assert isinstance(error, UsageError) and error.exit_code == 2
    assert [e.split(":")[0] for e in error.errors] == [
        "nudges/legal.toml",
        "nudges/sales.toml",
        "pulses/pulse.toml",
    ]
    message = str(error)
    assert "\n" not in message
    assert message.startswith(
        "3 problems in the content library: nudges/legal.toml: nudge 'legal-plain-language'"
    )


def test_missing_parts_of_a_library(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    assert problems(folder) == [
        "roles.toml: file is missing",
        "nudges/: no nudge files; add nudges/<role>.toml with [[nudge]] entries",
        "pulses/: no survey; add pulses/<id>.toml (see the bundled pulses/adkar.toml)",
    ]
    with pytest.raises(ContentError, match=r"^content library folder .*nowhere does not exist\.$"):
        load_library(tmp_path / "nowhere")


# --- adoptbot content check -------------------------------------------------------------------------------


def test_check_reports_ok_for_the_bundled_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Content OK: 10 roles, ")
    assert "1 survey (adkar, 8 questions), 6 holidays." in out


def test_check_uses_content_dir_when_no_folder_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTENT_DIR", str(write_library(tmp_path / "lib", BASE)))
    assert main(["content", "check"]) == 0
    assert (
        capsys.readouterr().out
        == "Content OK: 2 roles, 2 nudges, 1 survey (pulse, 3 questions), 0 holidays.\n"
    )


def test_check_lists_every_problem_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = edited("nudges/sales.toml", "level = 1", "level = 4")
    files["nudges/legal.toml"] = files["nudges/legal.toml"].replace("title =", "titel =")
    write_library(tmp_path / "content", files)
    assert main(["content", "check", "content"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "content/nudges/legal.toml: "
        "nudge 'legal-plain-language': unknown key 'titel' (did you mean 'title'?)",
        "content/nudges/legal.toml: nudge 'legal-plain-language': title is required",
        "content/nudges/sales.toml: nudge 'sales-call-prep': level must be 1, 2 or 3",
        "adoptbot: 3 problems found in content/",
    ]


def test_check_of_a_missing_folder_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["content", "check", "no-such-folder"]) == 2
    assert capsys.readouterr().err == "adoptbot: content library folder no-such-folder does not exist.\n"


def test_check_from_the_command_line_never_shows_a_traceback(tmp_path: Path) -> None:
    write_library(tmp_path / "broken", edited("nudges/sales.toml", "level = 1", 'level = "one"'))
    env = {k: v for k, v in os.environ.items() if k != "CONTENT_DIR"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", "broken"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert (
        "broken/nudges/sales.toml: nudge 'sales-call-prep': level must be a whole number, not 'one'"
        in result.stderr
    )


def test_starter_tools_are_the_ones_usage_reports_name(starter: Library) -> None:
    assert {tool_id: tool.name for tool_id, tool in starter.tools.items()} == {
        "m365-copilot": "Microsoft 365 Copilot",
        "chatgpt-enterprise": "ChatGPT Enterprise",
        "gemini": "Gemini for Google Workspace",
        "github-copilot": "GitHub Copilot",
        "claude": "Claude",
    }


def test_tools_problems_name_the_tool(tmp_path: Path) -> None:
    files = {
        **BASE,
        "tools.toml": '[tools.claude]\nnmae = "Claude"\n[tools.Big_Tool]\nname = "Big"\n'
        '[tools.ok]\nname = ""\n',
    }
    found = problems(write_library(tmp_path / "lib", files))
    assert found == [
        "tools.toml: tool 'claude': unknown key 'nmae' (did you mean 'name'?)",
        "tools.toml: tool 'claude': name is required",
        "tools.toml: tool 'Big_Tool': tool id must be lowercase letters, digits, '-' or '_' (at most 64 "
        "characters)",
        "tools.toml: tool 'ok': name must not be empty",
    ]
