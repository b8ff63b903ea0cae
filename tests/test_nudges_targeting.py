"""Usage targeting: imported usage facts choose a person's own nudges (first steps in a tool they hold
but do not use, a level up when they do use one), never tool nudges for tools they do not hold; off, usage
changes nothing. Each person's App Home says which signals chose their nudges."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot import clock
from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from bot.content import Library, Tool, load_library
from bot.db import session_scope
from bot.models import NudgeDelivery, UsageFact
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_content import BASE, edited, write_library
from tests.test_nudges_world import LONG_AGO, deliver, deliveries, make_library, nudge

NOW = datetime(2026, 11, 24, 9, 5)  # a Tuesday, 10:05 in Berlin: slot time
THIS_MONDAY = NOW.date() - timedelta(days=NOW.weekday())
EVERY_DAY = dataclasses.replace(Settings(), nudge_days=tuple(range(7)), nudges_per_week=7)
TOOL_NUDGES = {"m365-first", "m365-deeper", "chatgpt-first"}


def targeting_library() -> Library:
    """The nudge tests' library plus first steps for two tools and a deeper one for the first."""
    base = make_library()
    return dataclasses.replace(
        base,
        nudges=(
            *base.nudges,
            dataclasses.replace(nudge("m365-first", 1, roles=("*",)), tools=("m365-copilot",)),
            dataclasses.replace(nudge("m365-deeper", 2, roles=("*",)), tools=("m365-copilot",)),
            dataclasses.replace(nudge("chatgpt-first", 1, roles=("*",)), tools=("chatgpt-enterprise",)),
        ),
        tools={
            "m365-copilot": Tool("m365-copilot", "Microsoft 365 Copilot"),
            "chatgpt-enterprise": Tool("chatgpt-enterprise", "ChatGPT Enterprise"),
        },
    )


LIBRARY = targeting_library()


def weeks_ago(n: int) -> date:
    return THIS_MONDAY - timedelta(weeks=n)


def world(engine: Engine) -> dict[str, int]:
    """Four Sales people in Berlin, and what the usage reports said about them (weeks before NOW's):

    idle: a Microsoft 365 Copilot licence in the last two weeks, no activity;
    active: ChatGPT Enterprise, licensed both weeks and active last week;
    peer: in no report; stale: a Copilot licence six weeks ago only (outside the window)."""
    facts = {
        "UIDLE0001": [("m365-copilot", 1, False), ("m365-copilot", 2, False)],
        "UACTIVE01": [("chatgpt-enterprise", 1, True), ("chatgpt-enterprise", 2, False)],
        "UPEER0001": [],
        "USTALE001": [("m365-copilot", 6, True), ("m365-copilot", 7, False)],
    }
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        for user, rows in facts.items():
            person = add_person(session, user, timezone="Europe/Berlin", created_at=LONG_AGO)
            ids[user] = person.id
            for tool, ago, active in rows:
                session.add(
                    UsageFact(
                        person_id=person.id, tool=tool, week=weeks_ago(ago), licensed=True, active=active
                    )
                )
    return ids


def run_slots(engine: Engine, settings: Settings, days: int) -> None:
    """The nudge job at 10:05 Berlin on each of `days` days from NOW."""
    for day in range(days):
        with clock.frozen_at(NOW + timedelta(days=day)) as now:
            deliver(engine, settings, LIBRARY, now)


def given(engine: Engine, person_id: int) -> list[tuple[str, int]]:
    return [(d.nudge_id, d.level) for d in deliveries(engine, person_id)]


