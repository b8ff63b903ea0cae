"""Measured adoption in `adoptbot metrics`: licences and activity from the tools' own reports, per team and
tool, under the same k and complementary rules as survey figures, and the say-do gap beside them."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.cli import main
from bot.metrics.measured import measured_week, measured_weeks
from bot.metrics.service import compute_metrics
from bot.metrics.sql import week_window
from bot.models import Person, UsageFact
from tests.test_metrics import WEEK, Org, by_team, settings

W07, W08, W09, W10 = (WEEK - timedelta(weeks=n) for n in (3, 2, 1, 0))
MEASURED = ("licensed", "measured_active", "measured_rate", "idle_licences")
AFTER = datetime(2026, 3, 20)  # the runs below have closed by then


def facts(session: Session, person: Person, tool: str, licensed: list[date], active: list[date] = ()) -> None:  # type: ignore[assignment]
    """What imported reports say of one person and tool: licensed in those weeks, active in those."""
    for week in sorted(set(licensed) | set(active)):
        session.add(
            UsageFact(person_id=person.id, tool=tool, week=week, licensed=True, active=week in active)
        )
    session.flush()


def measured(rows: dict[str, dict], team: str) -> tuple[object, ...]:  # type: ignore[type-arg]
    return tuple(rows[team][name] for name in MEASURED)


def rows_for(session: Session, *, tool: str | None = None, k: int = 3) -> dict[str, dict]:  # type: ignore[type-arg]
    return by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=k), tool=tool, now=AFTER))


def test_licensed_active_rate_and_idle_licences_per_team_tool_and_overall(session: Session) -> None:
    org = Org(session)
    p1, p2, p3, p4 = org.people("Sales", 4)
    org.person("Sales")  # no licence: a member, not licensed
    four_weeks = [W07, W08, W09, W10]
    facts(session, p1, "m365-copilot", four_weeks, [W10])
    facts(session, p2, "m365-copilot", four_weeks, [W09, W10])
    facts(session, p3, "m365-copilot", four_weeks, [W08])  # used it two weeks ago: inactive, not idle
    facts(session, p4, "m365-copilot", four_weeks)  # never: an idle licence
    s1, s2, s3 = org.people("Support", 3)
    facts(session, s1, "chatgpt-enterprise", [W10], [W10])
    facts(session, s2, "chatgpt-enterprise", [W09, W10])
    facts(session, s3, "chatgpt-enterprise", [W10])
    gone = org.person("Support", active=False)  # left the company: not counted, whatever reports say
    facts(session, gone, "chatgpt-enterprise", [W10], [W10])
    lapsed = org.person("Sales")  # licence ended the week before: not licensed in W10
    facts(session, lapsed, "m365-copilot", [W08, W09], [W09])
    session.commit()

    overall = rows_for(session)
    assert measured(overall, "Sales") == (4, 2, 0.5, 1)
    assert measured(overall, "Support") == (3, 1, 0.333, 2)
    assert measured(overall, "*") == (7, 3, 0.429, 3)
    m365 = rows_for(session, tool="m365-copilot")
    assert measured(m365, "Sales") == (4, 2, 0.5, 1)
    assert measured(m365, "Support") == (None, None, None, None)  # nobody there has that tool
    assert measured(m365, "*") == (4, 2, 0.5, 1)
    chatgpt = rows_for(session, tool="chatgpt-enterprise")
    assert measured(chatgpt, "Support") == (3, 1, 0.333, 2)
    assert measured(chatgpt, "*") == (3, 1, 0.333, 2)
    # A week no report covers has no measured figure at all (not a 0% that nobody measured).
    earlier = by_team(compute_metrics(session, week_monday=W07 - timedelta(weeks=1), settings=settings()))
    assert measured(earlier, "*") == (None, None, None, None)


def test_measured_figures_need_k_licensed_people_and_hide_the_team_that_would_reveal_a_small_one(
    session: Session,
) -> None:
    org = Org(session)
    for team, n, active in (("Big", 5, 3), ("Mid", 4, 4), ("Tiny", 2, 1)):
        for i, person in enumerate(org.people(team, n)):
            facts(session, person, "m365-copilot", [W10], [W10] if i < active else [])
    session.commit()
    rows = rows_for(session)
    # Tiny (2 licensed) is hidden; `*` minus Big minus Mid would give Tiny's, so Mid (the smaller) goes too.
    assert measured(rows, "Tiny") == (None, None, None, None)
    assert measured(rows, "Mid") == (None, None, None, None)
    assert measured(rows, "Big") == (5, 3, 0.6, 2)
    assert measured(rows, "*") == (11, 8, 0.727, 3)
    # The same rule under --team: filtering shows nothing a full run would hide.
    only_mid = compute_metrics(session, week_monday=WEEK, settings=settings(), team_names=["Mid"], now=AFTER)
    assert (only_mid[0].licensed, only_mid[0].measured_rate) == (None, None)


def test_a_small_pilot_of_another_tool_cannot_be_read_from_overall_minus_the_shown_tool(
    session: Session,
) -> None:
    org = Org(session)
    engineers = org.people("Engineering", 6)
    for person in engineers:
        facts(session, person, "m365-copilot", [W10], [W10])
    pilots = org.people("Engineering", 2)  # the only GitHub Copilot seats, one of them used
    facts(session, pilots[0], "github-copilot", [W10], [W10])
    facts(session, pilots[1], "github-copilot", [W10])
    for person in org.people("Ops", 5):
        facts(session, person, "m365-copilot", [W10])
    session.commit()
    github = rows_for(session, tool="github-copilot")
    assert measured(github, "Engineering") == (None, None, None, None)
    assert measured(github, "*") == (None, None, None, None)
    m365 = rows_for(session, tool="m365-copilot")
    assert measured(m365, "Engineering") == (6, 6, 1.0, 0)
    assert measured(m365, "*") == (11, 6, 0.545, 5)
    overall = rows_for(session)
    # Engineering's overall (8 licensed, 7 active) minus its m365 (6, 6) would tell how the 2 pilots did.
    assert measured(overall, "Engineering") == (None, None, None, None)
    assert measured(overall, "*") == (None, None, None, None)
    assert measured(overall, "Ops") == (5, 0, 0.0, 5)


def test_say_do_gap_is_what_respondents_said_minus_what_the_tools_measured(session: Session) -> None:
    org = Org(session)
    sales = org.people("Sales", 4)
    for i, person in enumerate(sales):
        facts(session, person, "m365-copilot", [W10], [W10] if i < 2 else [])
    run = org.run(datetime(2026, 2, 24, 9))
    org.invite(run, sales)
    for usage in (2, 1, 3, 0):  # three of four said they used AI at least once
        org.answer(run, "Sales", dict.fromkeys(("awareness", "desire"), 4), usage)
    tiny = org.people("Tiny", 3)
    for person in tiny:
        facts(session, person, "m365-copilot", [W10], [W10])
    session.commit()
    rows = rows_for(session)
    assert (rows["Sales"]["usage_rate"], rows["Sales"]["measured_rate"]) == (0.75, 0.5)
    assert rows["Sales"]["say_do_gap"] == 0.25
    # Tiny answered no pulse: a gap needs both figures.
    assert (rows["Tiny"]["measured_rate"], rows["Tiny"]["say_do_gap"]) == (1.0, None)


def test_cli_prints_measured_columns_by_tool_labelled_as_measured_and_refuses_an_unknown_tool(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with Session(engine) as session:
        org = Org(session)
        for i, person in enumerate(org.people("Sales", 5)):
            facts(session, person, "m365-copilot", [W10], [W10] if i < 4 else [])
        session.commit()
    base = ["metrics", "--db", db_url, "--week", "2026-W10"]
    assert main([*base, "--tool", "m365-copilot", "--format", "json"]) == 0
    rows = {r["team"]: r for r in json.loads(capsys.readouterr().out)}
    assert [rows["Sales"][name] for name in MEASURED] == [5, 4, 0.8, 1]
    assert main([*base, "--format", "csv"]) == 0
    header, *lines = capsys.readouterr().out.splitlines()
    assert header.endswith(",licensed,measured_active,measured_rate,idle_licences,say_do_gap")
    assert lines[0].startswith("2026-W10,Sales,") and lines[0].endswith(",5,4,0.8,1,")
    assert main(base) == 0
    table = capsys.readouterr().out
    assert "Said used AI" in table and "Active in tool" in table and "4 (80%)" in table
    assert "from the AI tools' usage reports, all tools (what the tools measured)" in table
    assert main([*base, "--tool", "copilot"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("adoptbot: unknown tool 'copilot'; tool ids:") and "m365-copilot" in err
    assert "\n" not in err


def test_a_digests_eight_weeks_read_at_once_are_each_week_read_alone(session: Session) -> None:
    """The digests read their trend's measured weeks in one statement: the same figures, the same hidden
    groups, for people who joined, left or were erased on the way."""
    rng = random.Random(11)
    org = Org(session)
    weeks = [W07 - timedelta(weeks=6) + timedelta(weeks=n) for n in range(12)]
    tools = ("m365-copilot", "chatgpt-enterprise")
    for n in range(60):
        joined = datetime.combine(rng.choice(weeks[:10]), datetime.min.time())
        person = org.person(rng.choice(["Sales", "Support", "Legal", None]), created_at=joined)
        fate = rng.random()
        if fate < 0.15:
            person.is_active = False
        elif fate < 0.3:
            person.is_active = False
            person.erased_at = datetime.combine(rng.choice(weeks), datetime.min.time()) + timedelta(days=3)
        for tool in tools[: 1 + n % 2]:
            held = [week for week in weeks if rng.random() < 0.7]
            facts(session, person, tool, held, [week for week in held if rng.random() < 0.5])
    session.commit()
    k = 3
    s = settings(k=k)
    teams = {team.id: name for name, team in org.teams.items()}
    mondays = weeks[4:]
    ends = {monday: week_window(monday, s.tz)[1] for monday in mondays}
    together = measured_weeks(session, ends, teams, k)
    assert sorted(together) == mondays
    shown = 0
    for monday in mondays:
        alone = measured_week(session, monday, ends[monday], teams, k)
        assert together[monday].covered == alone.covered
        for tool in (None, *tools):
            for team in (None, *teams):
                figures = alone.figures(team, tool)
                assert together[monday].figures(team, tool) == figures, (monday, tool, team)
                shown += figures is not None
    assert shown > 20  # figures were shown, not only hidden
