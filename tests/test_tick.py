"""`adoptbot tick`, the job registry and the scheduler: due work done once, sent once, across processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from bot import clock, outbox
from bot.cli import main
from bot.clock import iso_week, utcnow
from bot.config import Settings
from bot.content import load_library
from bot.db import session_scope
from bot.jobs import JobContext, claim_slot, register_job, run_due_jobs, unregister_job
from bot.models import AppState, JobRun, OutboxMessage, Person, ProcessedEvent
from bot.scheduler import JOB_ID, start_scheduler, stop_scheduler
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack

TOKEN = "xoxb-test"


# A moment when no real job has anything to do for the people these tests add (they joined this week), so
# the output counts only the test's own jobs, whatever the date the suite runs on.
QUIET = "2026-11-24T09:30:00Z"


@pytest.fixture
def jobs() -> Iterator[list[str]]:
    """Names registered through this list are unregistered after the test."""
    names: list[str] = []
    yield names
    for name in names:
        unregister_job(name)


def add_job(jobs: list[str], name: str, fn: object) -> None:
    register_job(name, fn)  # type: ignore[arg-type]
    jobs.append(name)


def greet(ctx: JobContext) -> int:
    """A job as features write them: per-slot keys, so a second run queues nothing."""
    queued = 0
    for person in ctx.session.scalars(select(Person).order_by(Person.id)):
        assert person.slack_user_id
        queued += outbox.enqueue(
            ctx.session,
            key=f"greet:{person.id}:{ctx.now:%Y-%m-%d}",
            kind="greeting",
            channel=person.slack_user_id,
            person_id=person.id,
            text=f"Good morning, {person.name}!\nHere is today's tip.",
        )
    ctx.session.add(AppState(key=f"greeted:{ctx.now.isoformat()}", value="yes"))
    return queued


def slack_env(monkeypatch: pytest.MonkeyPatch, fake: FakeSlack, rate: float = 100.0) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake.url)
    monkeypatch.setenv("ADOPTBOT_SEND_RATE", str(rate))


def count(engine: Engine, model: type[object], *where: object) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())  # type: ignore[arg-type]


def test_tick_runs_due_jobs_then_sends_and_a_second_tick_sends_nothing(
    db_url: str,
    engine: Engine,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    jobs: list[str],
) -> None:
    with session_scope(engine) as session:
        add_person(session, "U1", name="Ada", team=None, role=None)
        add_person(session, "U2", name="Grace", team=None, role=None)
    seen: list[datetime] = []
    add_job(jobs, "test.greet", lambda ctx: seen.append(ctx.now) or greet(ctx))
    slack_env(monkeypatch, fake_slack)

    assert main(["tick", "--now", "2026-11-24T10:30:00+01:00", "--db", db_url]) == 0
    assert capsys.readouterr().out.strip() == "queued 2, sent 2, failed 0"
    assert seen == [datetime(2026, 11, 24, 9, 30)]  # aware -> naive UTC
    assert [m.text for m in fake_slack.messages("U1")] == ["Good morning, Ada!\nHere is today's tip."]

    assert main(["tick", "--now", "2026-11-24T09:31:00", "--db", db_url]) == 0
    assert capsys.readouterr().out.strip() == "queued 0, sent 0, failed 0"
    assert len(fake_slack.messages()) == 2


def test_dry_run_prints_each_message_and_changes_nothing(
    db_url: str, engine: Engine, fake_slack: FakeSlack, capsys: pytest.CaptureFixture[str], jobs: list[str]
) -> None:
    with session_scope(engine) as session:
        add_person(session, "U1", name="Ada", team=None, role=None)
        add_person(session, "U2", name="Grace", team=None, role=None)
    with clock.frozen_at(datetime(2026, 11, 24, 8, 0)), session_scope(engine) as session:  # queued before
        outbox.enqueue(session, key="earlier", kind="digest", channel="C0DIGEST", text="Weekly digest\nmore")
    add_job(jobs, "test.greet", greet)

    assert main(["tick", "--dry-run", "--now", "2026-11-24T09:00:00Z", "--db", db_url]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert lines[0].split() == ["digest", "C0DIGEST", "Weekly", "digest"]
    assert lines[1].split() == ["greeting", "U1", "(Ada)", "Good", "morning,", "Ada!"]
    assert lines[2].split() == ["greeting", "U2", "(Grace)", "Good", "morning,", "Grace!"]
    assert lines[3] == "dry run: would send 3 (jobs queued 2); nothing was sent or saved"
    assert count(engine, OutboxMessage) == 1 and count(engine, AppState) == 0
    assert not fake_slack.calls  # and no token was needed


def test_bad_now_is_a_one_line_usage_error(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tick", "--now", "next tuesday", "--db", db_url]) == 2
    err = capsys.readouterr().err
    assert err == "adoptbot: --now must be an ISO 8601 time like 2026-11-24T09:00:00Z, not 'next tuesday'.\n"


def test_the_token_is_needed_only_when_there_is_something_to_send(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["tick", "--now", QUIET, "--db", db_url]) == 0
    assert capsys.readouterr().out.strip() == "queued 0, sent 0, failed 0"

    with clock.frozen_at(datetime(2026, 11, 24, 9)), session_scope(engine) as session:  # due at QUIET
        outbox.enqueue(session, key="k", kind="test", channel="U1", text="hi")
    assert main(["tick", "--now", QUIET, "--db", db_url]) == 2
    assert "SLACK_BOT_TOKEN is not set" in capsys.readouterr().err
    assert count(engine, OutboxMessage, OutboxMessage.state == "pending") == 1


def test_a_failing_job_is_rolled_back_reported_and_the_others_still_run(
    db_url: str,
    engine: Engine,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    jobs: list[str],
) -> None:
    with session_scope(engine) as session:
        add_person(session, "U1", name="Ada", team=None, role=None)

    def broken(ctx: JobContext) -> int:
        outbox.enqueue(ctx.session, key="half-done", kind="test", channel="U1", text="never")
        raise RuntimeError("boom\nsecond line")

    add_job(jobs, "test.broken", broken)
    add_job(jobs, "test.greet", greet)
    slack_env(monkeypatch, fake_slack)

    assert main(["tick", "--now", QUIET, "--db", db_url]) == 1

    out, err = capsys.readouterr()
    assert out.strip() == "queued 1, sent 1, failed 0"
    assert err == "adoptbot: job test.broken failed: RuntimeError: boom\n"
    assert [m.text.splitlines()[0] for m in fake_slack.messages()] == ["Good morning, Ada!"]
    assert count(engine, OutboxMessage, OutboxMessage.key == "half-done") == 0


def test_a_failing_job_logs_what_failed_and_where_never_the_rows_it_wrote(
    engine: Engine, jobs: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    with session_scope(engine) as session:
        add_person(session, "U1", name="Ada", email="ada.private@example.com")

    def clumsy(ctx: JobContext) -> int:  # a bug: a second person with the same email
        ctx.session.add(Person(slack_user_id="U2", name="Ada Again", email="ada.private@example.com"))
        ctx.session.flush()
        return 0

    add_job(jobs, "test.clumsy", clumsy)
    with caplog.at_level("ERROR", logger="bot.jobs"):
        report = run_due_jobs(engine, Settings(), load_library(), datetime(2026, 11, 24, 9, 30))

    [failed] = report.failed_jobs
    assert failed.name == "test.clumsy" and failed.error and failed.error.startswith("IntegrityError")
    logged = caplog.text
    assert "job test.clumsy failed: IntegrityError" in logged and "in clumsy" in logged  # what and where
    assert "ada.private" not in logged and "Ada Again" not in logged  # never the statement's values


def test_a_message_that_failed_makes_the_tick_exit_1_and_say_why(
    db_url: str,
    engine: Engine,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    jobs: list[str],
) -> None:
    with session_scope(engine) as session:
        add_person(session, "U1", name="Ada", team=None, role=None)
        add_person(session, "U2", name="Grace", team=None, role=None)
    fake_slack.add_user("U2", deleted=True)
    add_job(jobs, "test.greet", greet)
    slack_env(monkeypatch, fake_slack)

    assert main(["tick", "--now", QUIET, "--db", db_url]) == 1
    out, err = capsys.readouterr()
    assert out.strip() == "queued 2, sent 1, failed 1"
    assert err == (
        "adoptbot: 1 message failed (user_disabled: 1); `adoptbot outbox status` lists them, "
        "`adoptbot outbox retry` sends them again.\n"
    )
    assert main(["tick", "--now", "2026-11-24T09:31:00Z", "--db", db_url]) == 0  # nothing new failed


def test_a_revoked_token_exits_1_and_keeps_the_messages_queued(
    db_url: str,
    engine: Engine,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    jobs: list[str],
) -> None:
    with session_scope(engine) as session:
        add_person(session, "U1", name="Ada", team=None, role=None)
    add_job(jobs, "test.greet", greet)
    slack_env(monkeypatch, fake_slack)
    fake_slack.fail_next("chat.postMessage", error="token_revoked")

    assert main(["tick", "--now", QUIET, "--db", db_url]) == 1

    out, err = capsys.readouterr()
    assert out.strip() == "queued 1, sent 0, failed 0"
    assert err == (
        "adoptbot: Slack refused to send (token_revoked on chat.postMessage); "
        "the messages stay queued for the next tick.\n"
    )
    assert count(engine, OutboxMessage, OutboxMessage.state == "pending") == 1
    assert main(["tick", "--now", "2026-11-24T09:31:00Z", "--db", db_url]) == 0  # the next minute
    assert capsys.readouterr().out.strip() == "queued 0, sent 1, failed 0"


def test_claim_slot_lets_one_run_do_the_work_of_a_slot(engine: Engine, jobs: list[str]) -> None:
    def weekly(ctx: JobContext) -> int:
        if not claim_slot(ctx.session, "test.weekly", iso_week(ctx.now.date())):
            return 0
        return int(
            outbox.enqueue(
                ctx.session, key=f"weekly:{ctx.now:%Y%m%d%H%M}", kind="digest", channel="C0X", text="x"
            )
        )

    add_job(jobs, "test.weekly", weekly)
    library = load_library()
    monday = datetime(2026, 11, 23, 9)
    reports = [run_due_jobs(engine, Settings(), library, monday + timedelta(hours=h)) for h in (0, 1, 30)]

    assert [r.queued for r in reports] == [1, 0, 0]
    assert count(engine, JobRun, JobRun.job == "test.weekly") == 1
    next_week = run_due_jobs(engine, Settings(), library, monday + timedelta(days=7))
    assert next_week.queued == 1


def test_housekeeping_forgets_old_events_and_frees_stale_claims_for_a_re_check(engine: Engine) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.add_all(
            [
                ProcessedEvent(event_id="Ev-old", received_at=now - timedelta(days=3)),
                ProcessedEvent(event_id="Ev-new", received_at=now - timedelta(hours=1)),
            ]
        )
        for key in ("stale", "fresh"):
            outbox.enqueue(session, key=key, kind="test", channel="U1", text="x")
    with session_scope(engine) as session:
        for key, age in (("stale", 300), ("fresh", 5)):
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.key == key)
                .values(
                    state="sending",
                    claimed_by="elsewhere:1:1:x",
                    claimed_at=now - timedelta(seconds=age),
                    attempts=1,
                )
            )

    run_due_jobs(engine, Settings(), load_library(), datetime(2020, 1, 1))  # housekeeping uses the real clock

    with Session(engine) as session:
        assert list(session.scalars(select(ProcessedEvent.event_id))) == ["Ev-new"]
        state = {m.key: (m.state, m.attempts) for m in session.scalars(select(OutboxMessage))}
    assert state == {
        "stale": ("pending", 1),
        "fresh": ("sending", 1),
    }  # attempt kept: it looks before posting


def test_scheduler_ticks_on_the_minute_and_runs_the_jobs(engine: Engine, jobs: list[str]) -> None:
    ran: list[datetime] = []

    def note(ctx: JobContext) -> int:
        ran.append(ctx.now)
        return 0

    add_job(jobs, "test.note", note)
    scheduler = start_scheduler(engine, Settings(), load_library())
    try:
        job = scheduler.get_job(JOB_ID)
        assert job is not None and job.max_instances == 1 and job.coalesce
        assert job.trigger.interval == timedelta(seconds=60)
        first = job.next_run_time
        assert (first.second, first.microsecond) == (0, 0) and first - datetime.now(
            first.tzinfo
        ) <= timedelta(minutes=1)
        job.modify(next_run_time=datetime.now(first.tzinfo))
        deadline = time.monotonic() + 5
        while not ran and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ran and abs(ran[0] - utcnow()) < timedelta(seconds=5)
    finally:
        stop_scheduler(scheduler)
    assert not scheduler.running


# --- several processes ---------------------------------------------------------------------------------


def seed(engine: Engine, n: int) -> list[str]:
    with session_scope(engine) as session:
        keys = [f"bulk:{i}" for i in range(n)]
        for i, key in enumerate(keys):
            outbox.enqueue(session, key=key, kind="bulk", channel=f"U{i:05d}", text=f"message {i}")
    return keys


def tick_process(db_url: str, fake: FakeSlack, tmp_path: Path, rate: float) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ADOPTBOT_", "DATABASE_"))}
    env |= {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": fake.url, "ADOPTBOT_SEND_RATE": str(rate)}
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "tick", "--db", db_url],
        cwd=tmp_path,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def delivered(fake: FakeSlack) -> Counter[str]:
    return Counter(str(m.payload["key"]) for m in fake.messages() if m.event_type == outbox.EVENT_TYPE)


def test_two_tick_processes_at_once_send_each_message_once_within_the_rate(
    db_url: str, engine: Engine, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    keys = seed(engine, 300)
    # A one-second bucket: two processes each sending at 100/s would be refused about 50 of these.
    fake_slack.rate_limit("chat.postMessage", per_second=100)

    runs = [tick_process(db_url, fake_slack, tmp_path, rate=100) for _ in range(2)]
    outputs = [run.communicate(timeout=60) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    sent = [int(out.split("sent ")[1].split(",")[0]) for out, _ in outputs]
    assert sum(sent) == 300
    assert delivered(fake_slack) == Counter({key: 1 for key in keys})
    assert fake_slack.rejected("chat.postMessage") == 0  # together, never above the shared rate
    assert count(engine, OutboxMessage, OutboxMessage.state == "sent") == 300


def test_kill_9_while_draining_then_restart_loses_and_duplicates_nothing(
    db_url: str, engine: Engine, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    keys = seed(engine, 300)
    fake_slack.delay("chat.postMessage", 0.03)  # replies trail the posts: some are in flight at the kill

    first = tick_process(db_url, fake_slack, tmp_path, rate=100)
    deadline = time.monotonic() + 30
    while len(fake_slack.messages()) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    assert first.returncode == -signal.SIGKILL
    posted_before = len(fake_slack.messages())
    assert 60 <= posted_before < 300
    assert (
        count(engine, OutboxMessage, OutboxMessage.state == "sending") > 0
    )  # claims left by the dead process
    recorded = count(engine, OutboxMessage, OutboxMessage.state == "sent")
    assert recorded < posted_before  # some posts had no recorded result: the crash window

    second = tick_process(db_url, fake_slack, tmp_path, rate=100)
    out, err = second.communicate(timeout=60)

    assert second.returncode == 0, err
    assert delivered(fake_slack) == Counter({key: 1 for key in keys})
    assert count(engine, OutboxMessage, OutboxMessage.state == "sent") == 300
    # The dead process's claims were taken over at once and checked against Slack's history first.
    assert fake_slack.calls_to("conversations.history")
    assert out.strip() == f"queued 0, sent {300 - recorded}, failed 0"
