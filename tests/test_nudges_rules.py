"""The rules behind nudges that need no database: which nudge, which zones are at slot time, the blocks."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime

import pytest

from bot.config import Settings
from bot.nudges import blocks, schedule
from bot.nudges.service import choose_nudge, parse_pause_weeks, streak
from bot.slack import ids
from tests.test_nudges_world import make_library, nudge

SETTINGS = Settings()  # Tuesday and Thursday at 10:00, two a week


def test_starts_at_level_one_in_library_order() -> None:
    library = make_library()
    chosen = choose_nudge(library.nudges_for("sales"), set(), 1, None)
    assert chosen is not None
    assert (chosen[0].id, chosen[1]) == ("all-1", 1)


def test_never_repeats_and_moves_up_when_a_level_runs_out() -> None:
    candidates = [nudge("a", 1), nudge("b", 1), nudge("c", 2), nudge("d", 3)]
    first = choose_nudge(candidates, {"a"}, 1, None)
    assert first is not None and first[0].id == "b"
    up = choose_nudge(candidates, {"a", "b"}, 1, None)
    assert up is not None and (up[0].id, up[1]) == ("c", 2)
    assert choose_nudge(candidates, {"a", "b", "c", "d"}, 3, None) is None


def test_falls_back_to_a_lower_level_without_lowering_the_person() -> None:
    # After a role change: the new role has only starter nudges left, the person is at level 3.
    chosen = choose_nudge([nudge("new-1", 1), nudge("new-2", 1)], set(), 3, None)
    assert chosen is not None and (chosen[0].id, chosen[1]) == ("new-1", 3)


def test_prefers_the_team_barrier_stage_within_the_level() -> None:
    candidates = [
        nudge("a", 1, stage="awareness"),
        nudge("b", 1, stage="ability"),
        nudge("c", 2, stage="ability"),
    ]
    chosen = choose_nudge(candidates, set(), 1, "ability")
    assert chosen is not None and chosen[0].id == "b"
    # The level still comes first: no level-1 "desire" nudge, so the first level-1 one.
    other = choose_nudge(candidates, set(), 1, "desire")
    assert other is not None and other[0].id == "a"


@pytest.mark.parametrize(
    ("now_utc", "zone", "local_date"),
    [
        # Tuesdays after the 2026 daylight-saving changes, 10:00 local.
        (datetime(2026, 3, 10, 14, 0), "America/New_York", date(2026, 3, 10)),  # EDT from 8 March
        (datetime(2026, 3, 31, 8, 0), "Europe/Berlin", date(2026, 3, 31)),  # CEST from 29 March
        (datetime(2026, 10, 27, 9, 0), "Europe/Berlin", date(2026, 10, 27)),  # CET from 25 October
        (datetime(2026, 11, 3, 15, 0), "America/New_York", date(2026, 11, 3)),  # EST from 1 November
        (datetime(2026, 11, 3, 4, 30), "Asia/Kolkata", date(2026, 11, 3)),  # UTC+5:30, no DST
        (datetime(2026, 11, 3, 1, 59), "Asia/Tokyo", date(2026, 11, 3)),  # late in the slot hour
    ],
)
def test_slot_time_follows_each_zone_across_dst(now_utc: datetime, zone: str, local_date: date) -> None:
    assert schedule.slot_date(now_utc, zone, SETTINGS) == local_date
    # The same UTC time a week earlier is an hour off whenever DST changed in between.
    hour_before = now_utc.replace(hour=now_utc.hour - 1)
    assert schedule.slot_date(hour_before, zone, SETTINGS) is None


def test_zones_at_slot_groups_by_local_date_across_the_date_line() -> None:
    # 20:00 UTC on Monday is 10:00 on Monday in Honolulu and 10:00 on Tuesday in Kiritimati (UTC+14).
    settings = dataclasses.replace(SETTINGS, nudge_days=(0, 1))
    groups = schedule.zones_at_slot(
        datetime(2026, 11, 23, 20, 15),
        ["Pacific/Honolulu", "Pacific/Kiritimati", "Europe/Berlin", "Not/AZone"],
        settings,
    )
    assert groups == {date(2026, 11, 23): ["Pacific/Honolulu"], date(2026, 11, 24): ["Pacific/Kiritimati"]}


def test_new_people_start_the_monday_after_they_join_in_their_zone() -> None:
    # Sunday 23:30 UTC is already Monday in Tokyo: the Tokyo person joined on Monday, starts a week later.
    joined = datetime(2026, 11, 22, 23, 30)
    assert schedule.start_monday(joined, "Europe/London") == date(2026, 11, 23)
    assert schedule.start_monday(joined, "Asia/Tokyo") == date(2026, 11, 30)


def test_next_slot_is_the_next_configured_weekday_at_the_hour() -> None:
    after = datetime(2026, 11, 24, 9, 30)  # Tuesday 10:30 in Berlin: today's slot has begun
    moment = schedule.next_slot(after, "Europe/Berlin", SETTINGS)
    assert (moment.date(), moment.hour) == (date(2026, 11, 26), 10)
    later = schedule.next_slot(after, "Europe/Berlin", SETTINGS, not_before=date(2026, 12, 2))
    assert later.date() == date(2026, 12, 3)


def test_pause_weeks_are_parsed_strictly() -> None:
    assert parse_pause_weeks("") == 2
    assert parse_pause_weeks(" 3 ") == 3
    assert parse_pause_weeks("12") == 12
    for bad in ("0", "13", "-1", "two", "2.5"):
        assert parse_pause_weeks(bad) is None


def test_streak_counts_consecutive_weeks_with_a_tried_nudge() -> None:
    assert streak(["2026-W46", "2026-W47", "2026-W48"], "2026-W48") == 3
    assert streak(["2026-W46", "2026-W47"], "2026-W48") == 2  # nothing yet this week: the streak holds
    assert streak(["2026-W45", "2026-W47"], "2026-W48") == 1
    assert streak(["2026-W45"], "2026-W48") == 0
    assert streak(["2025-W52", "2026-W01"], "2026-W01") == 2  # across the new year


def _dump(message: list[dict[str, object]]) -> str:
    return json.dumps(message, ensure_ascii=False)


def _card(**changes: object) -> blocks.NudgeCard:
    card = blocks.NudgeCard(
        delivery_id=7,
        slot="2026-11-24",
        title="Summarise a thread",
        body="Body *text*",
        try_it="Paste a long thread and ask:\nwhat was decided?",
        minutes=5,
        link="https://example.com/guide",
        level=1,
    )
    return dataclasses.replace(card, **changes)  # type: ignore[arg-type]


def _action_ids(message: list[dict[str, object]]) -> list[str]:
    found: list[str] = []
    for block in message:
        if block["type"] == "actions":
            found += [str(e["action_id"]) for e in block["elements"]]  # type: ignore[attr-defined]
    return found


def test_a_fresh_nudge_offers_every_choice_and_the_rating() -> None:
    message = blocks.nudge_blocks(_card())
    text = _dump(message)
    assert message[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Summarise a thread", "emoji": True},
    }
    assert ">Paste a long thread and ask:\\n>what was decided?" in text
    assert "About 5 minutes" in text and "<https://example.com/guide|Learn more>" in text
    assert _action_ids(message) == [
        ids.NUDGE_TRIED,
        ids.NUDGE_NOT_FOR_ME,
        ids.NUDGE_LATER,
        ids.NUDGE_SHARE_WIN,
        ids.NUDGE_HELPFUL,
        ids.NUDGE_NOT_HELPFUL,
    ]
    assert (
        blocks.parse_button_value("7:not-a-date") is None
        and blocks.parse_button_value("x:2026-11-24") is None
    )
    tried = next(e for b in message if b["type"] == "actions" for e in b["elements"])
    assert tried["style"] == "primary" and blocks.parse_button_value(tried["value"]) == (7, "2026-11-24")


def test_a_tick_template_renders_exactly_the_message_built_for_each_person() -> None:
    card = _card(body='Body with "quotes", \\backslashes\\ and ünïcode')
    template = blocks.NudgeTemplate(blocks.nudge_content(card))
    for delivery_id, slot in ((7, "2026-11-24"), (123456, "2026-12-01")):
        rendered = template.render(delivery_id, slot).blocks()
        assert rendered == blocks.nudge_blocks(dataclasses.replace(card, delivery_id=delivery_id, slot=slot))


def test_after_a_click_the_choice_shows_and_its_buttons_go() -> None:
    tried = blocks.nudge_blocks(_card(), status="tried")
    assert "You tried this — nice!" in _dump(tried)
    assert _action_ids(tried) == [ids.NUDGE_SHARE_WIN, ids.NUDGE_HELPFUL, ids.NUDGE_NOT_HELPFUL]
    later_rated = blocks.nudge_blocks(_card(), status="later", rating="helpful")
    assert "comes back as your next nudge" in _dump(later_rated)
    assert "You found this helpful" in _dump(later_rated)
    assert _action_ids(later_rated) == []


def test_exhausted_message_invites_a_win() -> None:
    message = blocks.exhausted_blocks("Sales <team>", blocks.Completion(5, 0, 0, 0), 0)
    assert "Sales &lt;team&gt;" in _dump(message)
    assert _action_ids(message) == [ids.NUDGE_SHARE_WIN]
