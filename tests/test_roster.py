"""`adoptbot roster import|list|teams`: upserts all or nothing, with every bad row named by its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.models import Person, Team, TeamLead
from bot.people.roster import import_roster, parse_roster

ROLES = ("sales", "engineering", "support", "leadership")


@pytest.fixture(autouse=True)
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small content library of our own (CONTENT_DIR): the roles a roster may use are the library's."""
    folder = tmp_path / "content"
    (folder / "nudges").mkdir(parents=True)
    (folder / "pulses").mkdir()
    (folder / "roles.toml").write_text("".join(f'[roles.{r}]\nname = "{r.title()}"\n' for r in ROLES))
    (folder / "nudges" / "all.toml").write_text(
        f'[[nudge]]\nid = "first"\nroles = {list(ROLES)!r}\nlevel = 1\nstage = "awareness"\n'.replace(
            "'", '"'
        )
        + 'title = "Summarise a meeting"\nbody = "Ask an assistant to summarise your last meeting."\n'
    )
    (folder / "pulses" / "pulse.toml").write_text(
        'id = "pulse"\ntitle = "Pulse"\ncadence_weeks = 2\n[[question]]\nid = "why"\n'
        'text = "I know why we use AI."\nkind = "scale"\nstage = "awareness"\n'
    )
    monkeypatch.setenv("CONTENT_DIR", str(folder))
    return folder


def write(tmp_path: Path, text: str, name: str = "roster.csv", *, bom: bool = False) -> Path:
    path = tmp_path / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def people(engine: Engine) -> dict[str, Person]:
    """Everyone, keyed by Slack ID (or email for people without one)."""
    with Session(engine) as session:
        found = session.scalars(select(Person)).all()
        for person in found:
            _ = person.team, person.led_teams
        return {p.slack_user_id or p.email or "?": p for p in found}


def counts(engine: Engine) -> tuple[int, int, int, int]:
    with Session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Person)) or 0,
            session.scalar(select(func.count()).select_from(Person).where(Person.is_active)) or 0,
            session.scalar(select(func.count()).select_from(Team)) or 0,
            session.scalar(select(func.count()).select_from(TeamLead)) or 0,
        )


HEADER = "slack_user_id,email,name,team,role,timezone,leads,change_manager\n"
GOOD = (
    HEADER
    + "U0AAA1,ana@example.com,Ana Silva,Sales EMEA,sales,Europe/Lisbon,,false\n"
    + "U0AAA2,,Ben Okafor,Platform Engineering,engineering,,Platform Engineering,yes\n"
    + ",cara@example.com,Cara Lee,Customer Support,support,Asia/Tokyo,Customer Support;Sales EMEA,\n"
    + "U0AAA4,dev@example.com,Dev Patel,Leadership,leadership,America/New_York,*,TRUE\n"
)


def test_import_creates_people_teams_and_leads(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)

    assert (code, err) == (0, "")
    assert "4 added, 0 updated, 0 deactivated, 0 unchanged" in out
    assert "New teams (4): Sales EMEA, Platform Engineering, Customer Support, Leadership" in out
    found = people(engine)
    assert set(found) == {"U0AAA1", "U0AAA2", "cara@example.com", "U0AAA4"}
    ana, ben, cara, dev = found["U0AAA1"], found["U0AAA2"], found["cara@example.com"], found["U0AAA4"]
    assert (ana.name, ana.email, ana.role, ana.timezone, ana.team and ana.team.name) == (
        "Ana Silva",
        "ana@example.com",
        "sales",
        "Europe/Lisbon",
        "Sales EMEA",
    )
    assert cara.slack_user_id is None and cara.is_active  # email only: `roster sync` fills the Slack ID later
    assert [t.name for t in ben.led_teams] == ["Platform Engineering"] and ben.is_change_manager
    assert sorted(t.name for t in cara.led_teams) == ["Customer Support", "Sales EMEA"]
    assert not cara.is_change_manager and not ana.is_change_manager
    assert dev.leads_all and dev.is_change_manager and not dev.led_teams
    assert ben.timezone is None  # empty: Slack's time zone, else ADOPTBOT_TIMEZONE, applies


