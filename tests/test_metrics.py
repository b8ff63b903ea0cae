"""Per-team metrics: every field computed exactly, week boundaries in the org's time zone, formats."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import date, datetime
from itertools import count

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config import Settings
from bot.metrics.service import compute_metrics, last_complete_week, team_barriers
from bot.models import (
    Activity,
    NudgeDelivery,
    Person,
    PulseAnswer,
    PulseInvitation,
    PulseResponse,
    PulseRun,
    Team,
)
from tests.support.factories import add_team, add_win, pulse_run

WEEK = date(2026, 3, 2)  # Monday of 2026-W10
EARLY = datetime(2026, 1, 5)
STAGES = ("awareness", "desire", "knowledge", "ability", "reinforcement")
DOCUMENTED_FIELDS = [
    "week",
    "team",
    "members",
    "reached",
    "engaged",
    "active_28d",
    "active_28d_rate",
    "nudges_sent",
    "nudges_tried",
    "tried_rate",
    "pulse",
    "invited",
    "respondents",
    "response_rate",
    "suppressed",
    "awareness",
    "desire",
    "knowledge",
    "ability",
    "reinforcement",
    "readiness",
    "barrier",
    "usage_rate",
    "wins",
    "hours_saved",
    "readiness_change",
    "licensed",
    "measured_active",
    "measured_rate",
    "idle_licences",
    "say_do_gap",
]


class Org:
    """Writes a small organisation's history straight into the database, the way the product stores it."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.teams: dict[str, Team] = {}
        self.runs: list[PulseRun] = []
        self._ids = count(1)

    def team(self, name: str) -> Team:
        if name not in self.teams:
            self.teams[name] = add_team(self.session, name, created_at=EARLY)
        return self.teams[name]

    def person(self, team: str | None, *, active: bool = True, created_at: datetime = EARLY) -> Person:
        n = next(self._ids)
        person = Person(
            slack_user_id=f"U{n:08d}X",
            email=f"person{n}@example.org",
            name=f"Person Number{n}",
            team_id=self.team(team).id if team else None,
            role="sales",
            is_active=active,
            created_at=created_at,
        )
        self.session.add(person)
        self.session.flush()
        return person

    def people(self, team: str | None, n: int) -> list[Person]:
        return [self.person(team) for _ in range(n)]

    def run(self, opened_at: datetime) -> PulseRun:
        run = pulse_run(self.session, opened_at)
        self.runs.append(run)
        return run

    def invite(self, run: PulseRun, people: list[Person]) -> None:
        self.session.add_all(
            PulseInvitation(run_id=run.id, person_id=p.id, team_id=p.team_id, invited_at=run.opened_at)
            for p in people
        )
        self.session.flush()

    def answer(
        self,
        run: PulseRun,
        team: str | None,
        stages: dict[str, list[int] | int],
        usage: int | None = None,
        comment: str | None = None,
    ) -> PulseResponse:
        response = PulseResponse(
            run_id=run.id,
            respondent=f"{next(self._ids):064x}",
            team_id=self.team(team).id if team else None,
            submitted_at=run.opened_at.replace(hour=0),
        )
        for stage, values in stages.items():
            for i, value in enumerate(values if isinstance(values, list) else [values]):
                response.answers.append(PulseAnswer(question_id=f"{stage}_{i}", stage=stage, value=value))
        if usage is not None:
            response.answers.append(PulseAnswer(question_id="usage", metric="usage", value=usage))
        if comment is not None:
            response.answers.append(PulseAnswer(question_id="comment", text=comment))
        self.session.add(response)
        self.session.flush()
        return response

    def same(self, run: PulseRun, team: str | None, value: int, n: int, usage: int = 1) -> None:
        for _ in range(n):
            self.answer(run, team, dict.fromkeys(STAGES, value), usage)

    def nudge(self, person: Person, sent_at: datetime, status: str = "sent") -> None:
        self.session.add(
            NudgeDelivery(
                person_id=person.id,
                team_id=person.team_id,
                nudge_id=f"n{next(self._ids)}",
                slot=sent_at.date().isoformat(),
                outbox_key=f"nudge:{next(self._ids)}",
                sent_at=sent_at,
                status=status,
            )
        )

    def activity(self, person: Person, at: datetime, kind: str = "nudge_tried") -> None:
        self.session.add(Activity(person_id=person.id, team_id=person.team_id, kind=kind, occurred_at=at))

    def win(self, person: Person, at: datetime, hours: float, status: str = "approved") -> None:
        add_win(self.session, person, at=at, hours=hours, status=status)


