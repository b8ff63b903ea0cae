"""Dangerous operations ask first: a pruning import that would empty the roster is refused, a dry run changes
nothing, commands that only read never create nor migrate a database, and bad paths are one sentence."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, select

from bot.cli import main
from bot.db import create_db_engine
from bot.migrate import alembic_config, current_revision
from bot.models import Person, Team, TeamLead
from tests.test_content import edited, write_library
from tests.test_roster import GOOD, HEADER, library, write

__all__ = ["library"]  # the roster tests' content library (CONTENT_DIR), used by every test here

READ_ONLY_COMMANDS = (
    ("metrics",),
    ("digest",),
    ("roster", "list"),
    ("roster", "teams"),
    ("pulse", "status"),
    ("tick", "--dry-run"),  # a dry run changes nothing, the schema included
    ("forget", "U012AB3CD", "--dry-run"),
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(engine: Engine) -> tuple[Any, ...]:
    """Everything an import may change: people (with their rights), teams, leads."""
    with engine.connect() as connection:
        people = connection.execute(select(Person.__table__).order_by(Person.id)).all()
        teams = connection.execute(select(Team.id, Team.name).order_by(Team.id)).all()
        leads = connection.execute(select(TeamLead.__table__).order_by(TeamLead.person_id)).all()
    return tuple(people), tuple(teams), tuple(leads)


def one_sentence(err: str) -> str:
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_prune_with_a_header_only_file_is_refused_and_changes_nothing(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)[0] == 0
    before = snapshot(engine)

    code, out, err = run(capsys, "roster", "import", str(write(tmp_path, HEADER)), "--prune", "--db", db_url)

    assert code == 2 and out == ""
    assert one_sentence(err) == (
        "adoptbot: --prune would deactivate 4 of the 4 active people, more than a quarter: check the file "
        "(see them with --dry-run), or add --force to do it; nothing was imported."
    )
    assert snapshot(engine) == before


def test_prune_of_a_quarter_or_less_goes_ahead_and_force_allows_more(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)[0] == 0
    three = "".join(GOOD.splitlines(keepends=True)[:4])  # header and the first three people

    code, out, _ = run(capsys, "roster", "import", str(write(tmp_path, three)), "--prune", "--db", db_url)
    assert code == 0 and "1 deactivated" in out  # 1 of 4 is a quarter: allowed

    code, _, err = run(capsys, "roster", "import", str(write(tmp_path, HEADER)), "--prune", "--db", db_url)
    assert code == 2 and "3 of the 3 active people" in err
    code, out, _ = run(
        capsys, "roster", "import", str(write(tmp_path, HEADER)), "--prune", "--force", "--db", db_url
    )
    assert code == 0 and "3 deactivated" in out
    with engine.connect() as connection:
        assert connection.scalar(select(Person.id).where(Person.is_active.is_(True))) is None


def test_dry_run_prints_the_changes_and_changes_nothing(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "roster", "import", str(write(tmp_path, GOOD)), "--db", db_url)[0] == 0
    before = snapshot(engine)
    moved = (
        HEADER
        + "U0AAA1,ana@example.com,Ana Silva,Customer Success,sales,Europe/Lisbon,,false\n"
        + "U0AAA5,eve@example.com,Eve Stone,Sales EMEA,sales,,,false\n"
    )

    code, out, err = run(
        capsys, "roster", "import", str(write(tmp_path, moved)), "--prune", "--dry-run", "--db", db_url
    )

    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == (
        "Dry run, nothing was changed. The import would do: 1 added, 1 updated, 3 deactivated, 0 unchanged."
    )
    assert "New teams (1): Customer Success" in lines
    assert {"  + Eve Stone", "  ~ Ana Silva", "  - Ben Okafor", "  - Cara Lee", "  - Dev Patel"} <= set(lines)
    assert lines[-1].startswith("Without --force the import would stop: --prune would deactivate 3 of the 4")
    assert snapshot(engine) == before


def test_dry_run_of_a_mistyped_database_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "adoptbot-typo.db"
    code, _, err = run(
        capsys, "roster", "import", str(write(tmp_path, GOOD)), "--dry-run", "--db", f"sqlite:///{missing}"
    )
    assert code == 2
    assert one_sentence(err) == f"adoptbot: no Adoptbot database at {missing} (check --db or DATABASE_URL)."
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "roster.csv"]


@pytest.mark.parametrize("argv", READ_ONLY_COMMANDS, ids=lambda argv: " ".join(argv))
def test_a_read_only_command_on_a_mistyped_path_creates_no_database(
    argv: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "adoptbot.bd"
    code, out, err = run(capsys, *argv, "--db", f"sqlite:///{missing}")
    assert code == 2 and out == ""
    assert one_sentence(err) == f"adoptbot: no Adoptbot database at {missing} (check --db or DATABASE_URL)."
    assert not missing.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content"]


def test_read_only_commands_ask_for_an_upgrade_instead_of_migrating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_db_engine(url)
    config = alembic_config()
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.commit()
    try:
        for argv in READ_ONLY_COMMANDS:
            code, out, err = run(capsys, *argv, "--db", url)
            assert code == 2 and out == "", argv
            assert one_sentence(err).startswith(
                f"adoptbot: the database at {tmp_path / 'old.db'} needs an upgrade first: run "
                "`adoptbot db upgrade` (it is at revision 0002"
            ), argv
        assert current_revision(engine) == "0002"
    finally:
        engine.dispose()


def test_a_read_only_command_on_an_empty_file_says_there_is_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    code, _, err = run(capsys, "metrics", "--db", f"sqlite:///{empty}")
    assert code == 2 and "no Adoptbot database at" in one_sentence(err)
    assert empty.stat().st_size == 0


def test_metrics_on_a_csv_file_is_one_sentence_and_leaves_the_file_alone(tmp_path: Path) -> None:
    csv = write(tmp_path, GOOD, "people.csv")
    for argv in (("metrics",), ("roster", "import", str(csv))):
        result = subprocess.run(
            [sys.executable, "-m", "bot", *argv, "--db", "sqlite:///people.csv"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            check=False,
        )
        assert result.returncode == 2, argv
        assert one_sentence(result.stderr) == (
            "adoptbot: people.csv is not an Adoptbot database (it is not an SQLite file)."
        )
    assert csv.read_text() == GOOD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "people.csv"]


def test_demo_out_below_a_file_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--out", "file/sub"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    expected = "adoptbot: --out file/sub: cannot create that folder (Not a directory)."
    assert one_sentence(result.stderr) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "minutes = 10",
            'minutes = 10\nlink = "http://intranet.example.com/ai"',
            "nudges/sales.toml: nudge 'sales-call-prep': link must use https://, not http:// "
            "(it would be read unencrypted): 'http://intranet.example.com/ai'",
        ),
        (
            "about the account",
            "about the account (see <http://intranet.example.com/ai|our guide>)",
            "nudges/sales.toml: nudge 'sales-call-prep': body: links must use https://, not http:// "
            "(near 'http://intranet.example.com/ai')",
        ),
    ],
    ids=["link", "body"],
)
def test_content_check_refuses_http_links(
    old: str, new: str, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_library(tmp_path / "lib", edited("nudges/sales.toml", old, new))
    code, out, err = run(capsys, "content", "check", str(folder))
    assert code == 2 and out == ""
    assert f"lib/{expected}" in err.splitlines()  # the folder as typed: relative to the working folder
    fixed = write_library(
        tmp_path / "ok", edited("nudges/sales.toml", old, new.replace("http://", "https://"))
    )
    assert run(capsys, "content", "check", str(fixed))[0] == 0
