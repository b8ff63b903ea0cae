"""The digest and App Home beside what the AI tools measured: each team's active share, idle licences per
tool, the say-do gap with its suggested action, and the measured line of the trend — shown figures only."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.content import Library
from bot.digest.blocks import digest_message, leader_home_section
from bot.digest.format import to_text
from bot.digest.service import ORGANISATION, Audience, DigestSource, compose
from bot.models import Person
from tests.support.slack_app import library
from tests.test_metrics import Org, settings
from tests.test_metrics_measured import facts

WEEK = datetime(2026, 3, 2).date()  # 2026-W10
NOW = datetime(2026, 3, 10, 9)  # the Tuesday after: the pulse below has closed
WEEKS = [WEEK - timedelta(weeks=n) for n in range(5, -1, -1)]  # W05..W10; reports cover W07..W10
K = 5
STAGES = ("awareness", "desire", "knowledge", "ability", "reinforcement")


def seed(session: Session) -> Org:
    """Alpha (8): 6 active this week, said 5 of 5 they used AI. Beta (6): 1 active, 4 licences idle for a
    month. Tiny (2): hidden, and Beta with it (the hidden groups must hold k people)."""
    org = Org(session)
    covered = WEEKS[2:]
    for i, person in enumerate(org.people("Alpha", 8)):
        active = covered if i < 6 else ([WEEKS[-2]] if i == 6 else [])
        facts(session, person, "m365-copilot", covered, active)
    for i, person in enumerate(org.people("Beta", 6)):
        facts(session, person, "m365-copilot", covered, [WEEK] if i == 0 else ([WEEKS[3]] if i == 1 else []))
    for person in org.people("Tiny", 2):
        facts(session, person, "m365-copilot", covered, [WEEK])
    run = org.run(datetime(2026, 2, 23, 9))
    org.invite(run, session.query(Person).all())
    for _ in range(5):
        org.answer(run, "Alpha", dict.fromkeys(STAGES, 4), usage=2)
        org.answer(run, "Beta", dict.fromkeys(STAGES, 3), usage=1)
    session.commit()
    return org


def source(session: Session, lib: Library | None = None) -> DigestSource:
    return DigestSource(session, settings(k=K), lib or library(), week_monday=WEEK, now=NOW)


def test_the_organisation_digest_shows_measured_use_idle_licences_and_the_say_do_gap(
    session: Session,
) -> None:
    seed(session)
    digest = compose(source(session), ORGANISATION)
    h = digest.headline
    assert h.measured is not None and (h.measured.licensed, h.measured.active, h.measured.idle) == (16, 9, 5)
    assert h.measured_rate.value == 0.563
    # Like with like: this measured week against the measured week before (W09: 7 of 16 active).
    assert h.measured_rate.change == round(0.563 - 0.438, 3)
    [tool] = digest.tools
    assert (tool.name, tool.licensed, tool.active, tool.idle) == ("Microsoft 365 Copilot", 16, 9, 5)
    # 5 of 16 idle is a fifth or more: the leaders get the idle-licence action of actions.toml.
    assert digest.idle_action in library().actions["idle_licences"]
    # Everyone who answered said they used AI (100%); the tools measured 56%: a 44-point gap.
    assert digest.say_do is not None and (digest.say_do.said, digest.say_do.measured) == (1.0, 0.563)
    assert digest.say_do.large and digest.say_do.action in library().actions["say_do_gap"]

    _, blocks = digest_message(digest, command="/adopt")
    payload = json.dumps(blocks, ensure_ascii=False)
    assert "*Active in the AI tools*\\n56% of 16 licensed people, measured" in payload
    assert "*Said they used AI*\\n100% of respondents" in payload
    assert (
        "*Microsoft 365 Copilot*: 9 of 16 licensed people active this week (56%) · 5 of 16 licences unused "
        "for 4 weeks" in payload
    )
    assert (
        "100% of respondents said they used AI, while the tools measured 56% of licensed people active: "
        "44 points more said than measured." in payload
    )
    alpha = next(line for line in digest.teams if line.name == "Alpha")
    assert alpha.measured_rate == 0.75 and alpha.say_do_gap == 0.25
    beta = next(line for line in digest.teams if line.name == "Beta")
    tiny = next(line for line in digest.teams if line.name == "Tiny")
    assert beta.measured_rate is None and tiny.measured_rate is None  # hidden: Tiny is 2, Beta covers it
    assert "Active in AI tools" in to_text(digest) and "in AI tools" in to_text(digest)
    # The CSV rows: week W's measured figures, the closed run's answers, and the gap between the two.
    csv = {row.team: row for row in digest.csv_rows}
    assert (csv["Alpha"].usage_rate, csv["Alpha"].measured_rate, csv["Alpha"].say_do_gap) == (1.0, 0.75, 0.25)
    assert (csv["*"].licensed, csv["*"].measured_active, csv["*"].idle_licences) == (16, 9, 5)
    # The trend starts with the first week a report covers (nothing before it reads as 0%).
    t = digest.trend
    assert t.weeks[0] == "2026-W07" and (t.measured_rate[0], t.measured_rate[-1]) == (0.375, 0.563)


def test_a_leaders_digest_and_home_add_up_only_the_teams_that_show_measured_figures(session: Session) -> None:
    org = seed(session)
    src = source(session)
    audience = Audience("Lee", team_ids=(org.teams["Alpha"].id, org.teams["Tiny"].id))
    digest = compose(src, audience, brief=True)
    h = digest.headline
    # Tiny's two people are never added in: subtracting Alpha from the total would give them away.
    assert h.measured is not None and (h.measured.licensed, h.measured.active) == (8, 6)
    assert [(t.licensed, t.active) for t in digest.tools] == [(8, 6)]
    home = json.dumps(leader_home_section(digest, None, command="/adopt"), ensure_ascii=False)
    assert "75% active in the AI tools (measured)" in home
    assert "active in the AI tools 75% (measured)" in home  # Alpha's own line
    assert "*Microsoft 365 Copilot*: 6 of 8 licensed people active this week (75%)" in home
    assert "of 10 licensed" not in home and "of 2 licensed" not in home


def test_without_usage_reports_the_digest_says_nothing_of_measured_use(session: Session) -> None:
    org = Org(session)
    org.people("Alpha", 6)
    session.commit()
    digest = compose(source(session), ORGANISATION)
    assert digest.headline.measured is None and digest.tools == () and digest.say_do is None
    _, blocks = digest_message(digest, command="/adopt")
    payload = json.dumps(blocks)
    assert "What the AI tools measured" not in payload and "Active in the AI tools" not in payload