def test_reimport_updates_in_place(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)[0] == 0
    ids = {key: p.id for key, p in people(engine).items()}
    changed = (
        HEADER
        + "U0AAA1,ana@example.com,Ana Silva,Sales EMEA,sales,Europe/Lisbon,,false\n"  # unchanged
        + "u0aaa2,,,Customer Support,support,,,no\n"  # moved team, lost leads; lower-case ID; blank name kept
        + ",CARA@example.com,Cara Lee,Customer Support,support,Asia/Tokyo,Customer Support;Sales EMEA,\n"
        + "U0AAA4,dev@example.com,Dev Patel,Leadership,leadership,America/New_York,*,TRUE\n"
        + "U0AAA5,eve@example.com,Eve Adams,Sales EMEA,sales,,,0\n"  # new
    )
    code, out, _ = run(capsys, "roster", "import", str(write(tmp_path, changed)), "--db", db_url)

    assert code == 0
    assert "1 added, 1 updated, 0 deactivated, 3 unchanged" in out
    found = people(engine)
    assert {key: found[key].id for key in ids} == ids  # same rows, updated in place
    ben = found["U0AAA2"]
    assert (ben.name, ben.team and ben.team.name, ben.role, ben.led_teams, ben.is_change_manager) == (
        "Ben Okafor",
        "Customer Support",
        "support",
        [],
        False,
    )
    assert counts(engine) == (5, 5, 4, 2)


def test_email_only_person_is_matched_by_email_when_the_slack_id_arrives(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)
    cara_id = people(engine)["cara@example.com"].id
    later = HEADER + "U0CARA,Cara@Example.com,,Customer Support,support,Asia/Tokyo,Customer Support,\n"

    code, out, _ = run(capsys, "roster", "import", str(write(tmp_path, later)), "--db", db_url)

    assert code == 0 and "0 added, 1 updated" in out
    cara = people(engine)["U0CARA"]
    assert (cara.id, cara.email, cara.name) == (cara_id, "cara@example.com", "Cara Lee")
    assert [t.name for t in cara.led_teams] == ["Customer Support"]  # leads replaced by the file's


def test_prune_deactivates_people_absent_from_the_file_and_reimport_reactivates(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)
    only_ana = HEADER + "U0AAA1,ana@example.com,Ana Silva,Sales EMEA,sales,Europe/Lisbon,,false\n"

    code, out, _ = run(capsys, "roster", "import", str(write(tmp_path, only_ana)), "--db", db_url)
    assert code == 0 and "0 added, 0 updated, 0 deactivated, 1 unchanged" in out
    assert counts(engine)[:2] == (4, 4)  # without --prune nobody is deactivated

    code, out, _ = run(
        capsys, "roster", "import", str(write(tmp_path, only_ana)), "--prune", "--force", "--db", db_url
    )  # 3 of 4 is more than the quarter --prune takes without --force
    assert code == 0 and "0 added, 0 updated, 3 deactivated, 1 unchanged" in out
    assert {k for k, p in people(engine).items() if p.is_active} == {"U0AAA1"}

    code, out, _ = run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)
    assert code == 0 and "0 added, 3 updated, 0 deactivated, 1 unchanged" in out
    assert counts(engine)[:2] == (4, 4)


def test_a_led_team_may_exist_only_in_the_database(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)
    leader = HEADER + "U0BOSS,,Boss,Leadership,leadership,,platform engineering; SALES emea,\n"

    code, out, err = run(capsys, "roster", "import", str(write(tmp_path, leader)), "--db", db_url)

    assert (code, err) == (0, ""), err
    assert sorted(t.name for t in people(engine)["U0BOSS"].led_teams) == [
        "Platform Engineering",
        "Sales EMEA",
    ]
    assert "New teams" not in out  # teams match whatever their case


