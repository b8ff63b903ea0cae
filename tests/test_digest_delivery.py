"""Delivering digests: each leader once a week at their local hour, with chart and CSV, exactly once; the
outbox's file uploads; the AI narrative; `adoptbot digest`."""

from __future__ import annotations

import dataclasses
import re
import threading
from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.digest import delivery as digest_delivery
from bot.digest.delivery import due_zones, leader_key, org_key
from bot.digest.service import DigestSource, compose_many, narrate
from bot.jobs import registered_jobs, run_due_jobs
from bot.metrics.service import FIELDS
from bot.models import AiCall, OutboxMessage, Person
from bot.slack.client import make_web_client
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_slack import FakeSlack, Message
from tests.test_digest import NOW, WEEK, K, build_world, leader_audience, library

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNEL = "C0DIGEST"


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, min_group_size=K, digest_channel=CHANNEL, send_rate=50.0)


def drain(engine: Engine, settings: Settings) -> outbox.DrainReport:
    return outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)


def digest_messages(fake: FakeSlack) -> Counter[str]:
    """How many messages in Slack carry each digest key."""
    return Counter(
        str(m.payload["key"])
        for m in fake.messages()
        if m.event_type == outbox.EVENT_TYPE and str(m.payload.get("key", "")).startswith("digest")
    )


def files_in(fake: FakeSlack, channel: str) -> list[Message]:
    return [m for m in fake.messages(channel) if m.files]


# --- when -----------------------------------------------------------------------------------------------


def test_leaders_are_due_at_the_digest_hour_in_their_own_time_zone() -> None:
    settings = dataclasses.replace(Settings(), digest_day=0, digest_hour=9, timezone="UTC")
    zones = ["Europe/Berlin", "UTC", "America/New_York", "Pacific/Kiritimati", "Not/AZone"]

    at_eight_utc = due_zones(zones, settings, datetime(2026, 11, 23, 8, 0))  # Berlin 09:00, New York 03:00
    assert at_eight_utc == {date(2026, 11, 16): ["Europe/Berlin"]}
    at_nine = due_zones(zones, settings, datetime(2026, 11, 23, 9, 30))
    assert at_nine == {date(2026, 11, 16): ["Europe/Berlin", "UTC"]}
    assert (
        due_zones(zones, settings, datetime(2026, 11, 23, 14, 0))[date(2026, 11, 16)][-1]
        == "America/New_York"
    )
    # A late tick still delivers that day, but not the next.
    assert "UTC" in due_zones(zones, settings, datetime(2026, 11, 23, 16, 59))[date(2026, 11, 16)]
    assert due_zones(zones, settings, datetime(2026, 11, 24, 9, 0)) == {}


def test_far_east_of_the_org_the_digest_waits_until_the_week_has_ended_there() -> None:
    settings = dataclasses.replace(Settings(), digest_day=0, digest_hour=9, timezone="UTC")
    # Kiritimati is UTC+14: Monday 09:00 there is Sunday 19:00 UTC, and the week has not ended in UTC.
    assert due_zones(["Pacific/Kiritimati"], settings, datetime(2026, 11, 22, 19, 0)) == {}
    ended = due_zones(["Pacific/Kiritimati"], settings, datetime(2026, 11, 23, 0, 0))  # 14:00 local
    assert ended == {date(2026, 11, 16): ["Pacific/Kiritimati"]}


# --- exactly once -----------------------------------------------------------------------------------------


