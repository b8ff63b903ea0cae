"""Pure pieces: escaping, Block Kit limits, the help text, and who may do what."""

from __future__ import annotations

import dataclasses

import pytest
from slack_sdk.models.blocks import Block as SdkBlock
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.people.blocks import (
    RolePreset,
    profile_section,
    role_button_value,
    role_modal,
    role_preset,
    welcome_message,
)
from bot.people.profile import ProfileSummary
from bot.permissions import (
    acting_person,
    can_use,
    is_change_manager,
    is_leader,
    led_team_ids,
    refusal_text,
)
from bot.slack import ids
from bot.slack.blocks import (
    VIEW_BLOCKS_MAX,
    button,
    divider,
    fit_blocks,
    matching_options,
    modal,
    section,
    select_menu,
)
from bot.slack.home_blocks import home_view
from bot.slack.subcommands import Subcommand, help_message, parse
from bot.slack.text import escape, mention, truncate
from tests.support.factories import add_person
from tests.support.fake_slack import validate_blocks, validate_view


@pytest.mark.parametrize(
    ("typed", "inert"),
    [
        ("<!channel> look", "&lt;!channel&gt; look"),
        ("hi <@U123ABC>", "hi &lt;@U123ABC&gt;"),
        ("<!subteam^S0123|@leads>", "&lt;!subteam^S0123|@leads&gt;"),
        ("<http://evil.example|click me>", "&lt;http://evil.example|click me&gt;"),
        ("R&D <3", "R&amp;D &lt;3"),
        ("already &lt; escaped", "already &amp;lt; escaped"),
    ],
)
def test_escape_makes_mentions_and_links_typed_by_people_inert(typed: str, inert: str) -> None:
    assert escape(typed) == inert


def test_mention_only_accepts_slack_user_ids() -> None:
    assert mention("U0123ABC") == "<@U0123ABC>"
    for bad in ("!channel", "U0123ABC> <!here", "bob", ""):
        with pytest.raises(ValueError):
            mention(bad)


def test_truncate_cuts_with_an_ellipsis_only_when_needed() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("a" * 30, 10) == "a" * 9 + "…"


def test_over_long_texts_are_cut_to_slack_limits_not_rejected() -> None:
    blocks = [section("x" * 5000), {"type": "actions", "elements": [button("y" * 200, "test.button")]}]
    assert validate_blocks(blocks) == []
    assert len(blocks[0]["text"]["text"]) == 3000
    assert validate_view(modal("A very long modal title indeed", blocks, callback_id="test.modal")) == []


def test_menus_switch_to_search_as_you_type_beyond_a_hundred_options() -> None:
    few = [(str(n), f"Team {n}") for n in range(100)]
    many = [(str(n), f"Team {n}") for n in range(101)]
    assert select_menu("a", few, placeholder="Pick", initial="7")["type"] == "static_select"
    searched = select_menu("a", many, placeholder="Pick", initial="7")
    assert searched["type"] == "external_select"
    assert "options" not in searched and searched["initial_option"]["value"] == "7"
    assert [o["value"] for o in matching_options(many, "team 10")] == ["10", "100"]


def test_home_sections_that_would_pass_100_blocks_are_left_out_whole() -> None:
    sections = [[section(f"{n}-{i}") for i in range(30)] for n in range(5)]
    view = home_view(sections)
    assert len(view["blocks"]) <= VIEW_BLOCKS_MAX
    texts = [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]
    assert texts == [f"{n}-{i}" for n in range(3) for i in range(30)]  # 3 x 30 + 2 dividers = 92
    assert fit_blocks([[section("a")], [], [section("b")]], 10, separator=divider()) == [
        section("a"),
        divider(),
        section("b"),
    ]


def test_profile_and_welcome_builders_stay_within_slack_limits_and_escape_names() -> None:
    summary = ProfileSummary(
        user_id="U1",
        known=True,
        name="Ada",
        role_id="sales",
        role_name="Sales",
        team_name="<!here> team",
        timezone="Europe/Berlin",
        timezone_source="slack",
        nudges="Up to two a week.",
    )
    blocks = profile_section(summary, command="/adopt")
    assert validate_blocks(blocks) == []
    assert "&lt;!here&gt; team" in str(blocks) and "<!here>" not in str(blocks)
    _, welcome = welcome_message(command="/adopt", role_name="Sales", team_name="<!channel>")
    assert validate_blocks(welcome) == []
    assert "<!channel>" not in str(welcome)
    view = role_modal(
        roles=[("sales", "Sales")], teams=[("1", "A" * 200)], current_role=None, current_team="1"
    )
    assert validate_view(view) == []
    assert view["callback_id"] == ids.ROLE_MODAL
    for block in [*blocks, *welcome, *view["blocks"]]:
        SdkBlock.parse(block).validate_json()  # slack_sdk's own model checks