def settings(k: int = 3, tz: str = "UTC") -> Settings:
    return dataclasses.replace(Settings(), min_group_size=k, timezone=tz)


def by_team(rows: list) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r.team: r.to_dict() for r in rows}


def seed_reference_org(session: Session) -> Org:
    """Two teams with every kind of fact in and around week 2026-W10 (hand-computed expectations below)."""
    org = Org(session)
    sales = org.people("Sales", 4)
    org.person("Sales", active=False)
    org.person("Sales", created_at=datetime(2026, 3, 10))  # joined after the week
    support = org.people("Support", 3)
    org.person(None)  # no team: counts in `*`
    # Nudges: Sales 3 in the week (2 tried) to 2 people; one the week before. Support 1 not tried.
    org.nudge(sales[0], datetime(2026, 3, 3, 10), "tried")
    org.nudge(sales[0], datetime(2026, 3, 5, 10))
    org.nudge(sales[1], datetime(2026, 3, 8, 23, 59), "tried")
    org.nudge(sales[2], datetime(2026, 2, 26, 10), "tried")
    org.nudge(support[0], datetime(2026, 3, 2, 0, 0))
    # Activity: Sales p0 twice, p3 once; p1 exactly at the next Monday (next week). Support p0 only
    # pressed buttons that are not engagement; p1 tried a nudge three weeks before (active_28d only), p2
    # acknowledged a broadcast just before the four weeks began.
    org.activity(sales[0], datetime(2026, 3, 3, 11))
    org.activity(sales[0], datetime(2026, 3, 4, 11), "pulse")
    org.activity(sales[3], datetime(2026, 3, 6, 9), "win")
    org.activity(sales[1], datetime(2026, 3, 9, 0, 0))
    for kind in ("nudge_not_for_me", "nudge_later", "nudge_helpful", "nudge_not_helpful", "pulse"):
        org.activity(support[0], datetime(2026, 3, 3, 12), kind)
    org.activity(support[1], datetime(2026, 2, 10, 9), "nudge_tried")
    org.activity(support[2], datetime(2026, 2, 8, 23, 59), "ack")
    # Wins: two approved in the week, one pending, one approved the week before.
    org.win(sales[0], datetime(2026, 3, 4), 2.5)
    org.win(sales[3], datetime(2026, 3, 6), 1.0)
    org.win(sales[1], datetime(2026, 3, 5), 8.0, status="pending")
    org.win(sales[2], datetime(2026, 2, 25), 4.0)
    # Previous run: Sales all 3s, Support all 2s.
    before = org.run(datetime(2026, 2, 16, 9))
    org.same(before, "Sales", 3, 3)
    org.same(before, "Support", 2, 3)
    # Current run (opened in the week) and a later one that must be ignored.
    current = org.run(datetime(2026, 3, 4, 9))
    org.invite(current, sales + support)
    org.answer(
        current,
        "Sales",
        {"awareness": [4, 5], "desire": 4, "knowledge": 2, "ability": 3, "reinforcement": 4},
        usage=2,
    )
    org.answer(
        current,
        "Sales",
        {"awareness": [3, 4], "desire": 5, "knowledge": 2, "ability": 4, "reinforcement": 3},
        usage=0,
    )
    org.answer(
        current,
        "Sales",
        {"awareness": [5, 5], "desire": 3, "knowledge": 3, "ability": 4, "reinforcement": 5},
        usage=1,
    )
    org.answer(
        current,
        "Support",
        {"awareness": [2, 2], "desire": 2, "knowledge": 3, "ability": 3, "reinforcement": 2},
        usage=0,
    )
    org.answer(
        current,
        "Support",
        {"awareness": [3, 3], "desire": 2, "knowledge": 3, "ability": 2, "reinforcement": 3},
        usage=0,
    )
    org.answer(
        current,
        "Support",
        {"awareness": [2, 3], "desire": 2, "knowledge": 3, "ability": 2, "reinforcement": 3},
        usage=1,
        comment="More examples for support",
    )
    later = org.run(datetime(2026, 3, 10, 9))
    org.same(later, "Sales", 1, 3)
    session.commit()
    return org


