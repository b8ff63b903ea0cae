"""The digest's composition: which figures, from which run, and anonymity in every part of it.

`build_world` makes a small organisation by hand, with exactly known answers (other digest test modules
use it too): four teams, k = 5, two closed pulse runs and one still open.

- Alpha: 8 respondents, every element 4 (run 2), 3 (run 1); uses AI.
- Beta: 7 respondents, knowledge 2 and the rest 3 in both runs: stuck at knowledge.
- Tiny: 4 respondents (k - 1), every element 1, never uses AI: hidden everywhere.
- Solo: 1 respondent: hidden; with Tiny the hidden remainder is 5, so Alpha and Beta stay shown.
- The open run 3: everyone answers 5, which no digest may show yet.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pytest
from slack_sdk.models.blocks import Block as SdkBlock
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db import session_scope
from bot.digest import delivery as digest_delivery
from bot.digest.blocks import chart_alt_text, digest_message, team_line
from bot.digest.format import to_text
from bot.digest.narrative import narrative_prompt
from bot.digest.service import ORGANISATION, Audience, Digest, DigestSource, compose
from bot.metrics.format import to_csv
from bot.metrics.service import FIELDS, compute_metrics
from bot.models import (
    Activity,
    Person,
    PulseAnswer,
    PulseInvitation,
    PulseResponse,
    Team,
    TeamLead,
)
from tests.support.factories import add_win, pulse_run
from tests.support.fake_slack import validate_blocks
from tests.support.slack_app import library

K = 5
NOW = datetime(2026, 11, 23, 10, 0)  # Monday 10:00 UTC: digest time (Monday 09:00) in UTC
WEEK = date(2026, 11, 16)  # the last complete week, 2026-W47
STAGES = ("awareness", "desire", "knowledge", "ability", "reinforcement")


def world_settings(**changes: object) -> Settings:
    return dataclasses.replace(Settings(), min_group_size=K, **changes)  # type: ignore[arg-type]


@dataclass
class World:
    teams: dict[str, int] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    members: dict[str, list[int]] = field(default_factory=dict)
    runs: list[int] = field(default_factory=list)

    def person_id(self, key: str) -> int:
        return self.people[key].id


TEAM_SIZES = {"Alpha": 10, "Beta": 9, "Tiny": 5, "Solo": 2}
ANSWERS = {  # team -> (respondents, scores per stage, usage option) per run
    1: {"Alpha": (8, 3, 1), "Beta": (7, 3, 1), "Tiny": (4, 1, 0), "Solo": (1, 2, 0)},
    2: {"Alpha": (8, 4, 3), "Beta": (7, 3, 2), "Tiny": (4, 1, 0), "Solo": (1, 2, 0)},
    3: {"Alpha": (8, 5, 4), "Beta": (7, 5, 4), "Tiny": (4, 5, 4), "Solo": (1, 5, 4)},
}
TINY_COMMENT = "zebrafish budget worries"


def _answers(session: Session, world: World, run_id: int, number: int, opened: datetime) -> None:
    for team, (respondents, level, usage) in ANSWERS[number].items():
        team_id = world.teams[team]
        for index, person_id in enumerate(world.members[team]):
            answered = index < respondents
            session.add(
                PulseInvitation(
                    run_id=run_id,
                    person_id=person_id,
                    team_id=team_id,
                    invited_at=opened,
                    answered_at=opened + timedelta(days=1) if answered else None,
                )
            )
            if not answered:
                continue
            response = PulseResponse(
                run_id=run_id,
                respondent=secrets.token_hex(32),
                team_id=team_id,
                submitted_at=datetime.combine(opened.date() + timedelta(days=1), datetime.min.time()),
            )
            for question in library().default_survey().questions:
                if question.stage:
                    value = 2 if team == "Beta" and question.stage == "knowledge" and number < 3 else level
                    response.answers.append(
                        PulseAnswer(question_id=question.id, stage=question.stage, value=value)
                    )
                elif question.metric == "usage":
                    response.answers.append(PulseAnswer(question_id=question.id, metric="usage", value=usage))
                elif question.kind == "text" and number == 2 and team in ("Tiny", "Alpha"):
                    text = TINY_COMMENT if team == "Tiny" else f"more hands-on training please {index}"
                    response.answers.append(PulseAnswer(question_id=question.id, text=text))
            session.add(response)


def build_world(engine: Engine, *, now: datetime = NOW) -> World:
    """The organisation described in the module docstring (teams created a month before `now`)."""
    world = World()
    created = now - timedelta(weeks=8)
    with session_scope(engine) as session:
        for name, size in TEAM_SIZES.items():
            row = Team(name=name, created_at=created)
            session.add(row)
            session.flush()
            world.teams[name] = row.id
            world.members[name] = []
            for n in range(size):
                person = Person(
                    slack_user_id=f"U{name.upper()}{n:03d}",
                    name=f"{name} Member{n}",
                    team_id=row.id,
                    role="sales",
                    created_at=created,
                    slack_timezone="UTC",
                )
                session.add(person)
                session.flush()
                world.members[name].append(person.id)
        roles = {
            "ada": ("Ada Lovelace", ["Alpha"], False, False),
            "tim": ("Tim Tiny", ["Tiny"], False, False),
            "bea": ("Bea Multi", ["Alpha", "Beta", "Tiny"], False, False),
            "sam": ("Sam Sponsor", [], True, False),
            "cora": ("Cora Manager", [], False, True),
            "eve": ("Eve Employee", [], False, False),
        }
        for key, (name, leads, leads_all, manager) in roles.items():
            person = Person(
                slack_user_id=f"U{key.upper()}0001",
                name=name,
                team_id=world.teams["Alpha"],
                role="sales",
                leads_all=leads_all,
                is_change_manager=manager,
                created_at=created,
                slack_timezone="UTC",
            )
            session.add(person)
            session.flush()
            for team in leads:
                session.add(TeamLead(person_id=person.id, team_id=world.teams[team]))
            world.people[key] = person
        opened = [datetime(2026, 11, 3, 10), datetime(2026, 11, 10, 10), datetime(2026, 11, 17, 10)]
        for number, moment in enumerate(opened, start=1):
            run_id = pulse_run(session, moment, closed=number < 3, opened_by="schedule").id
            world.runs.append(run_id)
            _answers(session, world, run_id, number, moment)
        # Activity: W47 (report week) and W46 (the week before).
        engaged = {
            WEEK: {"Alpha": 8, "Beta": 5, "Tiny": 3, "Solo": 1},
            WEEK - timedelta(weeks=1): {"Alpha": 6, "Beta": 5, "Tiny": 2},
        }
        for monday, counts in engaged.items():
            for team, count in counts.items():
                for person_id in world.members[team][:count]:
                    session.add(
                        Activity(
                            person_id=person_id,
                            team_id=world.teams[team],
                            kind="nudge_tried",
                            occurred_at=datetime.combine(monday + timedelta(days=2), datetime.min.time()),
                        )
                    )
        at = datetime(2026, 11, 18, 12)
        wins = [
            ("Alpha", 0, "Drafted the QBR <!channel> & <@U999999> deck", "ChatGPT", 3.0, "named", "approved"),
            ("Tiny", 1, "Tiny's secret spreadsheet trick", "Gemini", 2.0, "anonymous", "approved"),
            ("Beta", 2, "Private notes summarised", "ChatGPT", 1.0, "private", "approved"),
            ("Beta", 3, "Pending story that nobody approved", "Claude", 5.0, "named", "pending"),
        ]
        for team, author, what, tool, hours, share, status in wins:
            add_win(
                session,
                session.get(Person, world.members[team][author]),
                at=at,
                hours=hours,
                status=status,
                what=what,
                tool=tool,
                share=share,
                team_id=world.teams[team],
            )
    return world


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


@pytest.fixture
def source(engine: Engine, world: World) -> Iterator[DigestSource]:
    with Session(engine) as session:
        yield DigestSource(session, world_settings(), library(), week_monday=WEEK, now=NOW)


def leader_audience(source: DigestSource, world: World, key: str) -> Audience:
    found = digest_delivery.leaders(source.session, source.settings)
    return next(p.audience for p in found if p.id == world.person_id(key))


def payload_text(digest: Digest) -> str:
    text, blocks = digest_message(digest, command="/adopt")
    return json.dumps({"text": text, "blocks": blocks}, ensure_ascii=False)


def check_blocks(blocks: list[dict[str, object]]) -> None:
    """What Slack would say (the fake's validator) and what slack_sdk's models accept, block by block."""
    assert validate_blocks(blocks) == []
    assert len(blocks) <= 50
    for block in blocks:
        parsed = SdkBlock.parse(block)
        assert parsed is not None
        parsed.validate_json()
        text = block.get("text")
        if block["type"] == "section" and isinstance(text, dict):
            assert len(str(text["text"])) <= 3000


# --- which figures ---------------------------------------------------------------------------------------


def test_survey_figures_come_from_the_latest_closed_run_never_the_open_one(
    source: DigestSource, world: World
) -> None:
    digest = compose(source, ORGANISATION)

    closed = world.runs[1]
    assert (
        digest.pulse is not None and digest.pulse.run_id == closed and digest.pulse.open_run == world.runs[2]
    )
    rows = {
        r.team: r
        for r in compute_metrics(source.session, week_monday=date(2026, 11, 9), settings=source.settings)
    }
    assert rows["*"].pulse == closed
    assert digest.headline.readiness.value == rows["*"].readiness
    assert digest.headline.usage_rate.value == rows["*"].usage_rate
    # The open run (everyone answered 5) is in this week's metrics, but in no part of the digest.
    this_week = {
        r.team: r for r in compute_metrics(source.session, week_monday=WEEK, settings=source.settings)
    }
    assert this_week["*"].pulse == world.runs[2] and this_week["Alpha"].readiness == 5.0
    assert "5.00" not in payload_text(digest) and "5.0," not in to_csv(digest.csv_rows)
    assert {row.pulse for row in digest.csv_rows} == {closed}


def test_headline_changes_against_last_week_the_previous_pulse_and_the_baseline(
    source: DigestSource, world: World
) -> None:
    digest = compose(source, ORGANISATION)
    h = digest.headline

    members = sum(TEAM_SIZES.values()) + len(world.people)
    assert (h.members, h.engaged) == (members, 17)
    assert h.engaged_rate.value == round(17 / members, 3)
    assert h.engaged_rate.change == round(17 / members, 3) - round(13 / members, 3)
    run1 = {
        r.team: r
        for r in compute_metrics(source.session, week_monday=date(2026, 11, 2), settings=source.settings)
    }
    assert run1["*"].pulse == world.runs[0]
    assert digest.baseline_run == world.runs[0] and digest.baseline_week == "2026-W45"
    assert h.readiness.change == round(h.readiness.value - run1["*"].readiness, 2)  # type: ignore[operator]
    assert h.readiness.since_baseline == h.readiness.change  # the previous pulse is the baseline here
    assert (h.wins.value, h.hours_saved.value) == (3, 6.0)  # approved wins, private ones count too


def test_each_change_says_what_it_compares_and_active_counts_the_last_four_weeks(
    source: DigestSource, world: World
) -> None:
    # A Tiny member tried a nudge three weeks before W and nothing since: active, not engaged.
    quiet = world.members["Tiny"][4]
    source.session.add(
        Activity(
            person_id=quiet,
            team_id=world.teams["Tiny"],
            kind="nudge_tried",
            occurred_at=datetime.combine(WEEK - timedelta(weeks=3, days=-1), datetime.min.time()),
        )
    )
    source.session.flush()
    digest = compose(source, ORGANISATION)
    h = digest.headline
    members = h.members
    assert (h.engaged, h.active) == (17, 18)
    assert h.active_rate.value == round(18 / members, 3)
    # Activity compares week W with the week before (W46: 13 engaged, 14 active in W43-W46) ...
    assert h.active_rate.change == round(round(18 / members, 3) - round(14 / members, 3), 3)
    # ... survey figures compare the closed pulse (#2, opened in W46) with the previous one (#1).
    previous = world.runs[0]
    assert digest.pulse is not None and digest.pulse.run_id == world.runs[1]
    assert (digest.compared.week_before, digest.compared.previous_run) == ("2026-W46", previous)

    assert re.search(
        r"took part in the AI programme, (up|down) \d+ points? on the week before;", digest.narrative
    )
    assert f"on the previous pulse (run #{previous})" in digest.narrative
    _, blocks = digest_message(digest, command="/adopt")
    fields = {f["text"].split("*")[1]: f["text"] for b in blocks for f in b.get("fields", [])}
    assert "on the week before · " in fields["Engaged this week"]
    assert "since week 2026-W45 (first pulse)" in fields["Engaged this week"]
    assert "18 of" in fields["Active in the last 4 weeks"]
    assert f"on the previous pulse (#{previous})" in fields["Readiness"]
    assert f"since the first pulse (#{previous})" in fields["Said they used AI"]
    assert "week before" not in fields["Readiness"] and "previous pulse" not in fields["Wins"]
    text = to_text(digest)
    assert "vs 2026-W46" in text and f"vs pulse #{previous}" in text
    tiny = next(line for line in digest.teams if line.name == "Tiny")
    # Solo (2) and the people without a team are under k members: Tiny's month would give theirs away.
    assert (tiny.engaged_rate, tiny.active_rate) == (0.6, None)
    assert "active in 4 weeks hidden (under 5 people)" in team_line(tiny, 5)
    alpha = next(line for line in digest.teams if line.name == "Alpha")
    assert alpha.active_rate is not None


def test_the_trend_holds_each_closed_pulse_until_the_next_and_draws_activity_week_by_week(
    source: DigestSource, world: World
) -> None:
    digest = compose(source, ORGANISATION)
    t, h = digest.trend, digest.headline

    # Pulses opened in W45 (#1), W46 (#2) and W47 (#3, still open): W47 carries #2's figures, no dip.
    assert t.weeks == ("2026-W45", "2026-W46", "2026-W47")
    run1 = {
        r.team: r
        for r in compute_metrics(source.session, week_monday=date(2026, 11, 2), settings=source.settings)
    }
    assert t.readiness == (run1["*"].readiness, h.readiness.value, h.readiness.value)
    assert t.usage_rate[1] == t.usage_rate[2] == h.usage_rate.value is not None
    assert (t.engaged_rate[-1], t.active_rate[-1]) == (h.engaged_rate.value, h.active_rate.value)
    assert t.engaged_rate[0] == t.active_rate[0] == 0.0  # nobody engaged yet in W45
    assert "active in 4 weeks: 0%" in chart_alt_text(digest)


def test_stuck_teams_come_first_with_a_suggested_action_for_their_barrier(source: DigestSource) -> None:
    digest = compose(source, ORGANISATION)

    first = digest.teams[0]
    assert (first.name, first.barrier, first.stuck, first.barrier_score) == ("Beta", "knowledge", True, 2.0)
    [group] = [g for g in digest.barriers if g.stage == "knowledge"]
    assert group.teams == ("Beta",)
    assert group.action in library().actions["knowledge"]
    assert "Alpha" not in {t for g in digest.barriers for t in g.teams}  # all 4s: no barrier
    text = payload_text(digest)
    assert "barrier *knowledge* ⚠️ stuck" in text and str(group.action) in text


# --- anonymity in every part ----------------------------------------------------------------------------


def test_a_team_under_k_shows_no_survey_figure_in_any_part_of_its_leaders_digest(
    source: DigestSource, world: World
) -> None:
    digest = compose(source, leader_audience(source, world, "tim"))

    assert digest.headline.readiness.value is None and digest.headline.usage_rate.value is None
    assert digest.headline.hidden_teams == 1
    [line] = digest.teams
    assert (line.survey, line.readiness, line.usage_rate, line.barrier) == ("hidden", None, None, None)
    assert digest.barriers == ()
    assert digest.comments == ()  # 4 comments: under k
    # The chart's data: the survey lines are all gaps.
    assert digest.trend.readiness and all(v is None for v in digest.trend.readiness)
    assert all(v is None for v in digest.trend.usage_rate)
    # CSV: the row is marked suppressed and every survey cell is empty.
    [row] = digest.csv_rows
    assert row.suppressed is True
    assert all(getattr(row, name) is None for name in (*STAGES, "readiness", "barrier", "usage_rate"))
    csv_line = to_csv(digest.csv_rows).splitlines()[1].split(",")
    assert dict(zip(FIELDS, csv_line, strict=True))["readiness"] == ""
    # The blocks and the AI prompt say "hidden" / "not available", never Tiny's 1.00 or its 0 % use.
    text = payload_text(digest)
    check_blocks(json.loads(text)["blocks"])
    assert "hidden" in text and "1.00" not in text and "used AI 0%" not in text
    prompt = narrative_prompt(digest)
    assert "Readiness (1-5): not available" in prompt
    assert "Tiny" not in prompt and "zebrafish" not in text


def test_several_teams_combine_only_their_shown_figures(source: DigestSource, world: World) -> None:
    digest = compose(source, leader_audience(source, world, "bea"))

    by_team = {t.name: t for t in digest.teams}
    assert by_team["Tiny"].survey == "hidden" and by_team["Alpha"].survey == "shown"
    # Respondent-weighted over Alpha (8 x 4.00) and Beta (7 x 2.8): Tiny's 1.00 is left out.
    alpha, beta = by_team["Alpha"].readiness, by_team["Beta"].readiness
    assert alpha is not None and beta is not None
    assert digest.headline.readiness.value == round((8 * alpha + 7 * beta) / 15, 2)
    assert (digest.headline.survey_teams, digest.headline.hidden_teams) == (2, 1)
    assert digest.pulse is not None and (digest.pulse.respondents, digest.pulse.invited) == (19, 24)
    assert [r.team for r in digest.csv_rows] == ["Alpha", "Beta", "Tiny"]  # their teams, no `*`


def test_the_org_wide_digest_shows_the_whole_but_never_a_hidden_team(source: DigestSource) -> None:
    digest = compose(source, ORGANISATION)

    hidden = {t.name for t in digest.teams if t.survey == "hidden"}
    assert hidden == {"Tiny", "Solo"}
    assert digest.headline.readiness.value is not None  # `*`: 20 respondents, a hidden remainder of 5
    rows = {r.team: r for r in digest.csv_rows}
    assert set(rows) == {"Alpha", "Beta", "Tiny", "Solo", "*"}
    assert rows["Tiny"].readiness is None and rows["Solo"].usage_rate is None and rows["*"].readiness
    # Alpha's 8 comments on their own; Tiny's 4 are the whole rest: under k, so not summarised at all.
    assert [(c.group, c.comments) for c in digest.comments] == [("Alpha", 8)]
    check_blocks(json.loads(payload_text(digest))["blocks"])


def test_wins_are_escaped_and_anonymous_or_private_ones_name_nobody(
    source: DigestSource, world: World
) -> None:
    digest = compose(source, ORGANISATION)
    text = payload_text(digest)

    assert "&lt;!channel&gt; &amp; &lt;@U999999&gt;" in text
    assert "<!channel>" not in text and "<@U999999>" not in text
    named_author = "<@UALPHA000>"
    assert named_author in text  # a named win credits its author, by Slack ID only
    assert "UTINY001" not in text  # the anonymous win's author
    assert "Tiny's secret spreadsheet trick" in text.replace("\\u2019", "'")
    assert "Private notes summarised" not in text and "Pending story" not in text
    tools = {c.tool: c.wins for c in digest.use_cases}
    assert tools == {"ChatGPT": 1, "Gemini": 1}  # public, approved wins only
    assert digest.wins_without_tool == 0


def test_the_narrative_prompt_holds_only_figures_the_digest_shows(source: DigestSource) -> None:
    digest = compose(source, ORGANISATION)
    prompt = narrative_prompt(digest)

    readiness = digest.headline.readiness
    assert digest.compared.previous_run is not None and readiness.change is not None
    assert (
        f"Readiness (1-5): {readiness.value:g} (change vs the previous pulse run "
        f"#{digest.compared.previous_run}: {readiness.change:+g})" in prompt
    )
    assert "Teams whose survey figures are hidden for anonymity: 2." in prompt
    for forbidden in ("Tiny", "Solo", "Alpha", "Ada", "zebrafish", "@", "U0"):
        assert forbidden not in prompt
    assert len(re.findall(r"[.!?](?:\s|$)", digest.narrative)) == 3  # the template: three sentences


# --- Block Kit limits for any number of teams ---------------------------------------------------------


@pytest.mark.parametrize("teams", [1, 12, 300])
def test_the_digest_fits_slacks_limits_for_any_number_of_teams(
    teams: int, engine: Engine, tmp_path: object
) -> None:
    from bot.demo.service import DemoOptions, run_demo

    settings = world_settings()
    run_demo(
        engine,
        settings,
        library(),
        DemoOptions(teams=teams, members=max(teams * 3, 12), weeks=3, seed=teams),
        out_dir=None,
        progress=lambda _message: None,
        now=NOW,
    )
    long_name = ('R&D <Platform> & "Ops" ' * 6)[:120]  # the longest a team name may be; escaping adds more
    with session_scope(engine) as session:
        first = session.get(Team, 1)
        assert first is not None
        first.name = long_name.strip()
    with Session(engine) as session:
        source = DigestSource(session, settings, library(), week_monday=WEEK, now=NOW)
        everyone = compose(source, ORGANISATION)
        one_leader = compose(source, digest_delivery.leaders(session, settings)[0].audience)
    for digest in (everyone, one_leader):
        for mode in ("dm", "channel", "preview"):
            text, blocks = digest_message(digest, command="/adopt", mode=mode)
            check_blocks(blocks)
            assert text and len(text) < 300
    shown = [b for b in digest_message(everyone, command="/adopt")[1] if "*Teams*" in json.dumps(b)]
    assert shown, "the per-team view is there"
    assert len(everyone.teams) == teams and len(everyone.csv_rows) == teams + 1
    if teams > 10:
        assert f"…and {teams - 10:,} more teams: every team is in the CSV." in payload_text(everyone)
