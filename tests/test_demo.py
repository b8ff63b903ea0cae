"""`adoptbot demo`: a believable synthetic organisation, offline, the same for the same seed."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config import Settings
from bot.db import create_db_engine
from bot.demo import service as demo
from bot.demo.bulk import HISTORY_TABLES
from bot.models import Person, Team, TeamLead
from bot.people.roster import is_timezone


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def roster_of(path: Path) -> list[tuple[object, ...]]:
    engine = create_db_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        rows = session.execute(
            select(
                Person.slack_user_id,
                Person.name,
                Person.email,
                Team.name,
                Person.role,
                Person.timezone,
                Person.slack_timezone,
                Person.started_on,
                Person.is_change_manager,
                Person.leads_all,
            )
            .join(Team, Person.team_id == Team.id)
            .order_by(Person.slack_user_id)
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_demo_builds_a_fresh_organisation_and_prints_a_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "demo", "--out", str(tmp_path / "org"), "--weeks", "3")

    assert code == 0, err
    engine = create_db_engine(f"sqlite:///{tmp_path / 'org' / 'adoptbot.db'}")
    with Session(engine) as session:
        people = session.scalars(select(Person)).all()
        teams = session.scalars(select(Team)).all()
        leads = session.execute(select(TeamLead.team_id, TeamLead.person_id)).all()
        assert len(people) == 120 and len(teams) == 6
        assert {t.name for t in teams} == {
            "Sales EMEA",
            "Platform Engineering",
            "Customer Support",
            "Marketing",
            "Finance",
            "People & HR",
        }
        assert sorted(team_id for team_id, _ in leads) == sorted(t.id for t in teams)  # one leader per team
        by_id = {p.id: p for p in people}
        assert all(
            by_id[person_id].team_id == team_id for team_id, person_id in leads
        )  # leads their own team
        assert [p.role for p in people if p.leads_all] == ["leadership"]
        assert 2 <= sum(p.is_change_manager for p in people) <= 3
        assert all(is_timezone(p.effective_timezone("UTC")) for p in people)
        continents = {p.effective_timezone("UTC").split("/")[0] for p in people}
        assert {"America", "Europe", "Asia", "Australia"} <= continents
        sales = [p for p in people if p.team and p.team.name == "Sales EMEA"]
        assert sum(p.role == "sales" for p in sales) > 0.7 * len(sales)  # roles match the team
        assert len({p.email for p in people}) == 120 and all(p.email.endswith("@example.com") for p in people)
    engine.dispose()

    assert out.startswith("Adoptbot demo: 6 teams, 120 people, 3 weeks of history (seed 42)")
    lines = out.splitlines()
    header = lines.index("Teams") + 2
    assert lines[header].split() == ["team", "members", "roles", "time", "zones", "leader"]
    table = [re.split(r"\s{2,}", line) for line in lines[header + 2 : header + 8]]
    assert sorted(cells[0] for cells in table) == sorted(t.name for t in teams)
    assert sum(int(cells[1]) for cells in table) == 120
    leaders = {by_id[person_id].name for _, person_id in leads}
    assert {cells[4] for cells in table} == leaders
    assert "120 people in 6 teams. Org-wide leader (leads every team):" in out
    progress = err.splitlines()
    assert progress and all(line.startswith("demo: ") for line in progress)
    assert "demo: 6 teams, 120 people" in progress


def test_the_same_seed_gives_the_same_organisation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        code, _, err = run(
            capsys,
            "demo",
            "--out",
            str(tmp_path / name),
            "--seed",
            seed,
            "--teams",
            "9",
            "--members",
            "90",
            "--weeks",
            "2",
        )
        assert code == 0, err
    first, second, other = (roster_of(tmp_path / n / "adoptbot.db") for n in "abc")
    assert first == second
    assert len(first) == len(other) == 90
    assert [row[1] for row in first] != [row[1] for row in other]


def test_a_new_run_replaces_the_old_demo_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "demo"
    assert run(capsys, "demo", "--out", str(out_dir), "--members", "50", "--weeks", "1")[0] == 0
    code, _, err = run(
        capsys, "demo", "--out", str(out_dir), "--members", "30", "--teams", "3", "--weeks", "1"
    )
    assert code == 0, err
    assert len(roster_of(out_dir / "adoptbot.db")) == 30


def test_default_folder_is_adoptbot_demo_in_the_working_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "demo", "--members", "12", "--teams", "2", "--weeks", "1")
    assert code == 0
    assert (tmp_path / "adoptbot-demo" / "adoptbot.db").is_file()
    assert "Explore it: adoptbot roster teams --db sqlite:///adoptbot-demo/adoptbot.db" in out


def keys_and_indexes(engine: Engine) -> dict[str, object]:
    """The history tables' primary keys, unique constraints, foreign keys and indexes (from the catalog)."""
    found = inspect(engine)
    return {
        table: (
            found.get_pk_constraint(table),
            sorted(found.get_unique_constraints(table), key=repr),
            sorted(found.get_foreign_keys(table), key=repr),
            sorted(found.get_indexes(table), key=repr),
        )
        for table in HISTORY_TABLES
    }