def test_parse_splits_the_subcommand_from_its_arguments() -> None:
    assert parse("") == ("help", "")
    assert parse("  PAUSE   2 weeks ") == ("pause", "2 weeks")


def test_help_groups_entries_by_audience_and_escapes_what_was_typed() -> None:
    entries = [
        Subcommand("help", "Show help", "help", "everyone", lambda inv: None),
        Subcommand("broadcast", "Send an update", "broadcast", "change_manager", lambda inv: None),
    ]
    text, blocks = help_message("/adopt", entries, unknown="<!channel>")
    rendered = "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert "I don't know `/adopt &lt;!channel&gt;`" in rendered
    assert "*For change managers*\n`/adopt broadcast`  Send an update" in rendered
    assert text == "/adopt help: help, broadcast"
    assert validate_blocks(blocks) == []


def test_subcommands_are_checked_when_declared() -> None:
    with pytest.raises(ValueError):
        Subcommand("Bad Name", "x", "x", "everyone", lambda inv: None)
    with pytest.raises(ValueError):
        Subcommand("ok", "x", "x", "admins", lambda inv: None)  # type: ignore[arg-type]


def test_who_may_do_what(session: Session) -> None:
    settings = dataclasses.replace(Settings(), admins=frozenset({"U0ADMIN"}))
    employee = add_person(session, "U0EMP")
    manager = add_person(session, "U0CM", change_manager=True)
    leader = add_person(session, "U0LEAD", leads=("Sales EMEA", "Platform"))
    everyone_lead = add_person(session, "U0ALL", leads_all=True)
    gone = add_person(session, "U0GONE", change_manager=True, leads=("Platform",), active=False)
    admin = add_person(session, "U0ADMIN")

    def audiences(person: object, user_id: str | None = None) -> list[str]:
        return [
            a
            for a in ("everyone", "change_manager", "leader")
            if can_use(person, a, settings, user_id=user_id)
        ]  # type: ignore[arg-type]

    assert audiences(employee) == ["everyone"]
    assert audiences(manager) == ["everyone", "change_manager", "leader"]
    assert audiences(leader) == ["everyone", "leader"]
    assert audiences(everyone_lead) == ["everyone", "leader"]
    assert audiences(gone) == ["everyone"]
    assert audiences(admin) == ["everyone", "change_manager", "leader"]
    assert audiences(None, "U0ADMIN") == ["everyone", "change_manager", "leader"]  # no record yet
    assert audiences(None, "U0NOBODY") == ["everyone"]
    assert is_change_manager(None, settings) is False
    assert (is_leader(leader), is_leader(employee)) == (True, False)
    teams = led_team_ids(session, leader)
    assert len(teams) == 2
    assert led_team_ids(session, everyone_lead) == sorted(
        {p.team_id for p in (employee, leader) if p.team_id} | set(teams)
    )
    assert led_team_ids(session, gone) == []
    assert acting_person(session, "U0LEAD") == (leader, True)  # one query: the person and whether they lead
    assert acting_person(session, "U0EMP") == (employee, False)
    assert acting_person(session, "U0NOBODY") == (None, False)
    assert is_leader(leader, leads_a_team=False) is False  # the answer given wins over a query


def test_refusals_name_who_may() -> None:
    assert refusal_text("leader", "`/adopt digest`") == (
        "Sorry, `/adopt digest` is only for team leaders and change managers. Nothing was opened or sent."
    )
    with pytest.raises(ValueError):
        refusal_text("everyone", "`/adopt help`")


def test_the_role_buttons_value_carries_the_choice_and_anything_else_carries_none() -> None:
    assert role_preset(role_button_value("sales", 7)) == RolePreset(role="sales", team="7")
    assert role_preset(role_button_value(None, None)) == RolePreset(role=None, team=None)
    for value in (None, "", "profile", "{not json", "[1, 2]", '{"role": 5, "team": "7"}', '{"team": true}'):
        preset = role_preset(value)
        assert preset is None or preset == RolePreset(role=None, team=None), value