def test_a_tick_that_runs_twice_sends_each_leader_one_digest_with_its_chart_and_csv(
    engine: Engine, fake_slack: FakeSlack, settings: Settings
) -> None:
    world = build_world(engine)
    assert "digest" in registered_jobs()
    leaders = {key: str(world.people[key].slack_user_id) for key in ("ada", "tim", "bea", "sam")}

    run_due_jobs(engine, settings, library(), NOW)
    run_due_jobs(engine, settings, library(), NOW)  # the same tick again (a restart, a second instance)
    drain(engine, settings)
    run_due_jobs(engine, settings, library(), NOW + timedelta(hours=1))  # the next tick, same morning
    drain(engine, settings)

    week = "2026-W47"
    expected = {leader_key(world.person_id(k), week): 1 for k in leaders} | {org_key(week): 1}
    assert digest_messages(fake_slack) == expected
    for key, user in leaders.items():
        [message] = [
            m
            for m in fake_slack.messages(user)
            if m.event_type == outbox.EVENT_TYPE and m.payload["key"].startswith("digest")
        ]
        assert message.payload["week"] == week and "AI adoption digest · 2026-W47" in message.block_text()
        uploads = files_in(fake_slack, user)
        names = sorted(f["name"] for m in uploads for f in m.files)
        assert names == ["ai-adoption-teams-2026-W47.csv", "ai-adoption-trend-2026-W47.png"], key
    for non_leader in ("cora", "eve"):
        assert fake_slack.messages(world.people[non_leader].slack_user_id) == []
    pngs = [f for f in fake_slack.files.values() if f.filename.endswith(".png")]
    csvs = [f for f in fake_slack.files.values() if f.filename.endswith(".csv")]
    assert len(pngs) == len(csvs) == 5  # four leaders and the channel
    assert all(f.content is not None and f.content.startswith(PNG_SIGNATURE) for f in pngs)
    tim_csv = next(f for f in csvs if f.channel == f"D{leaders['tim']}")
    assert tim_csv.content is not None
    header, row = tim_csv.content.decode().splitlines()
    assert header.split(",") == list(FIELDS) and row.startswith("2026-W47,Tiny,")
    assert ",true," in row  # suppressed, with empty survey cells
    # The second and third ticks queued nothing more for the digests.
    with Session(engine) as session:
        keys = session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like("digest%"))).all()
    assert len(keys) == 5 * 3


def test_two_instances_ticking_at_once_send_one_digest_each(
    engine: Engine, fake_slack: FakeSlack, settings: Settings
) -> None:
    world = build_world(engine)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def tick() -> None:
        try:
            barrier.wait()
            run_due_jobs(engine, settings, library(), NOW)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    drain(engine, settings)

    assert errors == []
    counts = digest_messages(fake_slack)
    assert set(counts.values()) == {1} and len(counts) == 5
    assert len(files_in(fake_slack, str(world.people["sam"].slack_user_id))) == 2


def test_a_leader_who_cannot_be_reached_or_has_left_gets_nothing(
    engine: Engine, fake_slack: FakeSlack, settings: Settings
) -> None:
    world = build_world(engine)
    with session_scope(engine) as session:
        session.execute(update(Person).where(Person.id == world.person_id("ada")).values(is_active=False))
        session.execute(
            update(Person)
            .where(Person.id == world.person_id("tim"))
            .values(unreachable_reason="user_disabled")
        )

    run_due_jobs(engine, settings, library(), NOW)
    drain(engine, settings)

    sent = set(digest_messages(fake_slack))
    assert leader_key(world.person_id("ada"), "2026-W47") not in sent
    assert leader_key(world.person_id("tim"), "2026-W47") not in sent
    assert leader_key(world.person_id("bea"), "2026-W47") in sent


def test_nothing_is_sent_outside_the_digest_hour(
    engine: Engine, fake_slack: FakeSlack, settings: Settings
) -> None:
    build_world(engine)
    run_due_jobs(engine, settings, library(), NOW - timedelta(hours=2))  # 08:00 UTC, everyone is in UTC
    run_due_jobs(engine, settings, library(), NOW + timedelta(days=1))  # Tuesday
    drain(engine, settings)
    assert digest_messages(fake_slack) == Counter()


# --- file uploads through the outbox ------------------------------------------------------------------


def test_a_file_upload_whose_answer_was_lost_is_found_in_slack_not_uploaded_twice(
    engine: Engine, fake_slack: FakeSlack, settings: Settings
) -> None:
    with session_scope(engine) as session:
        assert outbox.enqueue_file(
            session,
            key="f:1",
            kind="test_file",
            channel="U0LEADER",
            filename="chart-2026-W47.png",
            content=b"\x89PNG\r\n\x1a\nfake",
            title="Trend",
            alt_text="a trend chart",
        )
        assert not outbox.enqueue_file(
            session,
            key="f:1",
            kind="test_file",
            channel="U0LEADER",
            filename="x.png",
            content=b"x",
            title="x",
        )
    fake_slack.fail_next("files.completeUploadExternal", status=500, after_processing=True)

    report = drain(engine, settings)

    assert (report.sent, report.failed, report.retried) == (1, 0, 1)
    [message] = files_in(fake_slack, "U0LEADER")
    assert [f["title"] for f in message.files] == ["Trend"]
    shared = [f for f in fake_slack.files.values() if f.channel]
    assert len(shared) == 1 and shared[0].content == b"\x89PNG\r\n\x1a\nfake"
    assert shared[0].channel == "DU0LEADER"  # a DM is opened first: uploads need a conversation ID
    with Session(engine) as session:
        row = session.scalars(select(OutboxMessage).where(OutboxMessage.key == "f:1")).one()
    assert (row.state, row.method, row.slack_ts) == ("sent", "files.upload", shared[0].id)


