"""Pulse runs end to end at the service level: invitations, answers, changes, reminders, closing, secrets."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.content import Library, load_library
from bot.db import session_scope
from bot.metrics.service import compute_metrics
from bot.models import (
    Activity,
    AppState,
    OutboxMessage,
    Person,
    PulseAnswer,
    PulseInvitation,
    PulseResponse,
    PulseRun,
)
from bot.outbox import drain
from bot.pulses import confirm as pulse_confirm
from bot.pulses import service as pulses
from tests.support.factories import add_people
from tests.support.fake_slack import FakeSlack

OPEN = datetime(2026, 10, 5, 8, 0)  # Monday 10:00 in Berlin (CEST)
MONDAY = OPEN.date()
LIBRARY = load_library()
JOINED = datetime(2026, 1, 1)  # on the roster long before any run


def settings(**changes: object) -> Settings:
    values: dict[str, object] = {"secret": "test-secret", **changes}
    return dataclasses.replace(Settings(), **values)  # type: ignore[arg-type]


def raw(
    a: int, d: int, k1: int, k2: int, ab: int, r: int, usage: int, comment: str | None = None
) -> dict[str, str | None]:
    """Answers to the bundled survey as the modal submits them (strings; the usage option's index)."""
    return {
        "awareness-why": str(a),
        "desire-want": str(d),
        "knowledge-how": str(k1),
        "knowledge-safe-use": str(k2),
        "ability-results": str(ab),
        "reinforcement-recognised": str(r),
        "usage": str(usage),
        "comment": comment,
    }


def open_run(
    engine: Engine, s: Settings, now: datetime = OPEN, library: Library = LIBRARY
) -> pulses.OpenedRun:
    with session_scope(engine) as session:
        return pulses.open_run(session, library=library, settings=s, now=now)


def answer(
    engine: Engine, s: Settings, run_id: int, person_id: int, answers: dict[str, str | None], now: datetime
) -> pulses.Recorded:
    with session_scope(engine) as session:
        person = session.get(Person, person_id)
        assert person is not None
        return pulses.record_answers(
            session, run_id=run_id, person=person, raw=answers, library=LIBRARY, settings=s, now=now
        )


def confirm(engine: Engine, s: Settings, now: datetime) -> int:
    """The daily batch: mark the invitations of everyone who answered before `now`'s day, edit them."""
    with session_scope(engine) as session:
        return pulse_confirm.confirm_answers(session, library=LIBRARY, settings=s, now=now)


def metrics_row(engine: Engine, s: Settings, team: str) -> dict[str, object]:
    with session_scope(engine, readonly=True) as session:
        rows = compute_metrics(session, week_monday=MONDAY, settings=s)
    return next(r.to_dict() for r in rows if r.team == team)


def test_open_run_invites_every_active_reachable_person_at_a_sensible_local_hour(engine: Engine) -> None:
    s = settings()
    with session_scope(engine) as session:
        berlin = add_people(session, 2, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
        tokyo = add_people(
            session, 1, team="Sales", start=10, timezone="Asia/Tokyo", created_at=JOINED
        )  # 17:00 there: after working hours
        york = add_people(
            session, 1, team="Sales", start=20, timezone="America/New_York", created_at=JOINED
        )  # 04:00 there
        add_people(
            session, 1, team="Sales", start=30, timezone="Europe/Berlin", created_at=JOINED, is_active=False
        )
        add_people(
            session,
            1,
            team="Sales",
            start=40,
            timezone="Europe/Berlin",
            created_at=JOINED,
            unreachable_reason="user_disabled",
        )
        ids = {p.id: p for p in berlin + tokyo + york}
    opened = open_run(engine, s)
    assert opened.invited == 4 and opened.closes_at == OPEN + timedelta(days=7)
    with session_scope(engine, readonly=True) as session:
        invited = set(
            session.scalars(select(PulseInvitation.person_id).where(PulseInvitation.run_id == opened.run_id))
        )
        messages = {
            m.key: m
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "pulse_invite"))
        }
    assert invited == set(ids)
    assert set(messages) == {f"pulse-invite:{opened.run_id}:{pid}" for pid in ids}

    def local(pid: int, zone: str) -> datetime:
        at = messages[f"pulse-invite:{opened.run_id}:{pid}"].not_before
        return at.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))

    assert messages[f"pulse-invite:{opened.run_id}:{berlin[0].id}"].not_before == OPEN  # in their working day
    assert (local(tokyo[0].id, "Asia/Tokyo").strftime("%a %H:%M")) == "Tue 10:00"
    assert (local(york[0].id, "America/New_York").strftime("%a %H:%M")) == "Mon 10:00"
    payload = messages[f"pulse-invite:{opened.run_id}:{berlin[0].id}"].payload
    buttons = [e for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Answer (1 minute)"]


def test_a_second_run_of_the_same_survey_waits_for_the_first_to_close(engine: Engine) -> None:
    s = settings()
    with session_scope(engine) as session:
        add_people(session, 1, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
    first = open_run(engine, s)
    with pytest.raises(pulses.UsageError, match=f"#{first.run_id}.*still open"):
        open_run(engine, s, OPEN + timedelta(days=2))
    second = open_run(engine, s, OPEN + timedelta(days=7))
    assert second.run_id != first.run_id and second.invited == 1


def test_modal_answers_give_exact_means_and_a_changed_answer_replaces_the_first(engine: Engine) -> None:
    s = settings()
    with session_scope(engine) as session:
        people = [
            p.id for p in add_people(session, 6, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
        ]
    run = open_run(engine, s).run_id
    day = OPEN + timedelta(hours=3)
    sheets = [
        raw(5, 4, 2, 3, 4, 3, 0),
        raw(4, 4, 2, 2, 3, 3, 2),
        raw(3, 5, 1, 2, 3, 4, 4),
        raw(4, 3, 3, 3, 2, 2, 1),
        raw(5, 5, 2, 1, 4, 5, 0, "More time to practise"),
    ]
    for pid, sheet in zip(people, sheets, strict=False):
        assert answer(engine, s, run, pid, sheet, day).first
    row = metrics_row(engine, s, "Sales")
    assert (row["invited"], row["respondents"], row["response_rate"], row["suppressed"]) == (
        6,
        5,
        0.833,
        False,
    )
    assert [row[k] for k in ("awareness", "desire", "knowledge", "ability", "reinforcement")] == [
        4.2,
        4.2,
        2.1,
        3.2,
        3.4,
    ]
    assert (row["readiness"], row["barrier"], row["usage_rate"]) == (3.42, "knowledge", 0.6)

    # The third person changes their mind before the run closes: replaced, not added.
    again = answer(engine, s, run, people[2], raw(5, 5, 3, 3, 5, 5, 0), day + timedelta(days=1))
    assert not again.first
    row = metrics_row(engine, s, "Sales")
    assert row["respondents"] == 5
    assert [row[k] for k in ("awareness", "desire", "knowledge", "ability", "reinforcement")] == [
        4.6,
        4.2,
        2.4,
        3.6,
        3.6,
    ]
    assert (row["readiness"], row["usage_rate"]) == (3.68, 0.4)
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(PulseResponse)) == 5
        assert session.scalar(select(func.count()).select_from(PulseAnswer)) == 5 * 7 + 1  # one comment
        # Nothing else was written: the invitation is marked by the next day's batch, and a pulse answer
        # is no "engaged" activity.
        assert session.scalars(select(PulseInvitation.answered_at)).all() == [None] * 6
        assert session.scalar(select(func.count()).select_from(Activity)) == 0
    confirm(engine, s, OPEN + timedelta(days=2))
    with session_scope(engine, readonly=True) as session:
        answered = dict(session.execute(select(PulseInvitation.person_id, PulseInvitation.answered_at)).all())
    # *That* they had answered by the end of the day before the batch; nothing about what, nor the time.
    assert answered == {**dict.fromkeys(people[:5], datetime(2026, 10, 6)), people[5]: None}


def test_answer_sheets_cannot_be_joined_to_people_without_the_secret(engine: Engine) -> None:
    s = settings()
    with session_scope(engine) as session:
        person = add_people(session, 1, team="Sales", timezone="Europe/Berlin", created_at=JOINED)[0].id
    run = open_run(engine, s).run_id
    answer(engine, s, run, person, raw(3, 3, 3, 3, 3, 3, 1), OPEN + timedelta(hours=5, minutes=17))
    with session_scope(engine, readonly=True) as session:
        response = session.scalars(select(PulseResponse)).one()
    expected = hmac.new(b"test-secret", f"{run}:{person}".encode(), hashlib.sha256).hexdigest()
    assert response.respondent == expected
    assert response.submitted_at == datetime(2026, 10, 5)  # the day only: no joining on the minute
    assert not {c.name for c in PulseResponse.__table__.columns} & {"person_id", "slack_user_id", "email"}


def test_without_adoptbot_secret_one_random_secret_is_generated_and_kept(engine: Engine) -> None:
    s = settings(secret=None)
    with session_scope(engine) as session:
        people = [
            p.id for p in add_people(session, 2, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
        ]
    run = open_run(engine, s).run_id
    answer(engine, s, run, people[0], raw(3, 3, 3, 3, 3, 3, 1), OPEN)
    answer(engine, s, run, people[0], raw(4, 4, 4, 4, 4, 4, 1), OPEN)  # same key again: replaced
    answer(engine, s, run, people[1], raw(2, 2, 2, 2, 2, 2, 1), OPEN)
    with session_scope(engine, readonly=True) as session:
        stored = session.scalars(select(AppState.value).where(AppState.key == "pulse_secret")).one()
        keys = sorted(session.scalars(select(PulseResponse.respondent)))
    assert len(stored) == 64
    assert keys == sorted(
        hmac.new(stored.encode(), f"{run}:{p}".encode(), hashlib.sha256).hexdigest() for p in people
    )


def test_required_answers_are_checked_and_nothing_is_stored_on_error(engine: Engine) -> None:
    s = settings()
    with session_scope(engine) as session:
        person = add_people(session, 1, team="Sales", timezone="Europe/Berlin", created_at=JOINED)[0].id
    run = open_run(engine, s).run_id
    sheet = raw(3, 3, 3, 3, 3, 3, 1)
    sheet["desire-want"] = None
    sheet["ability-results"] = "9"
    sheet["usage"] = "5"  # there are five options: 0..4
    with pytest.raises(pulses.InvalidAnswers) as caught:
        answer(engine, s, run, person, sheet, OPEN)
    assert caught.value.errors == {
        "desire-want": "Please choose an answer.",
        "ability-results": "Please choose one of the answers shown.",
        "usage": "Please choose one of the answers shown.",
    }
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(func.count()).select_from(PulseResponse)) == 0
        assert session.scalars(select(PulseInvitation.answered_at)).one() is None


def test_after_closing_answers_are_refused_politely(engine: Engine) -> None:
    s = settings()
    with session_scope(engine) as session:
        person = add_people(session, 1, team="Sales", timezone="Europe/Berlin", created_at=JOINED)[0].id
    run = open_run(engine, s).run_id
    with session_scope(engine) as session:
        assert pulses.close_due_runs(session, now=OPEN + timedelta(days=6, hours=23)) == 0
        assert pulses.close_due_runs(session, now=OPEN + timedelta(days=7)) == 1
        assert pulses.close_due_runs(session, now=OPEN + timedelta(days=7)) == 0
    with pytest.raises(pulses.PulseUnavailable, match="closed on Monday 12 October"):
        answer(engine, s, run, person, raw(3, 3, 3, 3, 3, 3, 1), OPEN + timedelta(days=7, minutes=1))
    with session_scope(engine, readonly=True) as session:
        assert session.get(PulseRun, run).closed_at == OPEN + timedelta(days=7)  # type: ignore[union-attr]


def test_someone_who_joined_after_the_run_opened_is_not_invited_to_answer(engine: Engine) -> None:
    s = settings()
    with session_scope(engine) as session:
        add_people(session, 1, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
    run = open_run(engine, s).run_id
    with session_scope(engine) as session:
        late = add_people(session, 1, team="Sales", start=9, timezone="Europe/Berlin", created_at=JOINED)[
            0
        ].id
    with pytest.raises(pulses.PulseUnavailable, match="before you joined"):
        answer(engine, s, run, late, raw(3, 3, 3, 3, 3, 3, 1), OPEN)


def _send(engine: Engine, s: Settings, client: WebClient) -> None:
    drain(engine, client, s, deadline=__import__("time").time() + 30)


def test_reminders_reach_only_people_who_have_not_answered_and_stop_at_close(
    engine: Engine, db_url: str, fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    s = settings(database_url=db_url)
    with session_scope(engine) as session:
        people = add_people(session, 4, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
        users = {p.id: p.slack_user_id for p in people}
    for user in users.values():
        fake_slack.add_user(str(user), tz="Europe/Berlin")
    ids = list(users)
    run = open_run(engine, s).run_id
    _send(engine, s, slack_client)
    assert len(fake_slack.messages()) == 4 and all(
        len(fake_slack.messages(str(u))) == 1 for u in users.values()
    )

    answer(engine, s, run, ids[0], raw(4, 4, 4, 4, 4, 4, 2), OPEN + timedelta(days=1))
    answer(engine, s, run, ids[1], raw(2, 2, 2, 2, 2, 2, 0), OPEN + timedelta(days=2))

    def remind(now: datetime) -> int:
        with session_scope(engine) as session:
            return pulses.send_reminders(session, library=LIBRARY, settings=s, now=now)

    assert remind(OPEN + timedelta(days=2, hours=23)) == 0  # Wednesday: nothing due yet
    assert remind(OPEN + timedelta(days=3)) == 2  # Thursday 10:00 Berlin: reminder 1 to the two others
    assert remind(OPEN + timedelta(days=3, minutes=15)) == 0  # a second tick sends nothing twice
    answer(engine, s, run, ids[2], raw(3, 3, 3, 3, 3, 3, 1), OPEN + timedelta(days=3, hours=4))
    assert remind(OPEN + timedelta(days=4)) == 1  # Friday (day 5 is a Saturday): only the last one
    assert remind(OPEN + timedelta(days=6, hours=23)) == 0
    confirm(engine, s, OPEN + timedelta(days=6, hours=23))  # the invitations of those who answered
    _send(engine, s, slack_client)

    def texts(pid: int) -> list[str]:
        return [m.text for m in fake_slack.messages(str(users[pid]))]

    assert texts(ids[0]) == ["Answered ✓ — thank you. You can change your answer until Monday 12 October."]
    assert len(texts(ids[1])) == 1 and texts(ids[1])[0].startswith("Answered ✓")
    assert len(texts(ids[2])) == 2 and texts(ids[2])[0].startswith("Answered ✓")
    assert texts(ids[2])[1].startswith("Reminder: the pulse survey closes Monday 12 October")
    assert len(texts(ids[3])) == 3 and texts(ids[3])[0].startswith("Pulse survey: AI adoption pulse")
    assert all(t.startswith("Reminder:") for t in texts(ids[3])[1:])
    reminded = {
        c.params["channel"] for c in fake_slack.calls_to("chat.postMessage") if "Reminder" in c.params["text"]
    }
    assert len(reminded) == 2  # two people, three reminders in all, none to those who had answered


def test_the_schedule_opens_one_run_per_cadence_on_a_working_day(engine: Engine) -> None:
    s = settings(timezone="Europe/Berlin")
    with session_scope(engine) as session:
        add_people(session, 3, team="Sales", timezone="Europe/Berlin", created_at=JOINED)

    def tick(now: datetime) -> int:
        with session_scope(engine) as session:
            pulses.close_due_runs(session, now=now)
            return pulses.open_due_runs(session, library=LIBRARY, settings=s, now=now)

    assert tick(datetime(2026, 10, 3, 9)) == 0  # Saturday
    assert tick(datetime(2026, 10, 5, 7)) == 0  # Monday 09:00 Berlin: before the nudge hour
    assert tick(datetime(2026, 10, 5, 8)) == 3  # Monday 10:00: the first run, everyone invited
    assert tick(datetime(2026, 10, 5, 8, 1)) == 0
    for day in range(1, 14):
        assert tick(datetime(2026, 10, 5, 8) + timedelta(days=day)) == 0, day  # cadence: two weeks
    assert tick(datetime(2026, 10, 19, 8, 30)) == 3
    with session_scope(engine, readonly=True) as session:
        runs = session.execute(select(PulseRun.opened_at, PulseRun.opened_by).order_by(PulseRun.id)).all()
    assert [tuple(r) for r in runs] == [
        (datetime(2026, 10, 5, 8), "schedule"),
        (datetime(2026, 10, 19, 8, 30), "schedule"),
    ]


def test_run_status_counts_answers_per_team_only(engine: Engine) -> None:
    s = settings()
    with session_scope(engine) as session:
        sales = [
            p.id for p in add_people(session, 3, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
        ]
        add_people(session, 2, team="Legal", timezone="Europe/Berlin", created_at=JOINED)
    run = open_run(engine, s).run_id
    answer(engine, s, run, sales[0], raw(3, 3, 3, 3, 3, 3, 1, "secret comment"), OPEN)
    with session_scope(engine, readonly=True) as session:
        status = pulses.run_status(session, library=LIBRARY, now=OPEN + timedelta(days=1))
    assert status is not None and status.is_open and (status.invited, status.answered) == (5, 1)
    assert [(t.team, t.invited, t.answered) for t in status.teams] == [("Legal", 2, 0), ("Sales", 3, 1)]


def test_cli_pulse_start_prints_the_run_and_invited_count_and_refuses_a_second(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    with session_scope(engine) as session:
        add_people(session, 3, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
        add_people(session, 1, team="Legal", start=50, timezone="Europe/Berlin", created_at=JOINED)
    assert main(["pulse", "start", "--db", db_url]) == 0
    out = capsys.readouterr().out.splitlines()
    with session_scope(engine, readonly=True) as session:
        run = session.scalars(select(PulseRun)).one()
    assert out[0] == f"Opened pulse run #{run.id} (adkar): invited 4 people."
    assert run.opened_by == "cli" and run.closes_at == run.opened_at + timedelta(days=7)
    assert main(["pulse", "start", "--db", db_url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"adoptbot: pulse run #{run.id} of 'adkar' is still open") and err.count("\n") == 1
    assert main(["pulse", "start", "nope", "--db", db_url]) == 2
    assert "no pulse survey 'nope'" in capsys.readouterr().err
    assert main(["pulse", "status", "--db", db_url]) == 0
    status = capsys.readouterr().out
    assert "Answered: 0/4 (0%)" in status and "Legal  0/1 (0%)" in status


def test_the_tick_closes_opens_and_reminds_through_the_registered_jobs(
    engine: Engine, db_url: str, fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    from bot.jobs import registered_jobs, run_due_jobs

    assert {"pulses.close", "pulses.open", "pulses.remind", "pulses.confirm"} <= set(registered_jobs())
    s = settings(timezone="Europe/Berlin", database_url=db_url)
    with session_scope(engine) as session:
        added = {
            p.id: str(p.slack_user_id)
            for p in add_people(session, 2, team="Sales", timezone="Europe/Berlin", created_at=JOINED)
        }
    people = list(added)
    for user in added.values():
        fake_slack.add_user(user, tz="Europe/Berlin")
    report = run_due_jobs(engine, s, LIBRARY, OPEN)  # Monday 10:00 Berlin: the first run opens
    assert report.failed_jobs == [] and dict((j.name, j.queued) for j in report.jobs)["pulses.open"] == 2
    _send(engine, s, slack_client)  # reminders follow invitations that reached Slack
    with session_scope(engine, readonly=True) as session:
        run = session.scalars(select(PulseRun)).one().id
    answer(engine, s, run, people[0], raw(4, 4, 4, 4, 4, 4, 1), OPEN + timedelta(days=1))
    report = run_due_jobs(engine, s, LIBRARY, OPEN + timedelta(days=3))
    queued = dict((j.name, j.queued) for j in report.jobs)
    assert queued["pulses.remind"] == 1 and queued["pulses.confirm"] == 1  # Tuesday's answer, edited now
    report = run_due_jobs(engine, s, LIBRARY, OPEN + timedelta(days=4))  # Friday: the second reminder
    assert dict((j.name, j.queued) for j in report.jobs)["pulses.remind"] == 1
    run_due_jobs(engine, s, LIBRARY, OPEN + timedelta(days=7))
    with session_scope(engine, readonly=True) as session:
        assert session.get(PulseRun, run).closed_at == OPEN + timedelta(days=7)  # type: ignore[union-attr]
        keys = session.scalars(
            select(OutboxMessage.key).where(OutboxMessage.key.like("pulse-%")).order_by(OutboxMessage.id)
        ).all()
    assert keys == [
        f"pulse-invite:{run}:{people[0]}",
        f"pulse-invite:{run}:{people[1]}",
        f"pulse-remind:{run}:{people[1]}:1",
        f"pulse-answered:{run}:{people[0]}",
        f"pulse-remind:{run}:{people[1]}:2",
    ]
