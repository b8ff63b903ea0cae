"""`adoptbot forget`: a person's data gone from every table, nothing more sent to them, past metrics the same.

Real databases (SQLite and PostgreSQL), the real services and outbox, the fake Slack over HTTP, the CLI.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot import clock, outbox
from bot.broadcasts import service as broadcasts
from bot.broadcasts.service import Audience, Draft
from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.forget.service import forget
from bot.metrics.service import last_complete_week
from bot.models import (
    AiCache,
    AppState,
    Base,
    Broadcast,
    OutboxMessage,
    Person,
    PulseAnswer,
    PulseInvitation,
    PulseResponse,
    Team,
    Win,
)
from bot.pulses.service import SECRET_KEY, respondent_key
from bot.wins import service as wins
from bot.wins.service import WinInput
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import library
from tests.test_wins_slack import send, text_of

AUTHOR, AUTHOR_NAME, AUTHOR_EMAIL = "UAUTHOR01", "Ada Lovelace", "ada.lovelace@example.com"
MANAGER, MANAGER_NAME = "UMANAGER1", "Grace Hopper"
OTHER = "UOTHER001"
CHANNEL = "CWINS0001"
STORY = "Drafted the quarterly deck with AI from my own meeting notes"
PENDING_STORY = "Summarised forty customer calls into one page"
TOOL = "QuillWriter Pro"
LINK = "https://acme.slack.com/archives/C0123/p1700000000000100"
SECRETS = (AUTHOR, AUTHOR_NAME, "Lovelace", AUTHOR_EMAIL, STORY, PENDING_STORY, TOOL, LINK, "Out sick")


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(slack_settings, wins_channel=CHANNEL)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def dump(engine: Engine) -> dict[str, list[str]]:
    """Every row of every table, as text (sorted, so two dumps compare equal when nothing changed)."""
    with engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
            for table in Base.metadata.sorted_tables
        }


def mentions(engine: Engine, *needles: str) -> list[str]:
    """`table: row` for every row that contains one of `needles` anywhere (case-insensitive)."""
    wanted = [n.casefold() for n in needles]
    return [
        f"{table}: {row}"
        for table, rows in dump(engine).items()
        for row in rows
        if any(n in row.casefold() for n in wanted)
    ]


def person(engine: Engine, slack_id: str) -> Person:
    with session_scope(engine, readonly=True) as session:
        found = session.scalars(select(Person).where(Person.slack_user_id == slack_id)).one()
        session.expunge(found)
        return found


def metrics(capsys: pytest.CaptureFixture[str], db_url: str, week: str) -> dict[str, dict[str, Any]]:
    code, out, err = cli(capsys, "metrics", "--week", week, "--format", "json", "--db", db_url)
    assert code == 0, err
    return {row["team"]: row for row in json.loads(out)}


# --- in Slack: a member with wins, messages queued, then erased ------------------------------------------


def _world(engine: Engine, settings: Settings) -> tuple[int, int, int]:
    """Ada shares a win (approved, posted in the channel, all sent), then a second one (pending) and
    Grace broadcasts to everyone (not sent yet). Returns (approved win, pending win, broadcast)."""
    with session_scope(engine) as session:
        ada = add_person(session, AUTHOR, name=AUTHOR_NAME)
        ada.email, ada.timezone, ada.away_text = AUTHOR_EMAIL, "Europe/London", "Out sick"
        grace = add_person(session, MANAGER, team="People Ops", change_manager=True, name=MANAGER_NAME)
        add_person(session, OTHER, team="Support", name="Alan Turing")
        team_id = ada.team_id
        approved = wins.submit(
            session,
            author=ada,
            data=WinInput(STORY, TOOL, 1.5, team_id, "named", LINK),
            settings=settings,
        )
        session.flush()
        assert wins.decide(
            session,
            win_id=approved.id,
            approve=True,
            reviewer_user_id=MANAGER,
            reviewer=grace,
            settings=settings,
        )
        approved_id = approved.id
    send(engine, settings)
    with session_scope(engine) as session:
        ada = session.scalars(select(Person).where(Person.slack_user_id == AUTHOR)).one()
        grace = session.scalars(select(Person).where(Person.slack_user_id == MANAGER)).one()
        pending = wins.submit(
            session, author=ada, data=WinInput(PENDING_STORY, None, 3, team_id, "named"), settings=settings
        )
        draft = Draft("Office hours on Thursday", Audience(everyone=True), None, None, True, None)
        broadcast = broadcasts.save_draft(
            session, draft, sender=grace, sender_user=MANAGER, timezone="Europe/Paris", library=library()
        )
        session.flush()
        assert broadcasts.confirm(session, broadcast.id, now=clock.utcnow(), library=library())
        return approved_id, pending.id, broadcast.id


def test_forgetting_someone_erases_them_everywhere_and_sends_them_nothing_more(
    settings: Settings,
    engine: Engine,
    fake_slack: FakeSlack,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    approved, pending, _ = _world(engine, settings)
    week = clock.iso_week(clock.utcnow().date())
    before = metrics(capsys, db_url, week)
    [post] = fake_slack.messages(CHANNEL)
    assert STORY in text_of(post) and f"<@{AUTHOR}>" in text_of(post)
    tombstone_id = person(engine, AUTHOR).id
    ada_had = len(fake_slack.messages(AUTHOR))

    code, out, err = cli(capsys, "forget", AUTHOR, "--db", db_url)

    assert (code, err) == (0, "")
    assert f"Erased what Adoptbot kept about {AUTHOR}:" in out
    assert "1 approved win still counted (1.5 h a week saved)" in out
    assert "1 win not approved deleted" in out
    assert "8 stored messages to or about them cleared (3 not sent yet: cancelled)" in out
    assert "2 bot messages showing their wins will be replaced by a removal note" in out
    assert AUTHOR_NAME not in out and AUTHOR_EMAIL not in out

    send(engine, settings)
    # Nothing reached Ada after the erasure; the others got what was meant for them.
    assert len(fake_slack.messages(AUTHOR)) == ada_had
    assert [m for m in fake_slack.messages(OTHER) if "Office hours" in text_of(m)]
    # The pending win's review DM was never sent; the approved one's, and the channel post, were edited.
    assert not [m for m in fake_slack.messages(MANAGER) if m.payload.get("win_id") == pending]
    [review] = [m for m in fake_slack.messages(MANAGER) if m.payload.get("win_id") == approved]
    [post] = fake_slack.messages(CHANNEL)
    for edited in (review, post):
        assert "its author asked for their data to be erased" in text_of(edited)
        assert STORY not in text_of(edited) and AUTHOR not in text_of(edited)

    # Gone from every table, however it was stored.
    assert mentions(engine, *SECRETS) == []
    with session_scope(engine, readonly=True) as session:
        tombstone = session.get(Person, tombstone_id)
        assert tombstone is not None and tombstone.erased_at is not None and not tombstone.is_active
        assert session.scalar(select(func.count()).select_from(Person)) == 3
        assert session.scalar(select(func.count()).select_from(Win)) == 1  # the pending one is deleted
        kept = session.get(Win, approved)
        assert kept is not None and kept.author_id is None and kept.status == "approved"
        assert (kept.share, kept.tool, kept.source_link) == ("private", None, None)
        grace = session.scalars(select(Broadcast)).one()
        assert grace.sender_user == MANAGER  # the others keep what is theirs
    # The approved win still counts this week; nothing else moves but Ada leaving the members.
    after = metrics(capsys, db_url, week)
    for team in ("Sales EMEA", "*"):
        assert (after[team]["wins"], after[team]["hours_saved"]) == (1, 1.5)
        assert after[team]["engaged"] == before[team]["engaged"]
        assert after[team]["members"] == before[team]["members"] - 1

    # A second run changes nothing and says so in one line.
    snapshot = dump(engine)
    code, out, err = cli(capsys, "forget", AUTHOR, "--db", db_url)
    assert (code, out) == (2, "")
    assert err == (
        f"adoptbot: nothing to erase: no record mentions {AUTHOR} "
        "(never known to Adoptbot, or already erased).\n"
    )
    assert dump(engine) == snapshot

    # Added again later, Ada is a new person: the anonymous record is never revived.
    roster = tmp_path / "roster.csv"
    roster.write_text(f"slack_user_id,name,team,role\n{AUTHOR},{AUTHOR_NAME},Sales EMEA,sales\n")
    code, out, err = cli(capsys, "roster", "import", str(roster), "--db", db_url)
    assert code == 0 and out.startswith("1 added, 0 updated"), (out, err)
    again = person(engine, AUTHOR)
    assert again.id != tombstone_id and again.is_active and again.erased_at is None
    with session_scope(engine, readonly=True) as session:
        tombstone = session.get(Person, tombstone_id)
        assert tombstone is not None and tombstone.slack_user_id is None and tombstone.name == ""


def test_forgetting_a_change_manager_unsigns_their_broadcasts_and_reviews(
    settings: Settings,
    engine: Engine,
    fake_slack: FakeSlack,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    approved, _, broadcast_id = _world(engine, settings)  # Grace's broadcast is queued, not sent
    with session_scope(engine) as session:
        when = clock.utcnow() + timedelta(days=2)
        draft = Draft("Next month's plan", Audience(everyone=True), None, when, False, None)
        grace = session.scalars(select(Person).where(Person.slack_user_id == MANAGER)).one()
        later = broadcasts.save_draft(
            session, draft, sender=grace, sender_user=MANAGER, timezone="Europe/Paris", library=library()
        )
        session.flush()
        assert broadcasts.confirm(session, later.id, now=clock.utcnow(), library=library())
        scheduled = later.id
    admins = dataclasses.replace(settings, admins=frozenset({MANAGER}))

    with session_scope(engine) as session:
        report = forget(session, MANAGER.lower(), settings=admins)
    assert (report.broadcasts, report.broadcasts_cancelled, report.reviews) == (2, 1, 1)
    assert report.admin and report.messages_redacted >= 2  # Alan's and Ada's letters were signed by Grace

    send(engine, settings)
    [letter] = [m for m in fake_slack.messages(OTHER) if "Office hours" in text_of(m)]
    assert "From *your change team* via Adoptbot" in text_of(letter)
    assert not fake_slack.messages(MANAGER)[1:]  # only the review DM sent before; nothing since
    assert mentions(engine, MANAGER, MANAGER_NAME, "Hopper") == []
    with session_scope(engine, readonly=True) as session:
        statuses = dict(session.execute(select(Broadcast.id, Broadcast.status)).all())
        assert statuses == {broadcast_id: "sending", scheduled: "cancelled"}
        win = session.get(Win, approved)
        assert win is not None and (win.reviewed_by, win.reviewer_user_id) == (None, None)
        assert win.what == STORY and win.author_id is not None  # Ada's win is Ada's
        renamed = session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.like("erased:%"))).all()
        assert renamed  # `win-review:<win>:<Grace's ID>` no longer names her


def test_an_admin_without_a_record_is_erased_from_what_they_sent(
    settings: Settings,
    engine: Engine,
    fake_slack: FakeSlack,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin = "UADMIN001"  # in ADOPTBOT_ADMINS only: no person record, so letters are signed with a mention
    with session_scope(engine) as session:
        add_person(session, OTHER, name="Alan Turing")
        add_person(session, AUTHOR, name=AUTHOR_NAME)
        draft = Draft("Town hall at noon", Audience(everyone=True), None, None, False, None)
        made = broadcasts.save_draft(
            session, draft, sender=None, sender_user=admin, timezone="Europe/Paris", library=library()
        )
        session.flush()
        assert broadcasts.confirm(session, made.id, now=clock.utcnow(), library=library())
    assert mentions(engine, admin)

    code, out, err = cli(capsys, "forget", admin, "--db", db_url)

    assert code == 0, err
    assert "broadcasts: 1 broadcast they sent no longer name them" in out
    assert "2 messages to others no longer name them" in out
    send(engine, settings)
    for user in (OTHER, AUTHOR):
        [letter] = fake_slack.messages(user)
        assert "From a former colleague via Adoptbot" in text_of(letter) and admin not in text_of(letter)
    assert not fake_slack.messages(admin)  # the preview and status DMs were cancelled
    assert mentions(engine, admin) == []
    assert cli(capsys, "forget", admin, "--db", db_url)[0] == 2


def test_a_message_queued_to_them_after_the_erasure_is_caught_by_running_it_again(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        ada_id = add_person(session, AUTHOR, name=AUTHOR_NAME).id
    assert cli(capsys, "forget", AUTHOR, "--db", db_url)[0] == 0
    with session_scope(engine) as session:  # a tick on another instance had picked Ada just before
        outbox.enqueue(
            session,
            key="nudge:late",
            kind="nudge",
            channel=AUTHOR,
            text=f"Hi {AUTHOR_NAME}",
            person_id=ada_id,
        )
    code, out, _ = cli(capsys, "forget", AUTHOR, "--db", db_url)
    assert code == 0 and "1 stored message to or about them cleared (1 not sent yet: cancelled)" in out
    assert mentions(engine, AUTHOR, AUTHOR_NAME) == []
    with session_scope(engine, readonly=True) as session:
        assert session.scalars(select(OutboxMessage.state)).all() == ["skipped"]


def test_unknown_and_malformed_ids_are_refused_in_one_line(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        add_person(session, OTHER, name="Alan Turing")
    snapshot = dump(engine)
    for who, message in [
        ("UNOBODY01", "nothing to erase: no record mentions UNOBODY01"),
        ("nobody@example.com", "nothing to erase: no record mentions nobody@example.com"),
        ("alan", "'alan' is not a Slack user ID (they look like U0123ABCD)."),
    ]:
        code, out, err = cli(capsys, "forget", who, "--db", db_url)
        assert (code, out) == (2, ""), err
        assert err.startswith(f"adoptbot: {message}") and err.count("\n") == 1 and "Traceback" not in err
    assert dump(engine) == snapshot


def test_dry_run_shows_what_would_go_and_changes_nothing(
    engine: Engine, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with session_scope(engine) as session:
        add_person(session, OTHER, name="Alan Turing")
        session.add(
            Person(email="li.wei@example.com", name="Li Wei", team=session.scalars(select(Team)).one())
        )
    snapshot = dump(engine)
    code, out, _ = cli(capsys, "forget", "Li.Wei@example.com", "--dry-run", "--db", db_url)
    assert code == 0 and out.startswith("Dry run, nothing changed. `adoptbot forget li.wei@example.com`")
    assert dump(engine) == snapshot
    code, out, _ = cli(capsys, "forget", "li.wei@example.com", "--db", db_url)  # known by email only
    assert code == 0 and mentions(engine, "Li Wei", "li.wei") == []


# --- the metrics of past weeks, on a demo organisation with history ---------------------------------------


def _weeks(settings: Settings, count: int) -> list[str]:
    last = last_complete_week(settings)
    return [clock.iso_week(last - timedelta(weeks=n)) for n in range(count)]


def _answer_sheets(session: Session, secret: str, person_id: int) -> tuple[list[int], list[tuple[int, str]]]:
    """The ids of a person's answer sheets (found as the product finds them: by HMAC) and their comments."""
    runs = session.scalars(select(PulseInvitation.run_id).where(PulseInvitation.person_id == person_id))
    keys = [respondent_key(secret.encode(), run, person_id) for run in runs]
    sheets = list(session.scalars(select(PulseResponse.id).where(PulseResponse.respondent.in_(keys))))
    comments = session.execute(
        select(PulseResponse.run_id, PulseAnswer.text)
        .join(PulseResponse)
        .where(PulseResponse.id.in_(sheets), PulseAnswer.text.is_not(None))
    ).all()
    return sheets, [(run, str(text)) for run, text in comments]


