"""`adoptbot usage import`: vendors' usage reports become weekly facts per person and tool, all or nothing.

Fixtures use each vendor's own column names; the CLI is run as a person runs it, on real databases.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

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
    assert "GitHub's activity report names logins only" in out
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
        "2026-11-29,28,ben@example.com,Ben,20/11/2026,,,,,,,,\n"
        "2026-11-29,28,,Nobody,,,,,,,,,\n"
    )
    code, out, err = usage(capsys, db_url, write(tmp_path, bad), "m365-copilot")
    assert code == 2 and out == ""
    assert "line 3: bad Last Activity Date '20/11/2026' (use YYYY-MM-DD" in err
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