def test_files_queued_after_a_message_follow_it_in_the_channel(
    engine: Engine, fake_slack: FakeSlack, settings: Settings
) -> None:
    with session_scope(engine) as session:
        outbox.enqueue(session, key="m:1", kind="test", channel="C0SEE", text="Here is the chart:")
        outbox.enqueue_file(
            session,
            key="m:1:csv",
            kind="test_file",
            channel="C0SEE",
            filename="a.csv",
            content=b"a,b\n",
            title="A",
        )
    drain(engine, settings)
    first, second = fake_slack.messages("C0SEE")
    assert first.text == "Here is the chart:" and [f["name"] for f in second.files] == ["a.csv"]


# --- the AI narrative ---------------------------------------------------------------------------------


def test_the_ai_narrative_sees_only_shown_aggregates_and_falls_back_to_the_template(
    engine: Engine, fake_openai: FakeOpenAI
) -> None:
    world = build_world(engine)
    ai_settings = dataclasses.replace(
        Settings(), min_group_size=K, openai_api_key="sk-test", openai_base_url=fake_openai.url
    )
    reply = "Engagement rose this week. Survey results stay hidden for this small team. Keep sharing wins."
    fake_openai.reply(reply)
    with session_scope(engine) as session:
        source = DigestSource(session, ai_settings, library(), week_monday=WEEK, now=NOW)
        tim = leader_audience(source, world, "tim")
        [digest] = compose_many(source, [tim])
        fake_openai.fail_next(500, times=2)  # Ada's team has 8 comments: their AI summary fails first
        [fallback] = compose_many(source, [leader_audience(source, world, "ada")])
        fake_openai.reply("Engagement rose. Readiness held. Wins grew. Tools spread. Keep going.")
        unchanged = dataclasses.replace(
            digest, week="2026-W48", narrative="The template.", narrative_by_ai=False
        )
        too_long = narrate(session, ai_settings, unchanged)

    assert (digest.narrative, digest.narrative_by_ai) == (reply, True)
    assert (too_long.narrative, too_long.narrative_by_ai) == ("The template.", False)  # five sentences
    assert not fallback.narrative_by_ai and fallback.narrative.startswith("In week 2026-W47,")
    request, *failed, _five = fake_openai.requests
    assert [r.status for r in failed] == [500, 500]
    assert "Readiness (1-5): not available" in request.text
    for forbidden in ("Tiny", "Tim", "zebrafish", "UTIM", "1.00"):
        assert forbidden not in request.text
    with Session(engine) as session:
        audits = session.execute(select(AiCall.purpose, AiCall.outcome).order_by(AiCall.id)).all()
    assert [tuple(a) for a in audits] == [
        ("digest_narrative", "ok"),
        ("pulse_comments", "error:InternalServerError"),
        ("digest_narrative", "error:InternalServerError"),
        ("digest_narrative", "ok"),  # a usable answer for bot.ai, but not three sentences: the template stays
    ]
    [alpha] = fallback.comments
    # The AI summary failed: the themes built without it, counted since 8 >= k comments say it.
    assert (alpha.group, alpha.text) == ("Alpha", "8 comments. Themes: “hands-on training” (in 8).")


def test_previews_and_dry_runs_never_call_the_model(
    engine: Engine, fake_openai: FakeOpenAI, settings: Settings
) -> None:
    world = build_world(engine)
    ai_settings = dataclasses.replace(settings, openai_api_key="sk-test", openai_base_url=fake_openai.url)
    with Session(engine) as session:
        person = session.get(Person, world.person_id("bea"))
        assert person is not None
        audience = digest_delivery.audience_for(
            session, person, ai_settings, user_id=person.slack_user_id, team=None
        )
        digest = digest_delivery.preview(session, ai_settings, library(), audience, now=NOW)
    report = run_due_jobs(engine, ai_settings, library(), NOW, dry_run=True)

    assert digest.narrative and not digest.narrative_by_ai
    assert fake_openai.requests == []
    assert sum(1 for p in report.preview if p.kind == "digest") == 4
    assert sum(1 for p in report.preview if p.kind == "digest_file") == 10