def test_every_field_is_computed_exactly_as_spec_defines(session: Session) -> None:
    org = seed_reference_org(session)
    rows = compute_metrics(session, week_monday=WEEK, settings=settings(k=3))
    assert [r.team for r in rows] == ["Sales", "Support", "*"]
    current = org.runs[1].id
    assert by_team(rows)["Sales"] == {
        "week": "2026-W10",
        "team": "Sales",
        "members": 4,
        "reached": 2,
        "engaged": 2,
        "active_28d": 2,
        "active_28d_rate": 0.5,
        "nudges_sent": 3,
        "nudges_tried": 2,
        "tried_rate": 0.667,
        "pulse": current,
        "invited": 4,
        "respondents": 3,
        "response_rate": 0.75,
        "suppressed": False,
        "awareness": 4.33,
        "desire": 4.0,
        "knowledge": 2.33,
        "ability": 3.67,
        "reinforcement": 4.0,
        "readiness": 3.67,
        "barrier": "knowledge",
        "usage_rate": 0.667,
        "wins": 2,
        "hours_saved": 3.5,
        "readiness_change": 0.67,
        "licensed": None,
        "measured_active": None,
        "measured_rate": None,
        "idle_licences": None,
        "say_do_gap": None,
    }
    assert by_team(rows)["Support"] == {
        "week": "2026-W10",
        "team": "Support",
        "members": 3,
        "reached": 1,
        "engaged": 0,
        "active_28d": None,  # Support (3) would reveal the person without a team through `*`
        "active_28d_rate": None,
        "nudges_sent": 1,
        "nudges_tried": 0,
        "tried_rate": 0.0,
        "pulse": current,
        "invited": 3,
        "respondents": 3,
        "response_rate": 1.0,
        "suppressed": False,
        "awareness": 2.5,
        "desire": 2.0,
        "knowledge": 3.0,
        "ability": 2.33,
        "reinforcement": 2.67,
        "readiness": 2.5,
        "barrier": "desire",
        "usage_rate": 0.333,
        "wins": 0,
        "hours_saved": 0.0,
        "readiness_change": 0.5,
        "licensed": None,
        "measured_active": None,
        "measured_rate": None,
        "idle_licences": None,
        "say_do_gap": None,
    }
    assert by_team(rows)["*"] == {
        "week": "2026-W10",
        "team": "*",
        "members": 8,
        "reached": 3,
        "engaged": 2,
        "active_28d": 3,
        "active_28d_rate": 0.375,
        "nudges_sent": 4,
        "nudges_tried": 2,
        "tried_rate": 0.5,
        "pulse": current,
        "invited": 7,
        "respondents": 6,
        "response_rate": 0.857,
        "suppressed": False,
        "awareness": 3.42,
        "desire": 3.0,
        "knowledge": 2.67,
        "ability": 3.0,
        "reinforcement": 3.33,
        "readiness": 3.08,
        "barrier": "knowledge",
        "usage_rate": 0.5,
        "wins": 2,
        "hours_saved": 3.5,
        "readiness_change": 0.58,
        "licensed": None,
        "measured_active": None,
        "measured_rate": None,
        "idle_licences": None,
        "say_do_gap": None,
    }
    assert list(rows[0].to_dict()) == DOCUMENTED_FIELDS


def test_week_boundaries_are_local_mondays_across_a_dst_change(session: Session) -> None:
    # New York: Monday 2026-03-02 00:00 EST is 05:00 UTC; DST starts on 03-08, so the next Monday's
    # midnight (EDT) is 04:00 UTC.
    org = Org(session)
    moments = {
        "a": datetime(2026, 3, 2, 4, 59),  # Sunday evening in New York: the week before
        "b": datetime(2026, 3, 2, 5, 0),  # Monday 00:00 in New York
        "c": datetime(2026, 3, 9, 3, 59),  # Sunday 23:59 EDT
        "d": datetime(2026, 3, 9, 4, 0),  # Monday 00:00 EDT: the next week
        "e": datetime(2026, 3, 9, 1, 0),  # Sunday 21:00 EDT, but Monday in UTC
    }
    for moment in moments.values():
        org.activity(org.person("Sales"), moment)
    session.commit()
    new_york = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(tz="America/New_York")))
    utc = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(tz="UTC")))
    assert new_york["Sales"]["engaged"] == 3  # b, c, e
    assert utc["Sales"]["engaged"] == 2  # a, b
    before = by_team(
        compute_metrics(session, week_monday=date(2026, 2, 23), settings=settings(tz="America/New_York"))
    )
    assert before["Sales"]["engaged"] == 1  # a


