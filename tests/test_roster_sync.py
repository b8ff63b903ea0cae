"""`adoptbot roster sync` and `apply_slack_user`: the roster kept in step with Slack (a fake Slack server)."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.clock import utcnow
from bot.models import Person, Team
from bot.people.slack_sync import AWAY_WITHOUT_EXPIRY, apply_slack_user
from tests.support.fake_slack import FakeSlack
from tests.support.fixtures import SLACK_BOT_TOKEN


@pytest.fixture
def slack_env(fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> FakeSlack:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    return fake_slack


def add_people(engine: Engine, *people: dict[str, object]) -> None:
    with Session(engine) as session:
        team = Team(name="Sales EMEA")
        session.add(team)
        session.flush()
        for values in people:
            session.add(Person(team_id=team.id, role="sales", **values))
        session.commit()


def person(engine: Engine, **where: object) -> Person:
    with Session(engine) as session:
        stmt = select(Person)
        for key, value in where.items():
            stmt = stmt.where(getattr(Person, key) == value)
        return session.scalars(stmt).one()


def sync(capsys: pytest.CaptureFixture[str], db_url: str) -> tuple[int, str, str]:
    code = main(["roster", "sync", "--db", db_url])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_sync_fills_ids_time_zones_names_emails_and_deactivates_deleted_users(
    db_url: str, engine: Engine, slack_env: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    add_people(
        engine,
        {"email": "cara@example.com", "name": "Cara Lee"},  # known only by email
        {"slack_user_id": "U0BEN", "name": ""},  # no name, no email yet
        {"slack_user_id": "U0GONE", "name": "Gone Person"},
        {
            "slack_user_id": "U0ANA",
            "name": "Ana Silva",
            "timezone": "Europe/Lisbon",
            "email": "ana@example.com",
        },
    )
    slack_env.add_user("U0CARA", real_name="Cara L.", email="Cara@Example.com", tz="Asia/Tokyo")
    slack_env.add_user("U0BEN", real_name="Ben Okafor", email="ben@example.com", tz="Europe/Berlin")
    slack_env.add_user("U0GONE", real_name="Gone", tz="Europe/London", deleted=True)
    slack_env.add_user("U0ANA", real_name="Ana", email="ana@example.com", tz="America/New_York")
    slack_env.add_user("U0NEW", real_name="Not On Roster", email="new@example.com")
    slack_env.add_user("B0BOT", real_name="Some Bot", email="cara@example.com", is_bot=True)
    slack_env.add_user("USLACKBOT", real_name="Slackbot", tz="America/Los_Angeles")

    code, out, err = sync(capsys, db_url)

    assert (code, err) == (0, "")
    assert out.splitlines()[0] == (
        "5 Slack users read, 4 on the roster: 1 Slack ID filled by email, 3 time zones, 3 locales, 1 name, "
        "1 email updated, 1 deactivated, 0 away, 0 back"
    )
    assert "1 Slack user not on the roster (add them with roster import)." in out
    cara = person(engine, email="cara@example.com")
    assert (cara.slack_user_id, cara.slack_timezone, cara.name) == ("U0CARA", "Asia/Tokyo", "Cara Lee")
    ben = person(engine, slack_user_id="U0BEN")
    assert (ben.name, ben.email, ben.slack_timezone) == ("Ben Okafor", "ben@example.com", "Europe/Berlin")
    gone = person(engine, slack_user_id="U0GONE")
    assert not gone.is_active
    ana = person(engine, slack_user_id="U0ANA")
    assert (ana.name, ana.timezone, ana.slack_timezone) == ("Ana Silva", "Europe/Lisbon", "America/New_York")
    assert ana.effective_timezone("UTC") == "Europe/Lisbon"  # the roster's time zone wins over Slack's

    code, out, _ = sync(capsys, db_url)  # nothing new: nothing changes
    assert (
        code == 0
        and "0 Slack IDs filled by email, 0 time zones, 0 locales, 0 names, 0 emails updated, 0 deactivated"
        in out
    )


def test_sync_reads_every_page(
    db_url: str, engine: Engine, slack_env: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    add_people(engine, *({"email": f"p{i}@example.com", "name": f"P{i}"} for i in range(450)))
    for i in range(450):
        slack_env.add_user(f"U0P{i:04d}", email=f"p{i}@example.com", tz="Europe/Paris")

    code, out, _ = sync(capsys, db_url)

    assert code == 0 and out.startswith(
        "450 Slack users read, 450 on the roster: 450 Slack IDs filled by email"
    )
    assert len(slack_env.calls_to("users.list")) == 3
    assert person(engine, email="p449@example.com").slack_user_id == "U0P0449"


def test_people_still_without_a_slack_id_are_reported(
    db_url: str, engine: Engine, slack_env: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    add_people(engine, {"email": "zoe@example.com", "name": "Zoe"})
    slack_env.add_user("U0ZOE", real_name="Zoe")  # no email visible: the app lacks users:read.email

    code, out, _ = sync(capsys, db_url)

    assert code == 0
    assert "1 on the roster without a Slack ID yet." in out
    assert "give the app the users:read.email scope" in out
    assert person(engine, email="zoe@example.com").slack_user_id is None


def test_away_status_from_slack(
    db_url: str, engine: Engine, slack_env: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    add_people(
        engine,
        {"slack_user_id": "U0PALM", "name": "Palm"},
        {"slack_user_id": "U0OOO", "name": "Ooo"},
        {"slack_user_id": "U0SICK", "name": "Sick"},
        {"slack_user_id": "U0BUSY", "name": "Busy"},
        {
            "slack_user_id": "U0BACK",
            "name": "Back",
            "away_until": utcnow() + timedelta(days=3),
            "away_text": "PTO",
        },
    )
    back_on = int((datetime.now(UTC) + timedelta(days=9)).timestamp())
    slack_env.add_user("U0PALM", status_emoji=":palm_tree:", status_text="Lisbon!", status_expiration=back_on)
    slack_env.add_user("U0OOO", status_text="OOO until Monday")
    slack_env.add_user("U0SICK", status_emoji=":face_with_thermometer:")
    slack_env.add_user("U0BUSY", status_emoji=":spiral_calendar_pad:", status_text="In meetings")
    slack_env.add_user("U0BACK")
    before = utcnow()

    code, out, _ = sync(capsys, db_url)

    assert code == 0 and "3 away, 1 back" in out
    palm = person(engine, slack_user_id="U0PALM")
    assert palm.away_until == datetime.fromtimestamp(back_on, UTC).replace(tzinfo=None)
    assert palm.away_text == "Lisbon!"
    ooo = person(engine, slack_user_id="U0OOO")
    assert ooo.away_until is not None and ooo.away_text == "OOO until Monday"
    assert before + AWAY_WITHOUT_EXPIRY <= ooo.away_until <= utcnow() + AWAY_WITHOUT_EXPIRY
    assert person(engine, slack_user_id="U0SICK").away_text == ":face_with_thermometer:"
    assert person(engine, slack_user_id="U0BUSY").away_until is None
    back = person(engine, slack_user_id="U0BACK")
    assert (back.away_until, back.away_text) == (None, None)


def test_apply_slack_user_handles_one_user_change(db_url: str, engine: Engine, fake_slack: FakeSlack) -> None:
    add_people(
        engine, {"slack_user_id": "U0ANA", "name": "Ana"}, {"email": "cara@example.com", "name": "Cara"}
    )
    ana = fake_slack.add_user("U0ANA", real_name="Ana", tz="Europe/Berlin", status_text="On vacation")
    now = utcnow()
    with Session(engine) as session:
        assert apply_slack_user(session, ana.to_slack(), now=now) == (
            f"time zone Europe/Berlin, away until {now + AWAY_WITHOUT_EXPIRY:%Y-%m-%d}"
        )
        assert apply_slack_user(session, ana.to_slack(), now=now) is None  # nothing changed
        ana.status_text = ""
        ana.tz = "Asia/Tokyo"
        assert apply_slack_user(session, ana.to_slack(), now=now) == "time zone Asia/Tokyo, back"
        cara = fake_slack.add_user("U0CARA", real_name="Cara", email="cara@example.com", tz="Europe/Berlin")
        assert (
            apply_slack_user(session, cara.to_slack(), now=now) == "Slack ID filled, time zone Europe/Berlin"
        )
        ana.deleted = True
        assert apply_slack_user(session, ana.to_slack(), now=now) == "deactivated"
        stranger = fake_slack.add_user("U0WHO", real_name="Who", email="who@example.com")
        assert apply_slack_user(session, stranger.to_slack(), now=now) is None
        bot = fake_slack.add_user("B0BOT", real_name="Bot", email="cara@example.com", is_bot=True)
        assert apply_slack_user(session, bot.to_slack(), now=now) is None
        session.commit()
    assert not person(engine, slack_user_id="U0ANA").is_active
    assert person(engine, email="cara@example.com").slack_user_id == "U0CARA"


def test_invalid_token_is_a_one_line_failure(
    db_url: str, engine: Engine, slack_env: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    add_people(engine, {"email": "cara@example.com"})
    slack_env.fail_next("users.list", error="invalid_auth")

    code, out, err = sync(capsys, db_url)

    assert (code, out) == (1, "")
    assert err == "adoptbot: Slack refused the bot token (invalid_auth); check SLACK_BOT_TOKEN.\n"
    assert person(engine, email="cara@example.com").slack_user_id is None


def test_slack_server_errors_are_a_one_line_failure(
    db_url: str, slack_env: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    slack_env.fail_next("users.list", status=500, times=5)

    code, _, err = sync(capsys, db_url)

    assert code == 1 and err.startswith("adoptbot: ") and len(err.splitlines()) == 1


def test_unreachable_slack_and_missing_token(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
        "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "roster", "sync", "--db", db_url],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"adoptbot: cannot reach Slack at http://127.0.0.1:{port}/api/: ")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr

    del env["SLACK_BOT_TOKEN"]
    result = subprocess.run(
        [sys.executable, "-m", "bot", "roster", "sync", "--db", db_url],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("adoptbot: SLACK_BOT_TOKEN is not set")
