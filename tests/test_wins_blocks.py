"""The wins builders and parsers, without Slack: every view and message passes Slack's Block Kit checks even
with the longest and most hostile input, typed text is inert, and input is read the way people type it."""

from __future__ import annotations

import dataclasses
import json

import pytest
from sqlalchemy import Engine

from bot.config import Settings
from bot.db import session_scope
from bot.models import Person
from bot.slack import ids
from bot.wins import blocks
from bot.wins import service as wins
from bot.wins.blocks import MyWins, RawWin, TeamWins, WinCard
from tests.support.fake_slack import validate_blocks, validate_view

NASTY = ("<!channel> & <http://evil.example|click> " * 60)[:2000]
TEAMS = [(str(i), f"Team {i:03d} " + "x" * 100) for i in range(150)]
CARD = WinCard(
    id=7,
    what=NASTY,
    tool="<" * 120,
    hours=40.0,
    team_name="<!here> " * 15,
    share="anonymous",
    polished="&" * 2000,
    author_user_id="UAUTHOR01",
    source_link="https://acme.slack.com/archives/C0123/p1700000000000100",
    reviewer_user_id="UMANAGER1",
    reject_reason="<" * 500,
    team_id=3,
)


def _messages() -> dict[str, tuple[str, list[dict[str, object]]]]:
    approved = dataclasses.replace(CARD, status="approved", edited=True)
    return {
        "review pending": blocks.review_message(CARD, channel="CWINS"),
        "review decided": blocks.review_message(approved, channel="CWINS"),
        "review rejected": blocks.review_message(dataclasses.replace(CARD, status="rejected"), channel=None),
        "channel post": blocks.channel_post(approved),
        "submitted with offer": blocks.submitted_message(CARD, offer=NASTY),
        "submitted, polished": blocks.submitted_message(CARD, choice="polished"),
        "approved": blocks.approved_message(approved, channel="CWINS"),
        "rejected": blocks.rejected_message(CARD, command="/adopt"),
        "queue": blocks.queue_message([CARD] * 60, 60, command="/adopt"),
        "recognition": blocks.recognition_message(
            "October 2026", [TeamWins("<!here>" * 20, 9, 12.5)] * 3, command="/adopt"
        ),
    }


@pytest.mark.parametrize("name", list(_messages()))
def test_every_message_passes_slacks_checks_with_the_worst_input(name: str) -> None:
    text, message = _messages()[name]
    assert validate_blocks(message) == []
    assert text and len(text) < 40_000
    for typed in ("<!channel>", "<!here>", "<http://evil"):
        assert typed not in text and typed not in json.dumps(message)


def test_every_view_passes_slacks_checks_with_the_worst_input() -> None:
    views = [
        blocks.win_modal(
            teams=TEAMS, current_team="3", prefill=blocks.WinPrefill(NASTY, "<" * 120, CARD.source_link)
        ),
        blocks.win_modal(teams=TEAMS[:5], current_team=None),
        blocks.win_modal(teams=[], current_team=None),
        blocks.edit_modal(CARD, teams=TEAMS[:5], current_team="3"),
        blocks.reject_modal(7),
        blocks.info_modal("Share a win", "Not yet."),
    ]
    for view in views:
        assert validate_view(view) == []
    big = views[0]
    assert next(b for b in big["blocks"] if b.get("block_id") == ids.WIN_TEAM_BLOCK)["element"]["type"] == (
        "external_select"  # beyond 100 teams the menu asks the app (see on_team_options)
    )
    assert not any(b.get("block_id") == ids.WIN_TEAM_BLOCK for b in views[2]["blocks"])
    home = {"type": "home", "blocks": blocks.home_section(MyWins(3, 4.5, 1, (CARD,) * 5))}
    home["blocks"] += blocks.review_home_section(12, command="/adopt")
    assert validate_view(home) == []
    assert blocks.review_home_section(0, command="/adopt") == []


def test_the_queue_stays_within_50_blocks_and_says_how_many_more() -> None:
    _, queue = blocks.queue_message(
        [dataclasses.replace(CARD, id=i) for i in range(60)], 60, command="/adopt"
    )
    assert len(queue) <= 50
    approve = [
        e for b in queue if b["type"] == "actions" for e in b["elements"] if e["action_id"] == ids.WIN_APPROVE
    ]
    assert [e["value"] for e in approve] == [str(i) for i in range(20)]
    assert "…and 40 more" in json.dumps(queue, ensure_ascii=False)
    assert blocks.queue_message([], 0, command="/adopt")[0] == "No wins are waiting for review."


