"""`adoptbot usage import`: vendors' usage reports become weekly facts per person and tool, all or nothing.

Fixtures use each vendor's own column names; the CLI is run as a person runs it, on real databases.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.models import UsageFact
from tests.support.factories import add_person

ANA, BEN = "U0000ANA", "U0000BEN"
MON = {day: date(2026, month, d) for day, (month, d) in {
    "oct26": (10, 26), "nov02": (11, 2), "nov09": (11, 9), "nov16": (11, 16), "nov23": (11, 23),
    "nov30": (11, 30),
}.items()}  # fmt: skip

M365_HEADER = (
    "Report Refresh Date,Report Period,User Principal Name,Display Name,Last Activity Date,"
    "Microsoft Teams Copilot Last Activity Date,Word Copilot Last Activity Date,"
    "Excel Copilot Last Activity Date,PowerPoint Copilot Last Activity Date,"
    "Outlook Copilot Last Activity Date,OneNote Copilot Last Activity Date,"
    "Loop Copilot Last Activity Date,Copilot Chat Last Activity Date\n"
)
# 28 days ending Sunday 2026-11-29: the weeks of Nov 2, 9, 16 and 23.
M365 = M365_HEADER + (
    '2026-11-29,28,Ana@Example.com,"Silva, Ana",2026-11-20,2026-11-20,,,,,,,2026-11-04\n'
    "2026-11-29,28,ben@example.com,Ben,,,,,,,,,\n"
    "2026-11-29,28,carl@elsewhere.example,Carl,2026-11-10,,,,,,,,2026-11-10\n"
)
# 14 days ending Sunday 2026-12-06, overlapping the first: the weeks of Nov 23 and Nov 30.
M365_LATER = M365_HEADER + (
    '2026-12-06,14,ana@example.com,"Silva, Ana",2026-11-20,,,,,,,,\n'
    "2026-12-06,14,BEN@example.com,Ben,2026-11-24,,2026-11-24,,,,,,\n"
)
CHATGPT = (
    "cadence,period_start,period_end,account_id,public_id,name,email,role,user_role,department,groups,"
    "user_status,created_or_invited_date,is_active,first_day_active_in_period,last_day_active_in_period,"
    "messages,messages_rank,model_to_messages,gpt_messages,gpts_messaged,tool_messages,tools_messaged,"
    "project_messages,last_day_active\n"
    'monthly,2026-11-01,2026-11-30,acc1,user-1,"Silva, Ana",ana@example.com,,standard-user,'
    "\"['Sales']\",,enabled,2026-03-01,1,2026-11-03,2026-11-25,25,3,"
    "\"{'gpt-4o': 20, 'o3': 5}\",0,0,0,0,0,2026-11-25\n"
    "monthly,2026-11-01,2026-11-30,acc1,user-2,Dee,dee@elsewhere.example,,standard-user,,,enabled,"
    "2026-03-01,0,,,0,,,0,0,0,0,0,\n"
)
GITHUB = (
    "report_time,login,last_authenticated_at,last_activity_at,last_surface_used\n"
    "2026-11-30T08:00:00Z,ana-gh,2026-11-27T10:00:00Z,2026-11-26T16:41:00Z,vscode/1.95.3/copilot/1.245.0\n"
    "2026-11-30T08:00:00Z,ben-gh,,,\n"
)
GITHUB_WITH_EMAIL = (
    "report_time,login,email,last_authenticated_at,last_activity_at,last_surface_used\n"
    "2026-11-30T08:00:00Z,ana-gh,ana@example.com,2026-11-27T10:00:00Z,2026-11-26T16:41:00+02:00,"
    "vscode/1.95.3/copilot/1.245.0\n"
    "2026-11-30T08:00:00Z,ben-gh,Ben@Example.com,,,\n"
)
GEMINI = "User,Date\nana@example.com,2026-11-18\nana@example.com,2026-11-19\nben@example.com,2026-11-03\n"
GENERIC = (
    "email,date,tool,active\n"
    "ana@example.com,2026-11-17,claude,yes\n"
    "ben@example.com,2026-11-17,claude,0\n"
    "ben@example.com,2026-11-18,Claude,true\n"
)


@pytest.fixture
def people(engine: Engine) -> None:
    with Session(engine) as session:
        add_person(session, ANA, email="ana@example.com")
        add_person(session, BEN, email="ben@example.com")
        session.commit()


def write(tmp_path: Path, text: str, name: str = "report.csv", *, bom: bool = True) -> str:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return str(path)


def usage(
    capsys: pytest.CaptureFixture[str], db_url: str, path: str, source: str, *extra: str
) -> tuple[int, str, str]:
    code = main(["usage", "import", path, "--source", source, *extra, "--db", db_url])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def facts(engine: Engine) -> dict[tuple[str, str, date], tuple[bool, bool]]:
    """Every stored fact as (person's Slack ID, tool, week) -> (licensed, active)."""
    from bot.models import Person

    with Session(engine) as session:
        rows = session.execute(
            select(
                Person.slack_user_id, UsageFact.tool, UsageFact.week, UsageFact.licensed, UsageFact.active
            ).join(Person, Person.id == UsageFact.person_id)
        ).all()
    return {(str(r[0]), r[1], r[2]): (r[3], r[4]) for r in rows}


def count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(UsageFact)) or 0)