# --- adoptbot digest ------------------------------------------------------------------------------------


def test_the_digest_command_prints_each_leaders_digest(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world(engine)
    monkeypatch.setenv("ADOPTBOT_MIN_GROUP_SIZE", str(K))

    code = main(["digest", "--db", db_url, "--week", "2026-W47"])
    out = capsys.readouterr().out

    assert code == 0
    for title in (
        "Whole organisation (all teams), week 2026-W47",
        "Ada Lovelace (1 team), week 2026-W47",
        "Bea Multi (3 teams), week 2026-W47",
        "Sam Sponsor (all teams), week 2026-W47",
        "Tim Tiny (1 team), week 2026-W47",
    ):
        assert title in out
    tim = out[out.index("Tim Tiny (1 team)") :]
    assert re.search(r"^  Readiness +hidden", tim, re.M) and re.search(
        r"^  Said they used AI +hidden", tim, re.M
    )
    table = tim[tim.index("\nteam ") + 1 :].splitlines()
    assert table[2].split()[:4] == ["Tiny", "5", "60%", "▲"] and "hidden" in table[2]
    assert "Cora Manager (" not in out and "Eve Employee (" not in out
    assert out.rstrip().endswith("4 leaders get a digest for week 2026-W47.")


def test_digest_send_needs_a_token_and_sends_each_digest_once(
    db_url: str,
    engine: Engine,
    fake_slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_world(engine)
    monkeypatch.setenv("ADOPTBOT_MIN_GROUP_SIZE", str(K))
    assert main(["digest", "--db", db_url, "--week", "2026-W47", "--send"]) == 2
    assert "SLACK_BOT_TOKEN" in capsys.readouterr().err

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    assert main(["digest", "--db", db_url, "--week", "2026-W47", "--send"]) == 0
    first = capsys.readouterr().out
    assert main(["digest", "--db", db_url, "--week", "2026-W47", "--send"]) == 0
    second = capsys.readouterr().out

    assert first.startswith("Week 2026-W47: queued 12 messages for 4 leaders; sent 12, failed 0.")
    assert second.startswith("Week 2026-W47: queued 0 messages for 0 leaders (4 already had it); sent 0")
    assert set(digest_messages(fake_slack).values()) == {1} and len(digest_messages(fake_slack)) == 4


def test_a_failed_digest_send_exits_1_and_a_rerun_sends_it_again_and_nothing_else(
    db_url: str,
    engine: Engine,
    fake_slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_world(engine)
    with session_scope(engine) as session:
        outbox.enqueue(session, key="nudge:unrelated", kind="nudge", channel="C0OTHER", text="a nudge")
    for name, value in {
        "ADOPTBOT_MIN_GROUP_SIZE": str(K),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": fake_slack.url,
        "ADOPTBOT_SEND_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    fake_slack.fail_next("chat.postMessage", status=500, times=4)  # every leader's digest message

    assert main(["digest", "--db", db_url, "--week", "2026-W47", "--send"]) == 1
    out, err = capsys.readouterr()
    assert out == "Week 2026-W47: queued 12 messages for 4 leaders; sent 8, failed 4.\n"
    assert err == (
        "adoptbot: not every digest went out: 4 failed (gave up after 1 attempts: 4); run "
        "`adoptbot digest --week 2026-W47 --send` again to retry them, or see `adoptbot outbox status`.\n"
    )
    assert not digest_messages(fake_slack)

    assert main(["digest", "--db", db_url, "--week", "2026-W47", "--send"]) == 0
    assert capsys.readouterr().out == (
        "Week 2026-W47: queued 0 messages for 0 leaders (4 failed before, sent again); sent 4, failed 0.\n"
    )
    assert set(digest_messages(fake_slack).values()) == {1} and len(digest_messages(fake_slack)) == 4
    assert main(["digest", "--db", db_url, "--week", "2026-W47", "--send"]) == 0
    assert "(4 already had it)" in capsys.readouterr().out
    with Session(engine) as session:
        nudge = session.scalars(select(OutboxMessage).where(OutboxMessage.key == "nudge:unrelated")).one()
    assert nudge.state == "pending" and not fake_slack.messages("C0OTHER")  # not the command's to send


def test_a_bad_week_is_a_usage_error(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["digest", "--db", db_url, "--week", "2026-47"]) == 2
    assert capsys.readouterr().err == "adoptbot: --week: '2026-47' is not an ISO week like 2026-W47.\n"