BAD_ROWS = [
    ("U0BAD1,,Zed,,sales,,,", "missing team"),
    ("U0BAD1,,Zed,Sales EMEA,,,,", "missing role (one of: engineering, leadership, sales, support)"),
    (
        "U0BAD1,,Zed,Sales EMEA,pilot,,,",
        "unknown role 'pilot' (known roles: engineering, leadership, sales, support)",
    ),
    ("U0BAD1,,Zed,Sales EMEA,sales,Europe/Atlantis,,", "bad time zone 'Europe/Atlantis'"),
    ("U0BAD1,,Zed,Sales EMEA,sales,America,,", "bad time zone 'America'"),
    ("U0BAD1,zed-at-example.com,Zed,Sales EMEA,sales,,,", "bad email 'zed-at-example.com'"),
    ("X-123,,Zed,Sales EMEA,sales,,,", "bad slack_user_id 'X-123'"),
    ("U0BAD1,,Zed,Sales EMEA,sales,,,maybe", "bad change_manager value 'maybe' (use true or false)"),
    (",,Zed,Sales EMEA,sales,,,", "neither slack_user_id nor email"),
    ("U0BAD1,,Zed,Sales EMEA,sales,,Narnia,", "leads unknown team 'Narnia'"),
    ("U0AAA1,,Ana again,Sales EMEA,sales,,,", "duplicate person U0AAA1 (also on line 2)"),
    (
        "U0BAD1,ANA@example.com,Ana twin,Sales EMEA,sales,,,",
        "duplicate person ana@example.com (also on line 2)",
    ),
    ("U0BAD1,ben@example.com,Zed,Sales EMEA,sales,,,,,", "10 fields but the header has 8"),
]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS, ids=[r for _, r in BAD_ROWS])
def test_a_bad_row_aborts_the_whole_import(
    row: str, reason: str, db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)
    before = counts(engine)
    # Line 2 alone would rename Ana and create a team; the bad row on line 3 must stop that too.
    text = HEADER + "U0AAA1,ana@example.com,Ana Renamed,Brand New Team,sales,,,\n" + row + "\n"

    code, out, err = run(capsys, "roster", "import", str(write(tmp_path, text)), "--prune", "--db", db_url)

    assert code == 2 and out == ""
    assert err.strip().splitlines() == [f"adoptbot: line 3: {err.split('line 3: ', 1)[1].strip()}"]
    assert f"line 3: {reason}" in err and "nothing was imported" in err
    assert counts(engine) == before
    assert people(engine)["U0AAA1"].name == "Ana Silva"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (
            "U0AAA9,ana@example.com,Other,Sales EMEA,sales,,,",
            "email ana@example.com belongs to Slack user U0AAA1",
        ),
        (
            "U0AAA2,dev@example.com,Ben,Sales EMEA,sales,,,",
            "email dev@example.com already belongs to another person",
        ),
        (",dev@example.com,Dev,Sales EMEA,sales,,,", "same person as line 2"),
    ],
)
def test_rows_that_contradict_the_database(
    row: str, reason: str, db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)
    before = counts(engine)
    text = HEADER + "U0AAA4,,Dev Patel,Leadership,leadership,,*,true\n" + row + "\n"

    code, _, err = run(capsys, "roster", "import", str(write(tmp_path, text)), "--db", db_url)

    assert code == 2 and f"line 3: {reason}" in err
    assert counts(engine) == before


def test_every_bad_row_is_listed_in_file_order(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        HEADER
        + "U0AAA1,,Ana,Sales,sales,,Nowhere,\n"  # line 2: DB-level check (unknown led team)
        + "U0AAA2,,Ben,Sales,pilot,,,\n"  # line 3
        + "U0AAA3,,Cy,Sales,sales,,,\n"  # fine
        + "U0AAA4,,Di,Sales,sales,Mars/Base,,\n"  # line 5
    )
    code, out, err = run(capsys, "roster", "import", str(write(tmp_path, text)), "--db", db_url)

    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert lines[0].endswith("3 bad rows:")
    assert [line.split(":")[0].strip() for line in lines[1:4]] == ["line 2", "line 3", "line 5"]
    assert lines[-1].startswith("adoptbot: line 2: leads unknown team 'Nowhere'")
    assert lines[-1].endswith("(and 2 more errors); nothing was imported.")
    assert counts(engine) == (0, 0, 0, 0)