def test_active_28d_counts_who_tried_a_nudge_in_the_four_weeks_ending_with_the_week(session: Session) -> None:
    org = Org(session)
    tried, declined = org.person("Sales"), org.person("Sales")
    for _ in range(3):
        org.person("Sales")
    for _ in range(5):
        org.person("Support")
    org.activity(tried, datetime(2026, 2, 10, 9), "nudge_tried")  # Tuesday of 2026-W07
    org.activity(declined, datetime(2026, 3, 3, 9), "nudge_not_for_me")  # W10
    session.commit()

    def week(monday: date) -> dict[str, dict]:  # type: ignore[type-arg]
        return by_team(compute_metrics(session, week_monday=monday, settings=settings()))

    # Three weeks later (W10) the nudge tried in W07 still counts as active, though not as engaged.
    w10 = week(WEEK)
    assert (w10["Sales"]["engaged"], w10["Sales"]["active_28d"], w10["Sales"]["active_28d_rate"]) == (
        0,
        1,
        0.2,
    )
    assert (w10["Support"]["active_28d"], w10["Support"]["active_28d_rate"]) == (0, 0.0)
    assert (w10["*"]["active_28d"], w10["*"]["active_28d_rate"]) == (1, 0.1)
    # A week later it has left the four weeks; "Not for me" never made anyone active.
    assert week(date(2026, 3, 9))["Sales"]["active_28d"] == 0
    assert week(date(2026, 2, 9))["Sales"]["engaged"] == 1


def test_active_28d_is_hidden_for_teams_under_k_members_and_for_the_team_that_would_reveal_them(
    session: Session,
) -> None:
    # Pairs is two people: how many of them took part this month is theirs alone. Sales (5) would give it
    # away through `*` minus Support, so it is hidden too; `*` (12) still shows.
    org = Org(session)
    sales = [org.person("Sales") for _ in range(5)]
    support = [org.person("Support") for _ in range(5)]
    pair = [org.person("Pairs") for _ in range(2)]
    for person in (sales[0], support[0], support[1], pair[0]):
        org.activity(person, datetime(2026, 3, 3, 9), "nudge_tried")
    session.commit()
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings()))
    assert (rows["Pairs"]["active_28d"], rows["Pairs"]["active_28d_rate"]) == (None, None)
    assert (rows["Sales"]["active_28d"], rows["Sales"]["active_28d_rate"]) == (None, None)
    assert (rows["Support"]["active_28d"], rows["Support"]["active_28d_rate"]) == (2, 0.4)
    assert (rows["*"]["active_28d"], rows["*"]["active_28d_rate"]) == (4, 0.333)
    assert rows["Pairs"]["engaged"] == 1  # the week's engagement count is an activity count, as before


def test_last_complete_week_is_decided_in_the_org_time_zone() -> None:
    # Sunday 2026-03-08 12:00 UTC is already Monday 01:00 in Auckland: the week of 03-02 is complete there.
    now = datetime(2026, 3, 8, 12, 0)
    assert last_complete_week(settings(tz="Pacific/Auckland"), now) == date(2026, 3, 2)
    assert last_complete_week(settings(tz="UTC"), now) == date(2026, 2, 23)
    assert last_complete_week(settings(tz="UTC"), datetime(2026, 3, 9, 0, 0)) == date(2026, 3, 2)


def test_no_pulse_run_yet_leaves_survey_fields_null_and_unsuppressed(session: Session) -> None:
    org = Org(session)
    org.people("Sales", 2)
    session.commit()
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings()))
    for row in rows.values():
        assert row["pulse"] is None and row["invited"] is None and row["respondents"] is None
        assert row["suppressed"] is False and row["readiness"] is None and row["readiness_change"] is None
    assert rows["Sales"]["members"] == 2 and rows["Sales"]["tried_rate"] is None


@pytest.mark.parametrize(
    ("scores", "barrier"),
    [
        ({"awareness": 4, "desire": 4, "knowledge": 4, "ability": 4, "reinforcement": 4}, None),
        ({"awareness": 4, "desire": 3, "knowledge": 4, "ability": 4, "reinforcement": 4}, "desire"),
        ({"awareness": 4, "desire": 2, "knowledge": 4, "ability": 2, "reinforcement": 4}, "desire"),
        ({"awareness": 5, "desire": 5, "knowledge": 3, "ability": 3, "reinforcement": 1}, "reinforcement"),
    ],
)
def test_barrier_is_the_lowest_element_at_or_below_3_with_adkar_order_breaking_ties(
    session: Session, scores: dict[str, int], barrier: str | None
) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))
    for _ in range(3):
        org.answer(run, "Sales", dict(scores), usage=1)  # type: ignore[arg-type]
    session.commit()
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=3)))
    assert rows["Sales"]["barrier"] == barrier
    assert rows["*"]["barrier"] == barrier