def test_targeting_on_first_steps_for_idle_tools_a_level_up_for_active_people(
    engine: Engine,
) -> None:
    people = world(engine)
    run_slots(engine, EVERY_DAY, 1)
    # The ground rules (the library's opening nudge, for everyone) first, even for the idle person ...
    assert given(engine, people["UIDLE0001"]) == [("all-1", 1)]
    assert given(engine, people["UPEER0001"]) == [("all-1", 1)]
    assert given(engine, people["USTALE001"]) == [("all-1", 1)]  # six weeks ago is outside the window
    [(_, active_level)] = given(engine, people["UACTIVE01"])
    assert active_level == 2 > given(engine, people["UPEER0001"])[0][1]
    # ... then their tool's first steps, before any other starter nudge.
    with clock.frozen_at(NOW + timedelta(days=1)) as now:
        deliver(engine, EVERY_DAY, LIBRARY, now)
    assert given(engine, people["UIDLE0001"]) == [("all-1", 1), ("m365-first", 1)]
    assert given(engine, people["UPEER0001"])[1][0] != "m365-first"

    run_slots(engine, EVERY_DAY, 12)  # everyone runs out of nudges (the window still holds the facts)
    every = {user: [n for n, _ in given(engine, pid)] for user, pid in people.items()}
    assert not TOOL_NUDGES & set(every["UPEER0001"]) and not TOOL_NUDGES & set(every["USTALE001"])
    assert set(every["UIDLE0001"]) & TOOL_NUDGES == {"m365-first", "m365-deeper"}
    assert set(every["UACTIVE01"]) & TOOL_NUDGES == {"chatgpt-first"}  # theirs, once the levels above ran out
    assert every["UACTIVE01"].index("chatgpt-first") > every["UACTIVE01"].index("sales-3")
    assert len(every["UIDLE0001"]) == len(set(every["UIDLE0001"])) == 7  # never twice


def test_targeting_off_usage_never_changes_the_choice(engine: Engine) -> None:
    people = world(engine)
    off = dataclasses.replace(EVERY_DAY, usage_targeting=False)
    run_slots(engine, off, 12)
    peer = given(engine, people["UPEER0001"])
    assert peer[0] == ("all-1", 1) and len(peer) == 5
    for user in ("UIDLE0001", "UACTIVE01", "USTALE001"):
        assert given(engine, people[user]) == peer, user  # same order, same levels, no tool nudges


def test_a_waiting_tool_nudge_is_not_brought_back_to_someone_it_no_longer_fits(engine: Engine) -> None:
    people = world(engine)
    run_slots(engine, EVERY_DAY, 2)  # the ground rules, then the Copilot first step
    with session_scope(engine) as session:
        [_, delivery] = deliveries(engine, people["UIDLE0001"])
        row = session.get(NudgeDelivery, delivery.id)
        assert row is not None and row.nudge_id == "m365-first"
        row.status = "later"
    off = dataclasses.replace(EVERY_DAY, usage_targeting=False)
    with clock.frozen_at(NOW + timedelta(days=2)) as now:
        deliver(engine, off, LIBRARY, now)
    names = [n for n, _ in given(engine, people["UIDLE0001"])]
    assert names[:2] == ["all-1", "m365-first"] and len(names) == 3 and names[2] not in TOOL_NUDGES


def roster_world(engine: Engine) -> dict[str, int]:
    """Two more Sales people in Berlin whose roster row names Microsoft 365 Copilot: one in no usage report
    (ROSTER), one whose reports show ChatGPT Enterprise only (MEASURED: the reports win)."""
    ids: dict[str, int] = {}
    with session_scope(engine) as session:
        for user in ("UROSTER01", "UMEASURED"):
            person = add_person(
                session, user, timezone="Europe/Berlin", created_at=LONG_AGO, tools="m365-copilot"
            )
            ids[user] = person.id
        session.add(
            UsageFact(
                person_id=ids["UMEASURED"],
                tool="chatgpt-enterprise",
                week=weeks_ago(1),
                licensed=True,
                active=False,
            )
        )
    return ids


@pytest.mark.parametrize("targeting", [True, False])
def test_the_rosters_tools_choose_the_tool_track_where_no_report_measures_the_person(
    engine: Engine, targeting: bool
) -> None:
    people = world(engine) | roster_world(engine)
    settings = dataclasses.replace(EVERY_DAY, usage_targeting=targeting)
    run_slots(engine, settings, 1)
    # The roster is not measured use: no first-steps push, no level up; the tool-neutral starter first.
    assert given(engine, people["UROSTER01"]) == [("all-1", 1)]
    run_slots(engine, settings, 12)
    roster = [n for n, _ in given(engine, people["UROSTER01"])]
    measured = [n for n, _ in given(engine, people["UMEASURED"])]
    peer = [n for n, _ in given(engine, people["UPEER0001"])]
    assert set(roster) & TOOL_NUDGES == {"m365-first", "m365-deeper"}
    assert roster.index("m365-first") > roster.index("all-1")
    assert [n for n in roster if n not in TOOL_NUDGES] == peer  # otherwise the peer's order
    if targeting:  # the report's ChatGPT licence, not the roster's Copilot; idle, so first steps first
        assert measured[:2] == ["all-1", "chatgpt-first"] and set(measured) & TOOL_NUDGES == {"chatgpt-first"}
        assert given(engine, people["UIDLE0001"])[:2] == [("all-1", 1), ("m365-first", 1)]
    else:  # reports unused: the roster's tools for everyone, and none for people the roster gives none
        assert set(measured) & TOOL_NUDGES == {"m365-first", "m365-deeper"}
        assert not set(n for n, _ in given(engine, people["UIDLE0001"])) & TOOL_NUDGES