def test_every_metric_of_past_weeks_is_the_same_after_forgetting(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(capsys, "demo", "--teams", "4", "--members", "60", "--weeks", "6", "--db", db_url)
    assert code == 0, err
    with session_scope(engine) as session:
        # An active member with an approved win and a pulse comment, and someone who had already left.
        secret = session.scalar(select(AppState.value).where(AppState.key == SECRET_KEY))
        assert secret is not None
        authors = session.scalars(
            select(Person)
            .join(Win, Win.author_id == Person.id)
            .where(Win.status == "approved")
            .order_by(Person.id)
        ).all()
        member = next(a for a in authors if _answer_sheets(session, secret, a.id)[1])
        leaver = session.scalars(
            select(Person)
            .where(Person.id != member.id, Person.team_id == member.team_id)
            .order_by(Person.id)
            .limit(1)
        ).one()
        leaver.is_active = False
        people = {p.id: str(p.slack_user_id) for p in (member, leaver)}
        sheets = {pid: _answer_sheets(session, secret, pid) for pid in people}
        assert sheets[member.id][0] and sheets[member.id][1]
        run_commented = sheets[member.id][1][0][0]
        session.add(AiCache(key=f"pulse-comments:{run_commented}:abc", value="themes"))
        comments = session.scalar(select(func.count()).where(PulseAnswer.text.is_not(None)))
        team = session.get(Team, member.team_id)
        assert team is not None
        team_name = team.name
    settings = Settings()
    weeks = _weeks(settings, 7)
    current = clock.iso_week(clock.utcnow().date())
    before = {week: metrics(capsys, db_url, week) for week in [*weeks, current]}
    assert sum(row["wins"] for week in weeks for row in before[week].values()) > 0
    assert sum(row["respondents"] or 0 for week in weeks for row in before[week].values()) > 0

    for pid, who in people.items():
        code, out, err = cli(capsys, "forget", who, "--db", db_url)
        assert code == 0, err
        assert not sheets[pid][0] or f"{len(sheets[pid][0])} answer sheet" in out
    after = {week: metrics(capsys, db_url, week) for week in [*weeks, current]}

    # Every figure of past weeks stays the same, except what the tools measured: the person's licence and
    # activity facts are erased, not kept on the anonymous record, so those counts lose them.
    measured = ("licensed", "measured_active", "measured_rate", "idle_licences", "say_do_gap")

    def without_measured(rows: dict[str, dict[str, object]]) -> dict[str, dict[str, object]]:
        return {team: {k: v for k, v in row.items() if k not in measured} for team, row in rows.items()}

    for week in weeks:
        assert without_measured(after[week]) == without_measured(before[week]), week
        dropped = (before[week]["*"]["licensed"] or 0) - (after[week]["*"]["licensed"] or 0)
        assert 0 <= dropped <= len(people), week
    assert any(before[week]["*"]["licensed"] != after[week]["*"]["licensed"] for week in weeks)
    # From now on they are not members any more (the leaver was not one already).
    assert after[current][team_name]["members"] == before[current][team_name]["members"] - 1
    with session_scope(engine, readonly=True) as session:
        erased = sum(len(found[1]) for found in sheets.values())
        assert session.scalar(select(func.count()).where(PulseAnswer.text.is_not(None))) == comments - erased
        for pid in people:  # not even the secret finds their answer sheets any more
            assert _answer_sheets(session, secret, pid) == ([], [])
        for ids, _ in sheets.values():  # ... which are all still there, and still counted
            assert session.scalar(select(func.count()).where(PulseResponse.id.in_(ids))) == len(ids)
        assert session.scalars(select(AiCache.key).where(AiCache.key.like("pulse-comments:%"))).all() == []
    assert mentions(engine, *people.values()) == []