def test_excel_style_file_bom_crlf_quotes_and_blank_lines(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "Slack User ID,Name,Team,Role,Time Zone,Leads,Change Manager,Notes\r\n"  # line 1
        'U0XL1,"Smith, ""JJ""",Sales EMEA,sales,,,,"two\r\nlines"\r\n'  # lines 2-3
        "\r\n"  # line 4
        'U0XL2,"O\'Neil\nJunior",Sales EMEA,sales,,,,\r\n'  # lines 5-6
        "U0XL3,Ok,Sales EMEA,sales,,,,\r\n"  # line 7
    )
    path = write(tmp_path, text, bom=True)
    code, out, err = run(capsys, "roster", "import", str(path), "--db", db_url)
    assert (code, err) == (0, "")
    assert "3 added" in out
    assert people(engine)["U0XL1"].name == 'Smith, "JJ"'
    assert people(engine)["U0XL2"].name == "O'Neil\nJunior"

    bad = (
        text
        + '"U0XL4","multi\r\nline\r\nname",Sales EMEA,sales,,,,\r\n\r\nU0XL5,Bad,Sales EMEA,pilot,,,,\r\n'
    )
    code, _, err = run(capsys, "roster", "import", str(write(tmp_path, bad, bom=True)), "--db", db_url)
    assert code == 2
    assert "adoptbot: line 12: unknown role 'pilot'" in err  # 8-10 hold one record, 11 is blank


def test_semicolon_separated_file_from_a_european_excel(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        "slack_user_id;name;team;role;leads\n"
        'U0EU1;Jörg Müller;Vertrieb DACH;sales;"Vertrieb DACH;Marketing DACH"\n'
        "U0EU2;Zoë Dubois;Marketing DACH;sales;\n"
    )
    code, _, err = run(capsys, "roster", "import", str(write(tmp_path, text)), "--db", db_url)
    assert (code, err) == (0, "")
    jorg = people(engine)["U0EU1"]
    assert (jorg.name, sorted(t.name for t in jorg.led_teams)) == (
        "Jörg Müller",
        ["Marketing DACH", "Vertrieb DACH"],
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            "slack_user_id,name,role\nU0A1,Ann,sales\n",
            "missing required column 'team' in the header (line 1)",
        ),
        (
            "slack_user_id,name,team\nU0A1,Ann,Sales\n",
            "missing required column 'role' in the header (line 1)",
        ),
        ("name,team,role\nAnn,Sales,sales\n", "missing required column 'slack_user_id' (or 'email')"),
        ("", "is empty; it needs a header row"),
        ("\n\n", "is empty; it needs a header row"),
        ("team,role,team,slack_user_id\n", "has the column 'team' twice"),
    ],
)
def test_a_file_without_the_required_columns_is_refused(
    content: str, message: str, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "roster", "import", str(write(tmp_path, content)), "--db", db_url)
    assert code == 2 and out == ""
    assert err.startswith("adoptbot: roster.csv") and message in err and len(err.strip().splitlines()) == 1


def test_unreadable_files_are_one_line_errors(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("slack_user_id,name,team,role\nU0A1,Jörg,Sales,sales\n".encode("latin-1"))
    code, _, err = run(capsys, "roster", "import", str(latin1), "--db", db_url)
    assert code == 2 and "line 2 is not UTF-8 text" in err and len(err.splitlines()) == 1

    code, _, err = run(capsys, "roster", "import", str(tmp_path / "missing.csv"), "--db", db_url)
    assert code == 2 and "missing.csv: no such file" in err


def test_command_line_exit_code_and_no_traceback(db_url: str, tmp_path: Path, library: Path) -> None:
    path = write(tmp_path, HEADER + "U0AAA1,,Ana,Sales,pilot,,,\n")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "roster", "import", str(path), "--db", db_url],
        capture_output=True,
        text=True,
        check=False,
        env={"CONTENT_DIR": str(library), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        "adoptbot: line 2: unknown role 'pilot' (known roles: engineering, leadership, sales, support); "
        "nothing was imported."
    )


