"""`adoptbot outbox status|retry`: failed messages are counted by kind and sent again, once, on request."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot import outbox
from bot.cli import main
from bot.db import session_scope
from bot.models import OutboxMessage
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch, fake_slack: FakeSlack) -> FakeSlack:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    monkeypatch.setenv("ADOPTBOT_SEND_RATE", "50")
    monkeypatch.setenv("ADOPTBOT_SEND_MAX_ATTEMPTS", "1")  # the first 5xx fails a message for good
    return fake_slack


def queue(engine: Engine, key: str, kind: str, channel: str) -> None:
    with session_scope(engine) as session:
        assert outbox.enqueue(session, key=key, kind=kind, channel=channel, text=f"hello {key}")


def states(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        return {key: state for key, state in session.execute(select(OutboxMessage.key, OutboxMessage.state))}


def in_slack(fake: FakeSlack) -> Counter[str]:
    """How many posts in Slack carry each outbox key."""
    return Counter(str(m.payload["key"]) for m in fake.messages() if m.event_type == outbox.EVENT_TYPE)


def fail_three_ways(engine: Engine, db_url: str, fake: FakeSlack, capsys: pytest.CaptureFixture[str]) -> None:
    """A nudge to someone who left Slack, a nudge and a digest lost to Slack's 500s, and a digest that Slack
    posted although it answered 500 (and the last look in the channel failed too)."""
    with session_scope(engine) as session:
        for user in ("UGONE", "UADA", "UBEA"):
            add_person(session, user, name=f"Person {user}", team=None, role=None)
    fake.add_user("UGONE", deleted=True)
    queue(engine, "nudge:gone", "nudge", "UGONE")
    assert main(["tick", "--now", "2026-11-25T09:00:00Z", "--db", db_url]) == 1
    fake.fail_next("chat.postMessage", status=500, times=2)
    queue(engine, "nudge:ada", "nudge", "UADA")
    queue(engine, "digest:ada", "digest", "UADA")
    assert main(["tick", "--now", "2026-11-25T09:01:00Z", "--db", db_url]) == 1
    fake.fail_next("chat.postMessage", status=500, after_processing=True)
    fake.fail_next("conversations.history", status=500)
    queue(engine, "digest:bea", "digest", "UBEA")
    assert main(["tick", "--now", "2026-11-25T09:02:00Z", "--db", db_url]) == 1
    capsys.readouterr()
    assert set(states(engine).values()) == {"failed"}
    assert in_slack(fake) == Counter({"digest:bea": 1})


def test_outbox_status_counts_failed_messages_by_kind_apart_from_unreachable_people(
    db_url: str, engine: Engine, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    fail_three_ways(engine, db_url, slack, capsys)
    queue(engine, "nudge:later", "nudge", "UBEA")

    assert main(["outbox", "status", "--db", db_url]) == 0
    out = capsys.readouterr().out.splitlines()

    assert [line.split() for line in out[:3]] == [
        ["kind", "queued", "failed", "unreachable", "sent", "skipped"],
        ["digest", "0", "2", "0", "0", "0"],
        ["nudge", "1", "1", "1", "0", "0"],
    ]
    assert "  digest: gave up after 1 attempts (2)" in out
    assert "  nudge: gave up after 1 attempts (1), user_disabled (1)" in out
    assert "`adoptbot outbox retry` sends the 3 failed again." in out
    assert "1 to people Slack cannot reach (deleted or deactivated) are not retried." in out
    assert states(engine)["nudge:later"] == "pending"  # status sends nothing


def test_outbox_status_reads_only_and_names_a_missing_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "typo.db"

    assert main(["outbox", "status", "--db", f"sqlite:///{missing}"]) == 2

    assert capsys.readouterr().err == (
        f"adoptbot: no Adoptbot database at {missing} (check --db or DATABASE_URL).\n"
    )
    assert not missing.exists()
    roster = tmp_path / "people.csv"
    roster.write_text("slack_user_id,name,team,role\nU1,Ada,Sales,sales\n")
    assert main(["outbox", "status", "--db", f"sqlite:///{roster}"]) == 2
    assert capsys.readouterr().err == (
        f"adoptbot: {roster} is not an Adoptbot database (it is not an SQLite file).\n"
    )
    assert roster.read_text().startswith("slack_user_id,name")


def test_outbox_retry_sends_failed_messages_again_once_and_leaves_unreachable_people_alone(
    db_url: str, engine: Engine, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    fail_three_ways(engine, db_url, slack, capsys)
    queue(engine, "unrelated", "broadcast", "UBEA")

    assert main(["outbox", "retry", "--kind", "nudge", "--db", db_url]) == 0
    assert capsys.readouterr().out == (
        "Retried 1: sent 1; 1 to people Slack cannot reach left as they are.\n"
    )
    assert states(engine) == {
        "nudge:gone": "failed",
        "nudge:ada": "sent",
        "digest:ada": "failed",
        "digest:bea": "failed",
        "unrelated": "pending",  # a retry sends what it retried, nothing else
    }

    assert main(["outbox", "retry", "--since", "2020-01-01", "--db", db_url]) == 0
    assert capsys.readouterr().out.startswith("Retried 2: sent 2;")
    assert states(engine)["digest:ada"] == states(engine)["digest:bea"] == "sent"
    # Bea's digest had reached Slack before: the retry found it there instead of posting it again.
    assert in_slack(slack) == Counter({"digest:bea": 1, "nudge:ada": 1, "digest:ada": 1})
    assert states(engine)["unrelated"] == "pending"

    assert main(["outbox", "retry", "--db", db_url]) == 0
    assert capsys.readouterr().out == "Nothing to retry; 1 to people Slack cannot reach left as they are.\n"


def test_outbox_retry_exits_1_when_a_message_fails_again_and_it_stays_retryable(
    db_url: str, engine: Engine, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        add_person(session, "UADA", name="Person UADA", team=None, role=None)
    slack.fail_next("chat.postMessage", status=500)
    queue(engine, "digest:ada", "digest", "UADA")
    assert main(["tick", "--now", "2026-11-25T09:00:00Z", "--db", db_url]) == 1
    capsys.readouterr()

    slack.fail_next("chat.postMessage", status=503)
    assert main(["outbox", "retry", "--kind", "digest", "--db", db_url]) == 1
    out, err = capsys.readouterr()
    assert out == "Retried 1: sent 0.\n"
    assert err == (
        "adoptbot: not everything went out: 1 failed (gave up after 2 attempts: 1); "
        "see `adoptbot outbox status`.\n"
    )

    assert main(["outbox", "retry", "--kind", "digest", "--db", db_url]) == 0
    assert in_slack(slack) == Counter({"digest:ada": 1})


def test_a_retried_message_lands_with_its_newest_edit_not_its_first_text(
    db_url: str, engine: Engine, slack: FakeSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    """An invitation that failed, then edited twice ("closed") while failed: the retry posts it and brings
    it up to date, so nobody reads an open invitation to a pulse that has closed."""
    with session_scope(engine) as session:
        add_person(session, "UADA", name="Person UADA", team=None, role=None)
    slack.fail_next("chat.postMessage", status=500)
    queue(engine, "invite:ada", "pulse_invite", "UADA")
    assert main(["tick", "--now", "2026-11-25T09:00:00Z", "--db", db_url]) == 1
    with session_scope(engine) as session:
        outbox.enqueue_update(session, key="invite:ada:reminded", update_of="invite:ada", text="reminder")
        outbox.enqueue_update(session, key="invite:ada:closed", update_of="invite:ada", text="closed")
    assert main(["tick", "--now", "2026-11-25T09:01:00Z", "--db", db_url]) == 0
    assert states(engine)["invite:ada:closed"] == "skipped"
    capsys.readouterr()

    assert main(["outbox", "retry", "--db", db_url]) == 0

    assert capsys.readouterr().out == "Retried 1: sent 1; 1 brought up to date.\n"
    [message] = slack.messages("UADA")
    assert message.text == "closed"
    assert [call.params["text"] for call in slack.calls_to("chat.update")] == ["closed"]
    assert states(engine)["invite:ada:reminded"] == "skipped"  # superseded: never sent


def test_outbox_retry_refuses_bad_input_and_a_missing_token_changing_nothing(
    db_url: str,
    engine: Engine,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with session_scope(engine) as session:
        add_person(session, "UADA", name="Person UADA", team=None, role=None)
    slack.fail_next("chat.postMessage", status=500)
    queue(engine, "digest:ada", "digest", "UADA")
    assert main(["tick", "--now", "2026-11-25T09:00:00Z", "--db", db_url]) == 1
    capsys.readouterr()

    assert main(["outbox", "retry", "--kind", "nudges", "--db", db_url]) == 2
    assert capsys.readouterr().err == "adoptbot: no outbox messages of kind 'nudges' (kinds: digest).\n"
    assert main(["outbox", "retry", "--since", "last week", "--db", db_url]) == 2
    assert "--since must be an ISO 8601 date or time" in capsys.readouterr().err
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert main(["outbox", "retry", "--db", db_url]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err
    assert states(engine) == {"digest:ada": "failed"}
