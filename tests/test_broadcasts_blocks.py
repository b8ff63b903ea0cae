"""The broadcast builders stay within Slack's limits (checked by the fake Slack's validator), and the
composer's checks count the message as Slack does."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine

from bot.broadcasts import blocks
from bot.broadcasts import service as broadcasts
from bot.broadcasts.blocks import ComposerValues, HomeItem, Letter, Progress
from bot.db import session_scope
from bot.models import BroadcastStatus, Team
from bot.slack import ids
from tests.support.fake_slack import validate_blocks, validate_view
from tests.support.slack_app import library

NOW = datetime(2026, 3, 2, 12, 0)


def check(engine: Engine, message: str, **values: object) -> broadcasts.Draft:
    with session_scope(engine, readonly=True) as session:
        form = ComposerValues(message=message, everyone=True, **values)  # type: ignore[arg-type]
        return broadcasts.check_draft(session, form, library=library(), timezone="Europe/Paris", now=NOW)


def test_a_message_of_3000_characters_fits_one_section_and_escaping_counts(engine: Engine) -> None:
    longest = "a" * 2995 + " & b"  # "&" becomes "&amp;": 3,003 characters as posted
    with pytest.raises(broadcasts.DraftInvalid) as refused:
        check(engine, longest)
    assert refused.value.errors["message"].startswith("That's 3,003 characters as Slack counts them")

    draft = check(engine, "a" * 3000)
    letter = Letter(1, draft.text, "Maria", "UMGR0001", ask_ack=True)
    assert validate_blocks(blocks.letter_blocks(letter)) == []
    assert validate_blocks(blocks.reminder_blocks(letter)) == []
    assert validate_blocks(blocks.letter_blocks(letter, acked_on="Mon 2 Mar, 13:00")) == []


def test_a_scheduled_time_is_read_in_the_senders_zone_and_must_be_in_the_future(engine: Engine) -> None:
    draft = check(engine, "Hi", later=True, date="2026-03-02", time="14:00")
    assert draft.send_at == datetime(2026, 3, 2, 13, 0)  # 14:00 in Paris is 13:00 UTC in winter
    with pytest.raises(broadcasts.DraftInvalid) as refused:
        check(engine, "Hi", later=True, date="2026-03-02", time="13:00")  # 12:00 UTC: now, not later
    assert refused.value.errors == {
        "time": "That time has passed: it is now Mon 2 Mar 2026, 13:00 in Europe/Paris. "
        "Pick a later time, or choose to send it now."
    }


def test_the_composer_fits_slacks_limits_with_many_teams_and_a_prefilled_draft() -> None:
    teams = [(str(i), f"Team {i:03d} " + "x" * 80) for i in range(150)]
    roles = [(r.id, r.name) for r in library().roles.values()]
    values = ComposerValues(
        message="x" * 3000,
        teams=("3", "7"),
        roles=("sales",),
        channel="C0ANNOUNCE",
        later=True,
        date="2026-03-05",
        time="09:30",
        ask_ack=True,
        reminder_days=3,
    )
    view = blocks.composer_modal(
        values, teams=teams, roles=roles, timezone="Asia/Tokyo", private_metadata="{}"
    )
    assert validate_view(view) == []
    team_menu = next(b for b in view["blocks"] if b.get("block_id") == ids.BROADCAST_TEAMS_BLOCK)["element"]
    assert team_menu["type"] == "multi_external_select"  # more teams than a static menu holds
    assert [o["value"] for o in team_menu["initial_options"]] == ["3", "7"]
    small = blocks.composer_modal(
        ComposerValues(), teams=teams[:5], roles=roles, timezone="UTC", private_metadata=""
    )
    assert validate_view(small) == []


def test_preview_status_and_home_stay_within_limits() -> None:
    letter = Letter(7, "x" * 3000, "A" * 300, "UMGR0001", ask_ack=True)
    for state in (
        BroadcastStatus.DRAFT,
        BroadcastStatus.SCHEDULED,
        BroadcastStatus.SENDING,
        BroadcastStatus.CANCELLED,
    ):
        card = blocks.PreviewCard(
            letter,
            "Teams: " + ", ".join(["Team"] * 600),
            1180,
            20,
            "Tue 3 Mar 2026, 09:00 (Europe/Paris)",
            "C0ANNOUNCE",
            3,
            state,
        )
        assert validate_blocks(blocks.preview_blocks(card)) == []
    progress = Progress(7, blocks.excerpt("x" * 500), 1200, 340, 3, 85, True, False)
    assert blocks.progress_line(progress) == "Delivered 340 of 1,200 · 3 unreachable · 85 acknowledged"
    done = Progress(7, "x", 1200, 1197, 3, 85, False, True)
    assert blocks.progress_line(done) == "Delivered to all 1,197 · 3 unreachable"
    assert validate_blocks(blocks.status_blocks(progress, updated="09:03")) == []
    items = [
        HomeItem(i, "x" * 80, "Tue 3 Mar 2026, 09:00 (UTC)", "Maria", "Will reach 1,180 people")
        for i in range(5)
    ]
    home = {
        "type": "home",
        "blocks": blocks.home_section(items, items[:3], more_scheduled=4, command="/adopt"),
    }
    assert validate_view(home) == []


def test_unknown_teams_and_roles_are_dropped_and_an_empty_audience_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Team(name="Sales"))
    with session_scope(engine, readonly=True) as session:
        form = ComposerValues(message="Hi", teams=("999",), roles=("astronaut",))
        with pytest.raises(broadcasts.DraftInvalid) as refused:
            broadcasts.check_draft(session, form, library=library(), timezone="UTC", now=NOW)
    assert set(refused.value.errors) == {"audience"}