def test_team_filter_shows_that_team_and_the_unchanged_org_row(session: Session) -> None:
    seed_reference_org(session)
    everything = by_team(compute_metrics(session, week_monday=WEEK, settings=settings()))
    rows = compute_metrics(session, week_monday=WEEK, settings=settings(), team_names=["sales"])
    assert [r.team for r in rows] == ["Sales", "*"]
    assert by_team(rows) == {"Sales": everything["Sales"], "*": everything["*"]}


def test_team_barriers_names_only_teams_that_may_be_shown(session: Session) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))
    org.same(run, "Ops", 4, 3)  # no barrier
    for _ in range(3):
        org.answer(
            run, "Sales", {"awareness": 4, "desire": 4, "knowledge": 2, "ability": 4, "reinforcement": 4}
        )
    org.same(run, "Legal", 1, 2)  # too few: hidden, and then one more team must be hidden with it
    session.commit()
    barriers = team_barriers(session, settings(k=3), now=datetime(2026, 3, 11))
    # Legal (2) is hidden; Ops and Sales tie on 3 respondents and "Ops" sorts first, so Ops is hidden too.
    assert barriers == {org.teams["Sales"].id: "knowledge"}
    assert team_barriers(session, settings(k=3), now=datetime(2026, 3, 1)) == {}
    # While the run still takes answers, targeting does not follow its partial results.
    assert team_barriers(session, settings(k=3), now=datetime(2026, 3, 5)) == {}


def _run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_json_and_csv_carry_spec_fields_and_never_a_person(
    db_url: str, session: Session, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADOPTBOT_MIN_GROUP_SIZE", "3")
    seed_reference_org(session)
    expected = [r.to_dict() for r in compute_metrics(session, week_monday=WEEK, settings=settings(k=3))]
    session.commit()  # end the read: SQLite sessions here take the write lock when they begin
    code, out, err = _run_cli(capsys, "metrics", "--db", db_url, "--week", "2026-W10", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == expected
    code, csv_out, err = _run_cli(capsys, "metrics", "--db", db_url, "--week", "2026-w10", "--format", "csv")
    assert code == 0, err
    table = list(csv.DictReader(io.StringIO(csv_out)))
    assert list(table[0]) == DOCUMENTED_FIELDS
    assert [r["team"] for r in table] == ["Sales", "Support", "*"]
    assert table[0]["readiness"] == "3.67" and table[0]["suppressed"] == "false"
    assert table[2]["response_rate"] == "0.857"
    people = list(session.scalars(select(Person)))
    responses = list(session.scalars(select(PulseResponse)))
    secrets = [p.name for p in people] + [p.email for p in people] + [p.slack_user_id for p in people]
    secrets += [r.respondent for r in responses] + ["More examples for support", "Number", "example.org"]
    for output in (out, csv_out):
        for secret in secrets:
            assert secret and secret not in output


def test_cli_table_marks_hidden_figures(
    db_url: str, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))
    org.invite(run, org.people("Sales", 6) + org.people("Support", 6))
    org.same(run, "Sales", 4, 6)
    org.same(run, "Support", 2, 4)
    session.commit()
    code, out, err = _run_cli(capsys, "metrics", "--db", db_url, "--week", "2026-W10")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"Adoption metrics, week 2026-W10 (pulse run #{run.id})"
    sales = next(line for line in lines if line.startswith("Sales"))
    support = next(line for line in lines if line.startswith("Support"))
    total = next(line for line in lines if line.startswith("*"))
    # k = 5: Support (4 answers) is hidden, so Sales must be hidden too or `*` would give Support away.
    assert "hidden" in support and "hidden" in sales and "6/6" in sales and "4/6" in support
    assert "hidden" not in total and "3.20" in total
    assert "fewer than 5 answers" in out


def test_cli_unknown_team_and_bad_week_are_usage_errors(
    db_url: str, session: Session, capsys: pytest.CaptureFixture[str]
) -> None:
    Org(session).people("Sales", 1)
    session.commit()
    code, out, err = _run_cli(capsys, "metrics", "--db", db_url, "--team", "Marketing")
    assert code == 2 and out == ""
    assert err == "adoptbot: unknown team 'Marketing'; known teams: Sales.\n"
    code, _, err = _run_cli(capsys, "metrics", "--db", db_url, "--week", "2026-47")
    assert code == 2 and err.count("\n") == 1 and "ISO week" in err