def test_demo_seeds_an_empty_database_given_with_db_and_refuses_a_used_one(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    migrated = keys_and_indexes(engine)
    code, _, err = run(capsys, "demo", "--db", db_url, "--teams", "12", "--members", "300", "--weeks", "2")
    assert code == 0, err
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 300
        assert session.scalar(select(func.count(func.distinct(Person.team_id)))) == 12
    # PostgreSQL's seeding drops the history tables' keys and indexes, and puts every one back
    engine.dispose()
    assert keys_and_indexes(engine) == migrated
    assert all(pk["constrained_columns"] == ["id"] for pk, *_ in migrated.values())  # type: ignore[index]

    code, out, err = run(capsys, "demo", "--db", db_url)
    assert (code, out) == (2, "")
    assert err == (
        "adoptbot: the database already has 300 people; the demo only seeds an empty database "
        "(leave out --db to get a fresh SQLite file).\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--teams", "0"], "--teams must be between 1 and 1,000, not 0."),
        (["--teams", "10", "--members", "5"], "--members must be between --teams (10) and 200,000, not 5."),
        (["--weeks", "0"], "--weeks must be between 1 and 104, not 0."),
    ],
)
def test_bad_demo_options(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "demo", "--out", str(tmp_path / "x"), *argv)
    assert (code, out, err) == (2, "", f"adoptbot: {message}\n")
    assert not (tmp_path / "x" / "adoptbot.db").exists()


def test_large_organisations_get_distinct_believable_team_names() -> None:
    names = [t.name for t in demo.team_templates(250)]
    assert len(set(names)) == 250
    assert names[:6] == [
        "Sales EMEA",
        "Platform Engineering",
        "Customer Support",
        "Marketing",
        "Finance",
        "People & HR",
    ]
    assert {"Sales DACH", "Customer Support Japan", "Payments Engineering"} <= set(names)
    assert all(is_timezone(tz) for t in demo.team_templates(250) for tz in t.timezones)


def test_demo_now_is_monday_nine_in_the_org_time_zone() -> None:
    tokyo = dataclasses.replace(Settings(), timezone="Asia/Tokyo")
    assert demo.demo_now(tokyo, today=date(2026, 11, 26)) == datetime(2026, 11, 23, 0, 0)  # Mon 09:00 JST
    berlin = dataclasses.replace(Settings(), timezone="Europe/Berlin")
    assert demo.demo_now(berlin, today=date(2026, 11, 23)) == datetime(2026, 11, 23, 8, 0)


def test_registered_steps_and_sections_extend_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(demo, "DEMO_STEPS", list(demo.DEMO_STEPS))
    monkeypatch.setattr(demo, "REPORT_SECTIONS", list(demo.REPORT_SECTIONS))
    seen: dict[str, object] = {}

    @demo.demo_step
    def count_people(ctx: demo.DemoContext) -> None:
        """Counting people."""
        seen.update(people=len(ctx.persons), weeks=ctx.week_starts, end=ctx.end, now=ctx.now)

    @demo.report_section("Head count")
    def head_count(ctx: demo.DemoContext) -> str:
        return f"{sum(len(ids) for ids in ctx.people.values())} people counted"

    code, out, err = run(
        capsys, "demo", "--out", str(tmp_path / "d"), "--members", "20", "--teams", "2", "--weeks", "4"
    )

    assert code == 0, err
    assert seen["people"] == 20
    weeks, end, now = seen["weeks"], seen["end"], seen["now"]
    assert isinstance(weeks, list) and isinstance(end, date) and isinstance(now, datetime)
    assert len(weeks) == 4 and all(w.weekday() == 0 for w in weeks) and (end - weeks[-1]).days == 7
    assert out.index("Teams\n=====") < out.index("Head count\n==========\n20 people counted")
    assert any(line.startswith("demo: Counting people (") for line in err.splitlines())
