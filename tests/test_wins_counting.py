"""Wins counted and celebrated: metrics (through the CLI), the AI-polished version, the monthly recognition,
and the snippets digests show."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

import pytest
from sqlalchemy import Engine, select

from bot import clock
from bot.cli import main
from bot.config import Settings
from bot.content import Holiday
from bot.db import session_scope
from bot.jobs import registered_jobs
from bot.models import AiCall, OutboxMessage, Person, Team, Win
from bot.slack import ids
from bot.wins import service as wins
from bot.wins.blocks import digest_lines
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_slack import FakeSlack, Message
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_nudges_world import make_library
from tests.test_wins_slack import (
    ADMIN,
    AUTHOR,
    CHANNEL,
    MANAGER,
    OTHER,
    action_ids,
    click,
    review_dm,
    roster,
    send,
    settings,
    share_win,
    text_of,
    win_row,
)

__all__ = ["roster", "settings"]  # fixtures shared with test_wins_slack


def _review_dm_of(fake: FakeSlack, user: str, win_id: int) -> Message:
    [message] = [m for m in fake.messages(user) if m.payload.get("win_id") == win_id]
    return message


# --- metrics --------------------------------------------------------------------------------------------


def test_approved_wins_and_their_hours_count_in_metrics_json(
    settings: Settings,
    engine: Engine,
    fake_slack: FakeSlack,
    roster: None,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with SlackAppServer(settings, engine) as server:
        named = share_win(server, fake_slack, engine, hours="1.5")
        private = share_win(server, fake_slack, engine, hours="2", share="private")
        anonymous = share_win(server, fake_slack, engine, user=OTHER, hours="3", share="anonymous")
        rejected = share_win(server, fake_slack, engine, hours="5")
        share_win(server, fake_slack, engine, hours="7")  # still pending
        send(engine, settings)
        for win_id in (named, private, anonymous):
            click(server, _review_dm_of(fake_slack, MANAGER, win_id), MANAGER, ids.WIN_APPROVE)
        wait_for(lambda: all(win_row(engine, w).status == "approved" for w in (named, private, anonymous)))
    with session_scope(engine) as session:
        decision = wins.decide(
            session,
            win_id=rejected,
            approve=False,
            reviewer_user_id=ADMIN,
            reviewer=None,
            settings=settings,
            reason="Same as your other one",
        )
        assert decision is not None and decision.decided_now
    week = clock.iso_week(clock.utcnow().date())
    assert main(["metrics", "--week", week, "--format", "json", "--db", db_url]) == 0
    rows = {row["team"]: row for row in json.loads(capsys.readouterr().out)}
    assert (rows["Sales EMEA"]["wins"], rows["Sales EMEA"]["hours_saved"]) == (2, 3.5)
    assert (rows["Support"]["wins"], rows["Support"]["hours_saved"]) == (1, 3.0)
    assert (rows["People Ops"]["wins"], rows["People Ops"]["hours_saved"]) == (0, 0.0)
    assert (rows["*"]["wins"], rows["*"]["hours_saved"]) == (3, 6.5)
    # Submitting a win is activity: the author's team counts them as engaged (once, whatever the count).
    assert (rows["Sales EMEA"]["engaged"], rows["Support"]["engaged"], rows["People Ops"]["engaged"]) == (
        1,
        1,
        0,
    )


# --- the AI-polished version ----------------------------------------------------------------------------

POLISHED = (
    "Drafted the QBR deck with AI from last quarter's notes <!channel>. It saves about 90 minutes a week."
)


def test_the_author_may_pick_the_ai_polished_version(
    settings: Settings, engine: Engine, fake_slack: FakeSlack, fake_openai: FakeOpenAI, roster: None
) -> None:
    ai_settings = dataclasses.replace(settings, openai_api_key="sk-test", openai_base_url=fake_openai.url)
    fake_openai.reply(POLISHED)
    story = "Ada Lovelace here (ada@example.com): I had AI draft the QBR deck"
    with SlackAppServer(ai_settings, engine) as server:
        win_id = share_win(server, fake_slack, engine, what=story)
        wait_for(lambda: win_row(engine, win_id).polish_offer, what="the polished version to be offered")
        send(engine, ai_settings)
        [confirmation] = fake_slack.messages(AUTHOR)
        assert confirmation.updates == 1
        assert action_ids(confirmation) == [ids.WIN_USE_POLISHED, ids.WIN_KEEP_MINE]
        assert "&lt;!channel&gt;" in text_of(confirmation) and "<!channel>" not in text_of(confirmation)
        click(server, confirmation, AUTHOR, ids.WIN_USE_POLISHED)
        wait_for(lambda: win_row(engine, win_id).polished, what="the choice")
        send(engine, ai_settings)
        [confirmation] = fake_slack.messages(AUTHOR)
        assert confirmation.updates == 2 and action_ids(confirmation) == []
        assert "You picked the polished version" in text_of(confirmation)
        review = review_dm(fake_slack, MANAGER)
        assert review.updates == 1 and "The author picked an AI-polished version" in text_of(review)
        click(server, review, MANAGER, ids.WIN_APPROVE)
        wait_for(lambda: win_row(engine, win_id).status == "approved", what="the approval")
        send(engine, ai_settings)
    [post] = fake_slack.messages(CHANNEL)
    assert "It saves about 90 minutes a week." in text_of(post) and "QBR deck with AI from" in text_of(post)
    assert "Ada Lovelace here" not in text_of(post) and "<!channel>" not in text_of(post)
    [request] = fake_openai.requests  # one call, names and e-mail redacted before they left
    assert "draft the QBR deck" in request.text
    for secret in ("Ada", "Lovelace", "ada@example.com"):
        assert secret not in request.text
    with session_scope(engine, readonly=True) as session:
        audit = session.scalars(select(AiCall)).all()
    assert [(a.purpose, a.outcome) for a in audit] == [("win_polish", "ok")]


@pytest.mark.parametrize("fault", ["error", "timeout"])
def test_a_failed_polish_offers_nothing_and_the_win_goes_on(
    fault: str,
    settings: Settings,
    engine: Engine,
    fake_slack: FakeSlack,
    fake_openai: FakeOpenAI,
    roster: None,
) -> None:
    ai_settings = dataclasses.replace(settings, openai_api_key="sk-test", openai_base_url=fake_openai.url)
    with SlackAppServer(settings, engine) as server:  # no key in the app: the polish is run below
        win_id = share_win(server, fake_slack, engine)
    if fault == "error":
        fake_openai.fail_next(500)
    else:
        fake_openai.delay(1.0)
    assert wins.polish_and_offer(engine, ai_settings, win_id, timeout=0.3) is False
    fake_openai.delay(0)
    send(engine, ai_settings)
    [confirmation] = fake_slack.messages(AUTHOR)
    assert confirmation.updates == 0 and action_ids(confirmation) == []
    assert win_row(engine, win_id).polish_offer is None
    with session_scope(engine, readonly=True) as session:
        [audit] = session.scalars(select(AiCall)).all()
    assert audit.purpose == "win_polish" and audit.outcome.startswith(
        "timeout" if fault == "timeout" else "error"
    )
    # Without a key there is no call at all (and so no audit row).
    assert wins.polish_and_offer(engine, settings, win_id) is False
    with session_scope(engine, readonly=True) as session:
        assert len(session.scalars(select(AiCall)).all()) == 1


# --- the monthly recognition ----------------------------------------------------------------------------


def _seed_month(engine: Engine) -> dict[str, int]:
    """Approved wins in October 2026: Alpha 3, Charlie 2, Echo 1 (private, 4 h), Bravo 1 (1 h); Delta only
    a rejected one; Foxtrot one in September and one pending."""
    plan = {
        "Alpha": [("approved", "named", 1.0, 10)] * 3,
        "Bravo": [("approved", "anonymous", 1.0, 12)],
        "Charlie": [("approved", "named", 2.0, 31), ("approved", "named", 0.5, 1)],
        "Delta": [("rejected", "named", 9.0, 15)],
        "Echo": [("approved", "private", 4.0, 20)],
        "Foxtrot": [("approved", "named", 9.0, -1), ("pending", "named", 9.0, 5)],
    }
    ids_by_team: dict[str, int] = {}
    with session_scope(engine) as session:
        for name, rows in plan.items():
            team = Team(name=name)
            person = Person(slack_user_id=f"U{name.upper():0<8}", name=f"Person of {name}", team=team)
            session.add_all([team, person])
            session.flush()
            ids_by_team[name] = team.id
            for status, share, hours, day in rows:
                submitted = datetime(2026, 9, 30, 23) if day < 0 else datetime(2026, 10, day, 12)
                session.add(
                    Win(
                        author_id=person.id,
                        team_id=team.id,
                        what=f"{name} story",
                        hours_per_week=hours,
                        share=share,
                        status=status,
                        submitted_at=submitted,
                    )
                )
    return ids_by_team


def test_the_monthly_recognition_congratulates_the_top_teams_once(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    assert "wins.recognition" in registered_jobs()
    settings = dataclasses.replace(slack_settings, wins_channel=CHANNEL)  # org time zone UTC, digest hour 9
    library = make_library(holidays=(Holiday(date(2026, 11, 2), "Company day", ()),))
    _seed_month(engine)

    def run(now: datetime, with_settings: Settings = settings) -> int:
        with session_scope(engine) as session:
            return wins.post_monthly_recognition(session, with_settings, library, now)

    assert run(datetime(2026, 11, 2, 10)) == 0  # Monday, but a holiday: the first working day is Tuesday
    assert run(datetime(2026, 11, 3, 8, 59)) == 0  # before the digest hour
    assert run(datetime(2026, 11, 3, 9, 5), dataclasses.replace(settings, wins_channel=None)) == 0
    assert run(datetime(2026, 11, 3, 9, 5)) == 1
    assert run(datetime(2026, 11, 3, 9, 30)) == 0 and run(datetime(2026, 11, 5, 9)) == 0
    send(engine, settings)
    [post] = fake_slack.messages(CHANNEL)
    text = text_of(post)
    assert "Congratulations" in text and "October 2026" in text
    assert "*Alpha*: 3 wins, about 3 hours a week saved" in text
    assert "*Charlie*: 2 wins, about 2.5 hours a week saved" in text
    assert "*Echo*: 1 win, about 4 hours a week saved" in text
    for absent in ("Bravo", "Delta", "Foxtrot", "Person of", "<@"):
        assert absent not in text  # top 3 teams only, and never a person
    with session_scope(engine, readonly=True) as session:
        keys = session.scalars(select(OutboxMessage.key).where(OutboxMessage.kind == "win_recognition")).all()
    assert keys == ["win-recognition:2026-10"]


def test_the_recognition_skips_a_month_without_wins_and_a_late_start(
    slack_settings: Settings, engine: Engine
) -> None:
    settings = dataclasses.replace(slack_settings, wins_channel=CHANNEL)
    library = make_library()
    _seed_month(engine)
    with session_scope(engine) as session:
        assert (
            wins.post_monthly_recognition(session, settings, library, datetime(2026, 12, 1, 9)) == 0
        )  # no Nov wins
        assert (
            wins.post_monthly_recognition(session, settings, library, datetime(2026, 11, 20, 9)) == 0
        )  # too late
        assert wins.post_monthly_recognition(session, settings, library, datetime(2026, 11, 2, 9)) == 1
    assert wins.first_working_day(2027, 1, "UTC", library.is_holiday) == date(2027, 1, 1)
    assert wins.first_working_day(2026, 8, "UTC", library.is_holiday) == date(2026, 8, 3)  # 1st is a Saturday


# --- digests --------------------------------------------------------------------------------------------


def test_digest_snippets_show_public_wins_and_never_name_anonymous_authors(engine: Engine) -> None:
    teams = _seed_month(engine)
    with session_scope(engine, readonly=True) as session:
        snippets = wins.shareable_wins(
            session, start=datetime(2026, 10, 1), end=datetime(2026, 11, 1), limit=10
        )
        only_bravo = wins.shareable_wins(
            session, start=datetime(2026, 10, 1), end=datetime(2026, 11, 1), team_ids=[teams["Bravo"]]
        )
    assert sorted(s.team or "" for s in snippets) == [
        "Alpha",
        "Alpha",
        "Alpha",
        "Bravo",
        "Charlie",
        "Charlie",
    ]
    [bravo] = only_bravo
    assert bravo.author_user_id is None  # anonymous
    lines = digest_lines(snippets)
    assert "UBRAVO" not in lines and "Echo" not in lines  # not the anonymous author, not the private win
    assert lines.count("<@UALPHA") == 3


def test_keeping_ones_own_words_and_choices_after_the_review(settings: Settings, engine: Engine) -> None:
    with session_scope(engine) as session:
        team = Team(name="Sales EMEA")
        author = Person(slack_user_id=AUTHOR, name="Ada Lovelace", team=team)
        session.add_all([team, author])
        session.flush()
        data = wins.WinInput("I had AI draft the deck", "ChatGPT", 1.5, team.id, "named")
        kept = wins.submit(session, author=author, data=data, settings=settings).id
        decided = wins.submit(session, author=author, data=data, settings=settings).id
        assert wins.offer_polish(session, win_id=kept, text="Two sentences. Here.", settings=settings)
        assert not wins.offer_polish(
            session, win_id=kept, text="A second offer.", settings=settings
        )  # one offer per win
        choose = {"win_id": kept, "author_user_id": AUTHOR}
        assert wins.choose_polish(session, settings, **choose, use=False) == "kept"
        assert (
            wins.choose_polish(session, settings, **choose, use=True) == "chosen"
        )  # the first choice stands
        assert (
            wins.choose_polish(session, settings, win_id=kept, author_user_id=OTHER, use=True) == "not_yours"
        )
        assert wins.offer_polish(session, win_id=decided, text="Polished.", settings=settings)
        decision = wins.decide(
            session, win_id=decided, approve=True, reviewer_user_id=ADMIN, reviewer=None, settings=settings
        )
        assert decision is not None and decision.decided_now
        assert (
            wins.choose_polish(session, settings, win_id=decided, author_user_id=AUTHOR, use=True)
            == "decided"
        )
        assert not wins.offer_polish(session, win_id=decided, text="Too late.", settings=settings)
        rows = {w.id: w for w in session.scalars(select(Win))}
        keys = set(session.scalars(select(OutboxMessage.key)))
    assert (rows[kept].polished, rows[kept].polish_offer, rows[kept].what) == (
        None,
        None,
        "I had AI draft the deck",
    )
    assert rows[decided].polished is None and rows[decided].polish_offer is None
    assert f"win-submitted:{kept}:choice" in keys
    # The decided win's confirmation no longer offers the polished version.
    assert f"win-submitted:{decided}:closed" in keys and f"win-submitted:{kept}:closed" not in keys