# --- App Home ---------------------------------------------------------------------------------------------


def _home_text(server: SlackAppServer, fake: FakeSlack, user: str) -> str:
    server.event({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D0HOME"})
    view = wait_for(lambda: fake.home_views.get(user), what=f"{user}'s Home tab")
    return json.dumps(view["blocks"], ensure_ascii=False)


CHOSEN = "Your nudges are chosen by your role (Sales), your level and your team's anonymous pulse results."


def test_home_says_which_signals_choose_the_nudges(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    world(engine)
    clock.start_at(NOW)
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        idle = _home_text(server, fake_slack, "UIDLE0001")
        active = _home_text(server, fake_slack, "UACTIVE01")
        peer = _home_text(server, fake_slack, "UPEER0001")
        stale = _home_text(server, fake_slack, "USTALE001")
    assert (
        f"{CHOSEN} Adoptbot also uses your organisation's Microsoft 365 Copilot usage report: you have a "
        "licence and haven't used it in the last 4 weeks, so you get first steps. Only you see this." in idle
    )
    assert (
        f"{CHOSEN} Adoptbot also uses your organisation's ChatGPT Enterprise usage report: it shows you "
        "using it in the last 4 weeks, so your nudges skip the starter level. Only you see this." in active
    )
    no_licence = (
        f"{CHOSEN} Adoptbot also uses your organisation's AI usage reports: they show no licence for you in "
        "the last 4 weeks, so you get nudges that suit any AI tool. Only you see this."
    )
    assert no_licence in peer and no_licence in stale
    # Nobody's Home names another person's tools.
    assert "Microsoft" not in active + peer + stale and "ChatGPT" not in idle + peer + stale


def test_home_says_when_first_steps_are_done(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    people = world(engine)
    run_slots(engine, EVERY_DAY, 2)  # the ground rules, then the one Copilot first step
    clock.start_at(NOW + timedelta(days=1, hours=1))
    with SlackAppServer(slack_settings, engine, content=LIBRARY) as server:
        idle = _home_text(server, fake_slack, "UIDLE0001")
    assert given(engine, people["UIDLE0001"]) == [("all-1", 1), ("m365-first", 1)]
    assert (
        "you have a licence and haven't used it in the last 4 weeks, and you've had the first steps for it."
        in idle
    )


def test_home_with_targeting_off_says_usage_reports_are_not_used(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    world(engine)
    clock.start_at(NOW)
    off = dataclasses.replace(slack_settings, usage_targeting=False)
    with SlackAppServer(off, engine, content=LIBRARY) as server:
        texts = [_home_text(server, fake_slack, user) for user in ("UIDLE0001", "UACTIVE01", "UPEER0001")]
    for text in texts:
        assert f"{CHOSEN} Your organisation's AI usage reports are not used. Only you see this." in text
        assert "Microsoft" not in text and "ChatGPT" not in text


@pytest.mark.parametrize("targeting", [True, False])
def test_home_says_when_the_rosters_tools_choose_the_tool_nudges(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack, targeting: bool
) -> None:
    world(engine)
    roster_world(engine)
    clock.start_at(NOW)
    settings = dataclasses.replace(slack_settings, usage_targeting=targeting)
    with SlackAppServer(settings, engine, content=LIBRARY) as server:
        roster = _home_text(server, fake_slack, "UROSTER01")
        measured = _home_text(server, fake_slack, "UMEASURED")
    if targeting:
        assert (
            f"{CHOSEN} Adoptbot also uses your organisation's AI usage reports: they show no licence for you "
            "in the last 4 weeks, so your tool nudges follow the roster, which lists Microsoft 365 Copilot "
            "for you (how much you use it is not measured). Only you see this." in roster
        )
        assert "ChatGPT Enterprise usage report" in measured and "Microsoft" not in measured
    else:
        roster_says = (
            f"{CHOSEN} Your organisation's AI usage reports are not used; the roster lists Microsoft 365 "
            "Copilot for you, so you also get nudges about it. Only you see this."
        )
        assert roster_says in roster and roster_says.replace("UROSTER01", "") in measured
        assert "ChatGPT" not in measured


# --- content and settings ---------------------------------------------------------------------------------

TOOLS_TOML = '[tools.m365-copilot]\nname = "Microsoft 365 Copilot"\n'


def test_content_check_rejects_an_unknown_tool_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = edited("nudges/sales.toml", "level = 1", 'tools = ["m365-copilt"]\nlevel = 1')
    files["nudges/legal.toml"] = files["nudges/legal.toml"].replace(
        "level = 2", 'tools = ["any", "m365-copilot"]\nlevel = 2'
    )
    files["tools.toml"] = TOOLS_TOML
    write_library(tmp_path / "content", files)
    assert main(["content", "check", "content"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "content/nudges/legal.toml: nudge 'legal-plain-language': "
        'tools: "any" already means every tool; write tools = ["any"] alone',
        "content/nudges/sales.toml: nudge 'sales-call-prep': "
        "unknown tool 'm365-copilt' (did you mean 'm365-copilot'?); tools are defined in tools.toml",
        "adoptbot: 2 problems found in content/",
    ]


def test_nudge_tools_default_to_any(tmp_path: Path) -> None:
    files = dict(BASE, **{"tools.toml": TOOLS_TOML})
    files["nudges/sales.toml"] = files["nudges/sales.toml"].replace(
        "level = 1", 'tools = ["m365-copilot"]\nlevel = 1'
    )
    files["nudges/legal.toml"] = files["nudges/legal.toml"].replace("level = 2", 'tools = ["any"]\nlevel = 2')
    library = load_library(write_library(tmp_path / "lib", files))
    tools = {n.id: n.tools for n in library.nudges}
    assert tools == {"sales-call-prep": ("m365-copilot",), "legal-plain-language": ()}


def test_the_bundled_library_has_first_steps_per_tool() -> None:
    library = load_library()
    first_steps = {t for n in library.nudges if n.level == 1 and n.roles == ("*",) for t in n.tools}
    assert {"m365-copilot", "chatgpt-enterprise"} <= first_steps <= set(library.tools)


def test_the_setting_is_on_off_or_a_one_sentence_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_settings({}, env_file=None).usage_targeting is True
    assert load_settings({"ADOPTBOT_USAGE_TARGETING": "Off"}, env_file=None).usage_targeting is False
    assert load_settings({"ADOPTBOT_USAGE_TARGETING": "on"}, env_file=None).usage_targeting is True
    with pytest.raises(ConfigError) as caught:
        load_settings({"ADOPTBOT_USAGE_TARGETING": "maybe"}, env_file=None)
    assert str(caught.value) == "ADOPTBOT_USAGE_TARGETING must be 'on' or 'off', not 'maybe'."


def test_a_bad_setting_stops_a_command_with_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ADOPTBOT_USAGE_TARGETING", "yes please")
    assert main(["content", "check"]) == 2
    assert capsys.readouterr().err == (
        "adoptbot: ADOPTBOT_USAGE_TARGETING must be 'on' or 'off', not 'yes please'.\n"
    )


@pytest.mark.parametrize("targeting", [True, False])
def test_adopt_me_shows_a_next_nudge_only_when_one_is_left_for_them(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack, targeting: bool
) -> None:
    people = world(engine)
    settings = dataclasses.replace(EVERY_DAY, usage_targeting=targeting)
    run_slots(engine, settings, 5)  # the peer's five nudges; the idle person has Copilot's two left
    assert len(given(engine, people["UPEER0001"])) == 5
    clock.start_at(NOW + timedelta(days=5, hours=1))
    with SlackAppServer(
        dataclasses.replace(slack_settings, usage_targeting=targeting), engine, content=LIBRARY
    ) as server:
        _, peer = server.command("me", user_id="UPEER0001")
        _, idle = server.command("me", user_id="UIDLE0001")
    done = "You've completed the library (5 nudges). You marked none as tried, so no refreshers"
    assert done in json.dumps(peer["blocks"]) and "Next nudge" not in json.dumps(peer["blocks"])
    if targeting:
        assert "Next nudge: " in json.dumps(idle["blocks"]) and done not in json.dumps(idle["blocks"])
    else:
        assert done in json.dumps(idle["blocks"])