@pytest.mark.usefixtures("people")
def test_m365_report_gives_licences_for_the_period_and_activity_in_its_weeks(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = usage(capsys, db_url, write(tmp_path, M365), "m365-copilot", "--show-unmatched")
    assert code == 0, err
    assert "3 rows read (m365-copilot): 2 people matched, 1 unmatched (1 rows)" in out
    assert "4 weeks covered (weeks of 2026-11-02 to 2026-11-23)" in out
    assert "weekly facts: 8 added, 0 changed, 0 unchanged" in out
    assert "  carl@elsewhere.example" in out
    # Only the unmatched email is printed: never anyone's usage, nor a matched person's email.
    assert "ana@example.com" not in out.lower() and "ben@example.com" not in out
    weeks = [MON["nov02"], MON["nov09"], MON["nov16"], MON["nov23"]]
    assert facts(engine) == {
        **{(ANA, "m365-copilot", w): (True, w in (MON["nov02"], MON["nov16"])) for w in weeks},
        **{(BEN, "m365-copilot", w): (True, False) for w in weeks},
    }


@pytest.mark.usefixtures("people")
def test_reimporting_changes_nothing_and_overlapping_reports_merge(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = write(tmp_path, M365, "first.csv")
    assert usage(capsys, db_url, first, "m365-copilot")[0] == 0
    before = facts(engine)
    code, out, _ = usage(capsys, db_url, first, "m365-copilot")
    assert code == 0 and "weekly facts: 0 added, 0 changed, 8 unchanged" in out
    assert facts(engine) == before

    code, out, _ = usage(capsys, db_url, write(tmp_path, M365_LATER, "later.csv"), "m365-copilot")
    assert code == 0
    # Nov 30 is new for both; Ben's Nov 23 turns active; Ana's Nov 23 stays as it was.
    assert "weekly facts: 2 added, 1 changed, 1 unchanged" in out
    merged = facts(engine)
    assert merged[(BEN, "m365-copilot", MON["nov23"])] == (True, True)
    assert merged[(ANA, "m365-copilot", MON["nov16"])] == (True, True)  # outside the later report: kept
    assert merged[(ANA, "m365-copilot", MON["nov30"])] == (True, False)

    # The older report again: it shows Ben inactive in the week of Nov 23, which does not undo activity.
    code, out, _ = usage(capsys, db_url, first, "m365-copilot")
    assert "0 added, 0 changed, 8 unchanged" in out
    assert facts(engine) == merged


@pytest.mark.usefixtures("people")
def test_chatgpt_enterprise_export_with_quoted_cells(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = usage(capsys, db_url, write(tmp_path, CHATGPT), "chatgpt-enterprise", "--show-unmatched")
    assert code == 0, err
    assert "2 rows read (chatgpt-enterprise): 1 person matched, 1 unmatched" in out
    assert "6 weeks covered (weeks of 2026-10-26 to 2026-11-30)" in out
    assert "  dee@elsewhere.example" in out
    stored = facts(engine)
    assert {w for (_, _, w), (licensed, _) in stored.items() if licensed} == set(MON.values())
    assert {w for (_, _, w), (_, active) in stored.items() if active} == {MON["nov02"], MON["nov23"]}


@pytest.mark.usefixtures("people")
def test_github_activity_report_is_matched_by_email_only(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = usage(capsys, db_url, write(tmp_path, GITHUB), "github-copilot", "--show-unmatched")
    assert code == 0
    assert "2 rows read (github-copilot): 0 people matched, 2 unmatched (2 rows)" in out
    assert "  ana-gh\n  ben-gh" in out  # logins are not guessed into people
    assert "GitHub's reports name logins only: give --logins FILE" in out
    assert count(engine) == 0

    code, out, _ = usage(capsys, db_url, write(tmp_path, GITHUB_WITH_EMAIL), "github-copilot")
    assert code == 0 and "2 people matched, 0 unmatched" in out
    assert facts(engine) == {
        (ANA, "github-copilot", MON["nov30"]): (True, False),
        (ANA, "github-copilot", MON["nov23"]): (True, True),  # 16:41+02:00 is Nov 26 in UTC
        (BEN, "github-copilot", MON["nov30"]): (True, False),
    }


@pytest.mark.usefixtures("people")
def test_gemini_and_generic_files(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert usage(capsys, db_url, write(tmp_path, GEMINI, bom=False), "gemini")[0] == 0
    code, out, _ = usage(capsys, db_url, write(tmp_path, GENERIC, "generic.csv"), "generic")
    assert code == 0 and "weekly facts: 2 added" in out
    assert facts(engine) == {
        (ANA, "gemini", MON["nov16"]): (True, True),
        (BEN, "gemini", MON["nov02"]): (True, True),
        (ANA, "claude", MON["nov16"]): (True, True),
        (BEN, "claude", MON["nov16"]): (True, True),  # inactive on the 17th, active on the 18th
    }


@pytest.mark.usefixtures("people")
def test_a_bad_file_changes_nothing_and_names_every_bad_line(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = M365_HEADER + (
        "2026-11-29,28,ana@example.com,Ana,2026-11-20,,,,,,,,\n"
        "2026-11-29,28,ben@example.com,Ben,2026-11-31,,,,,,,,\n"
        "2026-11-29,28,,Nobody,,,,,,,,,\n"
    )
    code, out, err = usage(capsys, db_url, write(tmp_path, bad), "m365-copilot")
    assert code == 2 and out == ""
    assert "line 3: bad Last Activity Date '2026-11-31' (use YYYY-MM-DD" in err
    assert "line 4: missing User Principal Name" in err
    assert count(engine) == 0

    generic = "email,date,tool,active\nana@example.com,2026-11-17,cursor,1\n"
    code, _, err = usage(capsys, db_url, write(tmp_path, generic, "g.csv"), "generic")
    assert code == 2 and "line 2: unknown tool 'cursor' (tool ids: chatgpt-enterprise, claude," in err
    assert count(engine) == 0

    code, _, err = usage(capsys, db_url, write(tmp_path, GITHUB), "m365-copilot")
    assert code == 2 and "no column 'Report Refresh Date': is this the right --source?" in err


@pytest.mark.usefixtures("people")
def test_a_dry_run_writes_nothing(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = usage(capsys, db_url, write(tmp_path, M365), "m365-copilot", "--dry-run")
    assert code == 0
    assert out.startswith("Dry run, nothing was changed. The import would do: 3 rows read")
    assert "8 added" in out
    assert count(engine) == 0


@pytest.mark.usefixtures("people")
def test_forget_erases_the_persons_usage_facts(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert usage(capsys, db_url, write(tmp_path, M365), "m365-copilot")[0] == 0
    code = main(["forget", ANA, "--db", db_url])
    out = capsys.readouterr().out
    assert code == 0
    assert "usage: 4 weekly usage facts from imported usage reports (licence, activity) erased" in out
    assert {who for who, _, _ in facts(engine)} == {BEN}


@pytest.mark.usefixtures("people")
def test_semicolon_separated_export_and_concealed_names(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel in many European locales saves `;`; a tenant that conceals names in reports exports hashes."""
    semicolons = M365.replace(",", ";").replace('"Silva; Ana"', '"Silva, Ana"')
    code, out, _ = usage(capsys, db_url, write(tmp_path, semicolons), "m365-copilot")
    assert code == 0 and "2 people matched, 1 unmatched" in out

    concealed = (
        M365_HEADER + "2026-11-29,28,DC8C64D6EC3A3AA17481D7E5EB5B68A6,C65E8D8AFA0DAB96,2026-11-20,,,,,,,,\n"
    )
    code, out, _ = usage(capsys, db_url, write(tmp_path, concealed, "hidden.csv"), "m365-copilot")
    assert code == 0 and "0 people matched, 1 unmatched" in out
    assert "concealed user names" in out


def copilot_user_day(login: str, day: str, **counts: Any) -> dict[str, Any]:
    """One record of GitHub's per-user Copilot usage metrics report (users-1-day / users-28-day), shaped
    as GitHub's example schema: the day's counts, breakdowns and flags (all zero or false unless given)."""
    record: dict[str, Any] = {
        "code_acceptance_activity_count": 0,
        "code_generation_activity_count": 0,
        "day": day,
        "enterprise_id": "13213",
        "loc_added_sum": 0,
        "loc_deleted_sum": 0,
        "loc_suggested_to_add_sum": 0,
        "loc_suggested_to_delete_sum": 0,
        "totals_by_feature": [],
        "totals_by_ide": [],
        "totals_by_language_feature": [],
        "totals_by_language_model": [],
        "totals_by_model_feature": [],
        "used_agent": False,
        "used_chat": False,
        "used_cli": False,
        "user_id": abs(hash(login)) % 100_000,
        "user_login": login,
        "user_initiated_interaction_count": 0,
        "report_start_day": "2026-11-03",
        "report_end_day": "2026-11-30",
    }
    record.update(counts)
    return record


# Wed Nov 18 (week of Nov 16) and Tue Nov 24 (week of Nov 23).
COPILOT_USERS = [
    copilot_user_day(
        "ana-gh",
        "2026-11-18",
        user_initiated_interaction_count=3,
        code_generation_activity_count=5,
        code_acceptance_activity_count=2,
        used_chat=True,
        totals_by_ide=[{"ide": "vscode", "user_initiated_interaction_count": 3}],
    ),
    copilot_user_day("ana-gh", "2026-11-24", code_generation_activity_count=4),  # shown, none taken
    copilot_user_day(
        "Ben-GH",
        "2026-11-19",
        used_cli=True,
        totals_by_cli={"prompt_count": 2, "request_count": 2, "session_count": 1},
    ),
    copilot_user_day("carl-gh", "2026-11-20", user_initiated_interaction_count=1),
    copilot_user_day("dee-gh", "2026-11-20", used_copilot_code_review_active=True),
]
COPILOT_NDJSON = "".join(json.dumps(record) + "\n" for record in COPILOT_USERS)
LOGINS = 'login,email\n"ana-gh","Ana@Example.com"\nben-gh,ben@example.com\n\ndee-gh,dee@elsewhere.example\n'


@pytest.mark.usefixtures("people")
def test_github_usage_metrics_report_matched_through_the_customers_logins(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = write(tmp_path, COPILOT_NDJSON, "copilot-users-28-day.ndjson", bom=False)
    logins = write(tmp_path, LOGINS, "logins.csv")
    code, out, err = usage(capsys, db_url, report, "github-copilot", "--logins", logins, "--show-unmatched")
    assert code == 0, err
    assert "5 rows read (github-copilot): 2 people matched, 2 unmatched (2 rows)" in out
    assert "2 weeks covered (weeks of 2026-11-16 to 2026-11-23)" in out
    # carl-gh is in no mapping; dee-gh maps to an email the roster does not have. Neither is guessed.
    assert out.endswith("Unmatched (2, not in the roster by email):\n  carl-gh\n  dee-gh\n")
    assert "ana@example.com" not in out.lower()
    expected = {
        (ANA, "github-copilot", MON["nov16"]): (True, True),
        (ANA, "github-copilot", MON["nov23"]): (True, False),  # suggestions shown are not use
        (BEN, "github-copilot", MON["nov16"]): (True, True),  # the CLI is use; logins ignore case
    }
    assert facts(engine) == expected

    code, out, _ = usage(capsys, db_url, report, "github-copilot", "--logins", logins)
    assert code == 0 and "weekly facts: 0 added, 0 changed, 3 unchanged" in out
    assert facts(engine) == expected

    # Without the mapping, logins match nobody, and the summary says what to do.
    code, out, _ = usage(capsys, db_url, report, "github-copilot", "--dry-run")
    assert code == 0 and "0 people matched, 4 unmatched (5 rows)" in out
    assert "give --logins FILE (login,email)" in out
    strangers = write(tmp_path, "login,email\nzed-gh,zed@example.com\n", "strangers.csv")
    code, out, _ = usage(capsys, db_url, report, "github-copilot", "--logins", strangers, "--dry-run")
    assert code == 0 and "None of its logins is in the --logins file." in out


@pytest.mark.usefixtures("people")
def test_github_reports_with_an_email_field_or_as_a_json_array(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_email = [
        {
            **copilot_user_day("ana-gh", "2026-11-30", code_acceptance_activity_count=1),
            "email": "ANA@example.com",
        }
    ]
    code, out, err = usage(
        capsys, db_url, write(tmp_path, json.dumps(with_email), "a.json"), "github-copilot"
    )
    assert code == 0, err
    assert "1 row read (github-copilot): 1 person matched" in out
    assert facts(engine) == {(ANA, "github-copilot", MON["nov30"]): (True, True)}

    # The activity report CSV takes the same mapping.
    code, out, _ = usage(
        capsys,
        db_url,
        write(tmp_path, GITHUB, "seats.csv"),
        "github-copilot",
        "--logins",
        write(tmp_path, LOGINS),
    )
    assert code == 0 and "2 people matched, 0 unmatched" in out


@pytest.mark.usefixtures("people")
def test_a_bad_json_record_aborts_with_its_line_or_record_number_and_changes_nothing(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logins = write(tmp_path, LOGINS, "logins.csv")
    good = write(tmp_path, COPILOT_NDJSON, "good.ndjson")
    assert usage(capsys, db_url, good, "github-copilot", "--logins", logins)[0] == 0
    before = facts(engine)

    lines = COPILOT_NDJSON.splitlines()
    lines[2] = lines[2][:40]  # cut short
    lines[3] = json.dumps(copilot_user_day("carl-gh", "2026-11-20", code_acceptance_activity_count="many"))
    lines.append(json.dumps(copilot_user_day("ana-gh", "2026-12-01", user_initiated_interaction_count=9)))
    bad = write(tmp_path, "\n".join(lines) + "\n", "bad.ndjson")
    code, out, err = usage(capsys, db_url, bad, "github-copilot", "--logins", logins)
    assert code == 2 and out == ""
    assert "bad.ndjson: 2 bad rows:" in err
    assert "  line 3: not valid JSON (Unterminated string" in err
    assert "  line 4: bad code_acceptance_activity_count 'many' (a count: 0 or more)" in err
    assert facts(engine) == before  # Ana's valid Dec 1 record was not imported either

    array = [
        copilot_user_day("ana-gh", "2026-12-01", used_agent=True),
        {key: value for key, value in copilot_user_day("x", "2026-12-01").items() if key != "user_login"},
        copilot_user_day("ben-gh", "12/01/2026", used_chat="yes"),
    ]
    code, out, err = usage(
        capsys, db_url, write(tmp_path, json.dumps(array, indent=2), "b.json"), "github-copilot"
    )
    assert code == 2 and out == ""
    assert "record 2: missing user_login" in err
    assert "record 3: bad day '12/01/2026' (use YYYY-MM-DD" in err
    assert facts(engine) == before

    broken = json.dumps(array, indent=2).replace('"day"', "day", 1)
    code, _, err = usage(capsys, db_url, write(tmp_path, broken, "c.json"), "github-copilot")
    assert code == 2 and "c.json: line 5 is not valid JSON (Expecting property name" in err  # `day`
    assert facts(engine) == before


@pytest.mark.usefixtures("people")
def test_json_answers_that_are_not_the_per_user_report_say_what_to_import(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    links = {
        "download_links": ["https://example.com/copilot-users-report-1.ndjson"],
        "report_day": "2026-11-30",
    }
    totals = {"day_totals": [{"day": "2026-11-30", "daily_active_users": 2}], "enterprise_id": "1"}
    seats = {"total_seats": 1, "seats": [{"assignee": {"login": "ana-gh"}, "last_activity_at": None}]}
    for answer, says in (
        (links, "download the files its download_links point to"),
        (totals, "import the per-user report (users-1-day or users-28-day)"),
        (seats, "is the Copilot seat list, which has no report date"),
    ):
        code, _, err = usage(capsys, db_url, write(tmp_path, json.dumps(answer), "a.json"), "github-copilot")
        assert code == 2 and says in err and "Traceback" not in err
    code, _, err = usage(capsys, db_url, write(tmp_path, COPILOT_NDJSON), "m365-copilot")
    assert code == 2 and "is JSON: --source m365-copilot reads the admin console's CSV export" in err
    code, _, err = usage(
        capsys, db_url, write(tmp_path, GEMINI), "gemini", "--logins", write(tmp_path, LOGINS)
    )
    assert code == 2 and "--logins maps GitHub logins to emails" in err
    assert count(engine) == 0


@pytest.mark.usefixtures("people")
def test_a_bad_logins_file_names_its_lines_and_changes_nothing(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = LOGINS + "ana-gh,other@example.com\ncarl-gh,not-an-email\n"
    report = write(tmp_path, COPILOT_NDJSON, "r.ndjson")
    code, out, err = usage(
        capsys, db_url, report, "github-copilot", "--logins", write(tmp_path, bad, "map.csv")
    )
    assert code == 2 and out == ""
    assert "map.csv: 2 bad rows:" in err
    assert "line 6: login 'ana-gh' has two emails (ana@example.com and other@example.com)" in err
    assert "line 7: bad email 'not-an-email' for login 'carl-gh'" in err
    code, _, err = usage(
        capsys, db_url, report, "github-copilot", "--logins", write(tmp_path, "user,mail\n", "m.csv")
    )
    assert code == 2 and "needs a 'login' and an 'email' column" in err
    assert count(engine) == 0


def gemini_activity(
    email: str, time: str, action: str, app: str, application: str = "gemini_in_workspace_apps"
) -> dict[str, Any]:
    """One activity as the Admin SDK Reports API's activities.list returns it for Gemini in Workspace apps."""
    return {
        "kind": "admin#reports#activity",
        "id": {
            "time": time,
            "uniqueQualifier": "-4011",
            "applicationName": application,
            "customerId": "C03az79cb",
        },
        "etag": '"JDMC8884sebSctZ17CIssbQ/QhGEzLvnQZRgMZOyCp9JzrBBBjY"',
        "actor": {"callerType": "USER", "email": email, "profileId": "114511147312345678901"},
        "events": [
            {
                "type": "ai_usage_event",
                "name": "feature_utilization",
                "parameters": [
                    {"name": "action", "value": action},
                    {"name": "app_name", "value": app},
                    {"name": "event_category", "value": "active"},
                ],
            }
        ],
    }


@pytest.mark.usefixtures("people")
def test_gemini_reports_api_activities(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = {
        "kind": "admin#reports#activities",
        "etag": '"JDMC8884sebSctZ17CIssbQ/SfFEEHBv5ZBtKyT9PbkTSD_SzHw"',
        "items": [
            gemini_activity("Ana@example.com", "2026-11-18T09:14:07.123Z", "summarize", "docs"),
            gemini_activity("ana@example.com", "2026-11-19T16:02:51.000Z", "generate_text", "gmail"),
            gemini_activity("ben@example.com", "2026-11-29T23:30:00-02:00", "conversation", "gemini_app"),
            gemini_activity("eve@elsewhere.example", "2026-11-20T10:00:00Z", "summarize", "docs"),
        ],
        "nextPageToken": "A:1764000000000000:-4011:114511147312345678901:C03az79cb",
    }
    report = write(tmp_path, json.dumps(page, indent=2), "gemini.json")
    code, out, err = usage(capsys, db_url, report, "gemini", "--show-unmatched")
    assert code == 0, err
    assert "4 rows read (gemini): 2 people matched, 1 unmatched (1 rows)" in out
    assert "  eve@elsewhere.example" in out
    expected = {
        (ANA, "gemini", MON["nov16"]): (True, True),
        (BEN, "gemini", MON["nov30"]): (True, True),  # 23:30 at -02:00 is Monday Nov 30 in UTC
    }
    assert facts(engine) == expected
    code, out, _ = usage(capsys, db_url, report, "gemini")
    assert code == 0 and "0 added, 0 changed, 2 unchanged" in out

    # One activity per line (NDJSON); an activity of another application, or without an actor's email.
    items = [
        gemini_activity("ana@example.com", "2026-11-25T08:00:00Z", "summarize", "docs"),
        gemini_activity("ben@example.com", "2026-11-25T08:00:00Z", "edit", "drive", application="drive"),
        {**gemini_activity("", "2026-11-25T08:00:00Z", "summarize", "docs"), "actor": {"profileId": "1"}},
    ]
    ndjson = "\n".join(json.dumps(item) for item in items)
    code, out, err = usage(capsys, db_url, write(tmp_path, ndjson, "g.ndjson"), "gemini")
    assert code == 2 and out == ""
    assert "line 2: an activity of 'drive', not of gemini_in_workspace_apps" in err
    assert "line 3: missing actor.email" in err
    assert facts(engine) == expected


# --- dates as a spreadsheet in the exporter's locale saves them ------------------------------------------


def _localised(text: str, style: str) -> str:
    """The same report with every ISO date written the locale's way (German dots, UK or US slashes)."""
    import re

    def local(match: re.Match[str]) -> str:
        year, month, day = match.group(1), int(match.group(2)), int(match.group(3))
        if style == "de":
            return f"{day:02d}.{month:02d}.{year}"
        return f"{day}/{month}/{year}" if style == "uk" else f"{month}/{day}/{year}"

    return re.sub(r"(\d{4})-(\d{2})-(\d{2})", local, text)


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize("style", ["de", "uk", "us"])
def test_locale_dates_read_as_the_same_weeks_as_iso_dates(
    style: str, db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = usage(capsys, db_url, write(tmp_path, M365, "iso.csv"), "m365-copilot")
    assert code == 0, err
    iso = facts(engine)
    with Session(engine) as session:
        session.query(UsageFact).delete()
        session.commit()
    localised = write(tmp_path, _localised(M365, style), f"{style}.csv")
    code, out, err = usage(capsys, db_url, localised, "m365-copilot")
    assert code == 0, err
    assert "weekly facts: 8 added" in out
    assert facts(engine) == iso


@pytest.mark.usefixtures("people")
def test_slashed_dates_that_cannot_tell_day_from_month_need_date_order(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every date falls on a day <= 12: 03/11/2026 is 3 November or 11 March.
    ambiguous = M365_HEADER + "03/11/2026,7,Ana@Example.com,Ana,02/11/2026,,,,,,,,\n"
    path = write(tmp_path, ambiguous)
    code, _, err = usage(capsys, db_url, path, "m365-copilot")
    assert code == 2 and count(engine) == 0
    assert err.strip().endswith("say it with --date-order dmy or --date-order mdy.")
    assert "\n" not in err.strip()
    code, out, err = usage(capsys, db_url, path, "m365-copilot", "--date-order", "dmy")
    assert code == 0, err
    assert "weeks of 2026-10-26 to 2026-11-02" in out  # 7 days up to Tuesday 3 November
    assert facts(engine)[(ANA, "m365-copilot", date(2026, 11, 2))] == (True, True)
    # Dates that contradict each other (13/11 is day first, 11/13 month first) stop the import.
    mixed = M365_HEADER + "13/11/2026,7,Ana@Example.com,Ana,11/13/2026,,,,,,,,\n"
    code, _, err = usage(capsys, db_url, write(tmp_path, mixed, "mixed.csv"), "m365-copilot")
    assert code == 2 and "disagree on whether the day or the month comes first" in err