def test_import_uses_a_constant_number_of_statements(engine: Engine) -> None:
    """10,000 rows must take seconds: bulk statements, never one query per row."""
    rows = "".join(
        f"U0P{i:05d},p{i}@example.com,Person {i},Team {i % 20},sales,,Team {i % 20},\n" for i in range(600)
    )
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    parsed = parse_roster(HEADER + rows, ROLES)
    event.listen(engine, "before_cursor_execute", count)
    with Session(engine) as session:
        first = import_roster(session, parsed)
        session.commit()
    inserts = len(statements)
    statements.clear()
    changed = parse_roster(HEADER + rows.replace(",sales,", ",support,"), ROLES)
    with Session(engine) as session:
        second = import_roster(session, changed)
        session.commit()
    event.remove(engine, "before_cursor_execute", count)

    assert (first.added, second.updated) == (600, 600)
    assert inserts < 25, statements
    assert len(statements) < 25, statements


def test_list_and_teams_show_the_roster(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)

    code, out, _ = run(capsys, "roster", "list", "--db", db_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["name", "slack", "id", "email", "team", "role", "time", "zone", "leads"]
    ben = next(line for line in lines if line.startswith("Ben Okafor"))
    assert "Platform Engineering" in ben and "change manager" in ben
    dev = next(line for line in lines if line.startswith("Dev Patel"))
    assert " * " in dev and "America/New_York" in dev
    assert lines[-1] == "4 people"

    code, out, _ = run(capsys, "roster", "list", "--team", "customer support", "--db", db_url)
    assert code == 0 and "Cara Lee" in out and "Ana Silva" not in out and out.splitlines()[-1] == "1 person"

    code, out, err = run(capsys, "roster", "list", "--team", "Narnia", "--db", db_url)
    assert code == 2 and "no team named 'Narnia'" in err and "Customer Support" in err

    code, out, _ = run(capsys, "roster", "teams", "--db", db_url)
    assert code == 0
    platform = next(line for line in out.splitlines() if line.startswith("Platform Engineering"))
    assert platform.split()[2] == "1" and "engineering 1" in platform and platform.endswith("Ben Okafor")
    sales = next(line for line in out.splitlines() if line.startswith("Sales EMEA"))
    assert sales.endswith("Cara Lee")
    assert "Org-wide leaders (every team): Dev Patel." in out


def test_csv_export_imports_back_unchanged(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)

    code, exported, _ = run(capsys, "roster", "list", "--format", "csv", "--db", db_url)
    assert code == 0
    assert exported.splitlines()[0] == (
        "slack_user_id,email,name,team,role,timezone,leads,change_manager,tools,locale,"
        "active,slack_timezone,away_until,slack_locale"
    )
    cara = ",cara@example.com,Cara Lee,Customer Support,support,Asia/Tokyo,Customer Support;Sales EMEA,"
    assert cara + "false,,,true" in exported
    code, out, _ = run(
        capsys, "roster", "import", str(write(tmp_path, exported, "export.csv")), "--db", db_url
    )
    assert code == 0 and "0 added, 0 updated, 0 deactivated, 4 unchanged" in out

    code, out, _ = run(capsys, "roster", "teams", "--format", "csv", "--db", db_url)
    assert "Customer Support,1,0,support 1,Asia/Tokyo 1,Cara Lee" in out.splitlines()


def test_empty_roster_says_how_to_start(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "roster", "list", "--db", db_url)
    assert code == 0 and "import a roster with `adoptbot roster import FILE.csv`" in out