def test_inert_text_is_cut_between_entities_never_inside_one() -> None:
    cut = blocks.inert("<" * 1000 + "tail", 3000)
    assert len(cut) <= 3000 and cut.endswith("…") and cut[:-1] == "&lt;" * 749
    assert blocks.inert("a & b", 100) == "a &amp; b"
    assert blocks.quote("one\n<two>") == ">one\n>&lt;two&gt;"


def test_the_channel_post_names_only_named_authors() -> None:
    named = dataclasses.replace(CARD, status="approved", share="named")
    assert "Shared by <@UAUTHOR01>" in json.dumps(blocks.channel_post(named)[1])
    for share in ("anonymous", "private"):
        post = json.dumps(blocks.channel_post(dataclasses.replace(named, share=share)))
        assert "UAUTHOR01" not in post and "Shared anonymously" in post


@pytest.mark.parametrize(
    ("typed", "hours"),
    [
        ("1.5", 1.5),
        (" 2 ", 2.0),
        ("1,5", 1.5),
        ("0", 0.0),
        ("40", 40.0),
        ("-1", None),
        ("41", None),
        ("40.01", None),
        ("abc", None),
        ("", None),
        (None, None),
        ("nan", None),
        ("inf", None),
    ],
)
def test_hours_are_read_as_people_type_them(typed: str | None, hours: float | None) -> None:
    assert wins.parse_hours(typed) == hours


@pytest.mark.parametrize(
    ("slack", "typed"),
    [
        ("Saved 2 h &amp; more &lt;3", "Saved 2 h & more <3"),
        (
            "see <https://a.example/x|the doc> and <https://b.example>",
            "see the doc (https://a.example/x) and https://b.example",
        ),
        (
            "hi <@U123ABC> <!here> <!subteam^S1|@sales> in <#C1|general>",
            "hi @U123ABC @here @sales in #general",
        ),
    ],
)
def test_a_messages_text_is_prefilled_as_a_person_would_type_it(slack: str, typed: str) -> None:
    assert wins.readable_message_text(slack) == typed


def test_only_slack_permalinks_are_kept_as_links() -> None:
    good = "https://acme.slack.com/archives/C0123/p1700000000000100"
    assert blocks.safe_link(good) == good
    assert blocks.safe_link(good + "?thread_ts=1700000000.000100&cid=C0123") is not None
    for bad in (
        "https://evil.example/archives/C1/p1700000000",
        f"{good}|click",
        "javascript:alert(1)",
        f"<{good}>",
    ):
        assert blocks.safe_link(bad) is None
    assert blocks.modal_link(json.dumps({"link": "https://evil.example"})) is None
    assert blocks.modal_link("not json") is None
    assert wins.permalink_from("acme", "C0123", "1700000000.000100") == good
    assert wins.permalink_from("acme", "C0123", "../../x") is None


# --- service checks that need a database ----------------------------------------------------------------


def test_validation_names_each_faulty_field(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Person(slack_user_id="UX0000001", name="x"))
        with pytest.raises(wins.InvalidWin) as raised:
            wins.validate(session, RawWin(what=" ", tool="t" * 121, hours="41", share="everyone"))
        assert set(raised.value.errors) == {"what", "tool", "hours", "share"}
        ok = wins.validate(session, RawWin(what=" Did it ", hours="1,5", share="private"))
        assert (ok.what, ok.tool, ok.hours, ok.team_id, ok.share) == ("Did it", None, 1.5, None, "private")
        with pytest.raises(wins.InvalidWin) as too_long:
            wins.validate(session, RawWin(what="x" * 2001, hours="1", share="named"))
        assert set(too_long.value.errors) == {"what"}


def test_reviewers_are_active_change_managers_and_admins(engine: Engine) -> None:
    settings = dataclasses.replace(Settings(), admins=frozenset({"UADMIN001", "UCM000001"}))
    with session_scope(engine) as session:
        session.add_all(
            [
                Person(slack_user_id="UCM000001", name="a", is_change_manager=True),
                Person(slack_user_id="UCM000002", name="b", is_change_manager=True, is_active=False),
                Person(slack_user_id="UEMP00001", name="c"),
            ]
        )
        session.flush()
        found = wins.moderators(session, settings)
    assert [m.user_id for m in found] == ["UADMIN001", "UCM000001"]
    assert found[0].person_id is None and found[1].person_id is not None
