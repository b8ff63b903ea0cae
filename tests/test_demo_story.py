"""`adoptbot demo` tells one story: one report week, one closed pulse run, usage imported from the vendors'
own export files, and wins true to their authors' roles and tools."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot import clock
from bot.cli import main
from bot.db import create_db_engine
from bot.models import Person, PulseRun, Team, UsageFact, Win
from bot.usage.parsers import parse_usage

# A Wednesday: the demo's now is Monday 23 Nov 09:00 (UTC, the default time zone), its report week 2026-W47.
DEMO_DAY = datetime(2026, 11, 25, 14, 30)
REPORT_WEEK = "2026-W47"
SMALL = ("--teams", "3", "--members", "30", "--weeks", "8")
M365_HEADER = (
    "\ufeffReport Refresh Date,Report Period,User Principal Name,Display Name,Last Activity Date,"
    "Microsoft Teams Copilot Last Activity Date,"
)
GITHUB_HEADER = "report_time,login,email,last_authenticated_at,last_activity_at,last_surface_used\n"


def demo(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with clock.frozen_at(DEMO_DAY):
        code = main(["demo", *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def sqlite_session(path: Path) -> tuple[Engine, Session]:
    engine = create_db_engine(f"sqlite:///{path}")
    return engine, Session(engine)


@pytest.mark.parametrize("later", [timedelta(days=3), timedelta(weeks=5)])
def test_every_output_is_the_metrics_of_one_week_and_one_closed_run(
    later: timedelta, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "demo"
    printed = demo(capsys, *SMALL, "--out", str(out_dir))
    metrics_csv = (out_dir / "metrics.csv").read_text()

    # Any later day, `adoptbot metrics` gives exactly the CSV the demo wrote for its report week.
    with clock.frozen_at(DEMO_DAY + later):
        code = main(
            [
                "metrics",
                "--db",
                f"sqlite:///{out_dir / 'adoptbot.db'}",
                "--week",
                REPORT_WEEK,
                "--format",
                "csv",
            ]
        )
    assert code == 0
    assert capsys.readouterr().out == metrics_csv

    rows = list(csv.DictReader(io.StringIO(metrics_csv)))
    total = rows[-1]
    assert {r["week"] for r in rows} == {REPORT_WEEK} and total["team"] == "*"
    assert total["pulse"] and total["suppressed"] == "false" and total["readiness"]
    run_id = int(total["pulse"])
    engine, session = sqlite_session(out_dir / "adoptbot.db")
    with session:
        run = session.get(PulseRun, run_id)
        newest = session.scalar(select(PulseRun.id).order_by(PulseRun.opened_at.desc()))
    engine.dispose()
    # The run was closed when the demo reported it (its now: Monday 09:00), and it is the newest.
    assert run is not None and run.closed_at is not None and not run.is_open(datetime(2026, 11, 23, 9))
    assert newest == run_id

    # digest.json (and the digest printed, and its chart, made from the same digest) shows that run.
    payload = json.loads((out_dir / "digest.json").read_text())
    text = json.dumps(payload["blocks"], ensure_ascii=False)
    assert f"AI adoption digest · {REPORT_WEEK}" in text
    assert f"Survey: pulse #{run_id}, closed " in text
    assert f"{int(total['respondents'])} of {int(total['invited'])} answered." in text
    assert f"{float(total['readiness']):.2f} out of 5" in text
    assert "still open" not in text
    assert f"Adoption metrics, week {REPORT_WEEK} (pulse run #{run_id})\n" in printed
    assert f"week {REPORT_WEEK}\n" in printed and f"Survey: pulse #{run_id}, closed " in printed


def test_usage_comes_from_vendor_export_files_imported_as_a_customer_imports_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "demo"
    printed = demo(capsys, "--out", str(out_dir), "--seed", "7")
    folder = out_dir / "usage-reports"
    files = sorted(folder.glob("*.csv"))
    m365 = [f for f in files if f.name.startswith("m365-copilot-")]
    github = [f for f in files if f.name.startswith("github-copilot-")]
    assert len(m365) == len(github) == 8 and len(files) == 16  # one report a week per tool
    assert all(f.read_text(encoding="utf-8").startswith(M365_HEADER) for f in m365)
    assert all(f.read_text(encoding="utf-8").startswith(GITHUB_HEADER) for f in github)
    assert f"The reports are in {folder}" in printed

    engine, session = sqlite_session(out_dir / "adoptbot.db")
    with session:
        email_of = {id_: email for id_, email in session.execute(select(Person.id, Person.email))}
        role_of = {email: role for email, role in session.execute(select(Person.email, Person.role))}
        team_of = {
            email: team
            for email, team in session.execute(
                select(Person.email, Team.name).join(Team, Person.team_id == Team.id)
            )
        }
        stored = {
            (email_of[f.person_id], f.tool, f.week): (f.licensed, f.active)
            for f in session.scalars(select(UsageFact))
        }
    engine.dispose()

    # What is stored is exactly what the files say, read the way `adoptbot usage import` reads them.
    from_files: dict[tuple[str, str, date], tuple[bool, bool]] = {}
    for path, source in [(f, "m365-copilot") for f in m365] + [(f, "github-copilot") for f in github]:
        parsed = parse_usage(path.read_text(encoding="utf-8-sig"), source, ["m365-copilot", "github-copilot"])
        assert parsed.errors == []
        for row in parsed.rows:
            assert row.email is not None
            for week in row.licensed:
                active = from_files.get((row.email, row.tool, week), (True, False))[1]
                from_files[(row.email, row.tool, week)] = (True, active or week in row.active)
    assert stored == from_files and len(stored) > 500

    # Importing a file again changes nothing: the demo imported each one.
    for path in (m365[-1], github[-1]):
        source = "m365-copilot" if path in m365 else "github-copilot"
        code = main(
            ["usage", "import", str(path), "--source", source, "--db", f"sqlite:///{out_dir / 'adoptbot.db'}"]
        )
        assert code == 0 and "0 added, 0 changed" in capsys.readouterr().out

    # Microsoft 365 Copilot: everyone, rolled out over the weeks; use rising, uneven by team.
    weeks = sorted({w for _, tool, w in stored if tool == "m365-copilot"})
    licensed: dict[date, set[str]] = defaultdict(set)
    active: dict[date, set[str]] = defaultdict(set)
    for (email, tool, week), (has_licence, used) in stored.items():
        if tool == "m365-copilot" and has_licence:
            licensed[week].add(email)
        if tool == "m365-copilot" and used:
            active[week].add(email)
    assert len(weeks) == 8 and len(licensed[weeks[0]]) < len(licensed[weeks[-1]]) == 120
    first, last = (
        len(active[weeks[0]]) + len(active[weeks[1]]),
        len(active[weeks[-2]]) + len(active[weeks[-1]]),
    )
    assert last > 1.5 * first
    # One team sits on idle licences: licensed in the report week, unused in the four weeks to it.
    recent = set().union(*(active[w] for w in weeks[-4:]))
    idle_by_team: dict[str, list[bool]] = defaultdict(list)
    for email in licensed[weeks[-1]]:
        idle_by_team[team_of[email]].append(email not in recent)
    idle_share = {team: sum(flags) / len(flags) for team, flags in idle_by_team.items()}
    worst = max(idle_share, key=lambda team: idle_share[team])
    assert idle_share[worst] >= 0.5 and sorted(idle_share.values())[-2] < idle_share[worst] / 2
    # It is the team whose pulse says knowledge is the barrier: they want it, and don't know how yet.
    metrics = list(csv.DictReader(io.StringIO((out_dir / "metrics.csv").read_text())))
    assert worst in {r["team"] for r in metrics if r["barrier"] == "knowledge"}
    # GitHub Copilot: the engineering role only.
    coders = {email for email, tool, _ in stored if tool == "github-copilot"}
    assert coders and {role_of[email] for email in coders} == {"engineering"}

    # The same seed writes the same files.
    again = tmp_path / "again"
    demo(capsys, "--out", str(again), "--seed", "7")
    assert [(f.name, f.read_bytes()) for f in files] == [
        (f.name, f.read_bytes()) for f in sorted((again / "usage-reports").glob("*.csv"))
    ]


def test_wins_are_true_to_the_authors_role_and_name_a_tool_they_used_that_week(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo(capsys, "--db", db_url, "--teams", "6", "--members", "120", "--weeks", "8", "--seed", "3")
    assert not list(tmp_path.glob("**/usage-reports"))  # no folder: imported without files
    with Session(engine) as session:
        wins = session.execute(
            select(Win.what, Win.tool, Win.submitted_at, Person.role, Person.id).join(
                Person, Person.id == Win.author_id
            )
        ).all()
        used = {
            (f.person_id, f.tool, f.week)
            for f in session.scalars(select(UsageFact).where(UsageFact.active.is_(True)))
        }
    tool_ids = {"Microsoft 365 Copilot": "m365-copilot", "GitHub Copilot": "github-copilot"}
    assert len(wins) >= 10 and {tool for _, tool, *_ in wins} == set(tool_ids)
    by_role: dict[str, set[str]] = defaultdict(set)
    for what, tool, submitted, role, person_id in wins:
        monday = submitted.date() - timedelta(days=submitted.weekday())
        assert (person_id, tool_ids[tool], monday) in used, (what, role)
        by_role[role].add(what)
    assert len(by_role) >= 4
    # No two roles tell the same story, and no one but an engineer writes code with GitHub Copilot.
    for role, stories in by_role.items():
        assert all(not stories & others for other, others in by_role.items() if other != role)
    assert all(role == "engineering" for _, tool, _, role, _ in wins if tool == "GitHub Copilot")
    assert not [w for w in wins if "billing service" in w.what and w.role != "engineering"]
