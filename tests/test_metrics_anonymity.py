"""Anonymity of the metrics: nothing under k shown, nothing under k recoverable by subtraction."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.cli import main
from bot.digest.blocks import digest_message
from bot.digest.service import ORGANISATION, Audience, DigestSource, compose
from bot.metrics.service import ADKAR_STAGES, compute_metrics, team_barriers
from bot.models import PulseAnswer, PulseResponse, PulseRun
from tests.support.slack_app import library
from tests.test_metrics import STAGES, WEEK, Org, by_team, settings

SURVEY_FIGURES = (*ADKAR_STAGES, "readiness", "barrier", "usage_rate", "readiness_change")


@pytest.mark.parametrize("k", [3, 5])
def test_suppression_at_k_minus_one_and_at_k(session: Session, k: int) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))
    org.invite(run, org.people("Ops", k + 2))
    org.same(run, "Ops", 4, k - 1, usage=0)
    session.commit()
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=k)))
    for name in ("Ops", "*"):
        assert rows[name]["suppressed"] is True
        assert rows[name]["respondents"] == k - 1  # participation counts stay visible
        assert all(rows[name][f] is None for f in SURVEY_FIGURES), rows[name]

    org.answer(run, "Ops", dict.fromkeys(STAGES, 2), usage=3)
    session.commit()
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=k)))
    for name in ("Ops", "*"):
        row = rows[name]
        assert row["suppressed"] is False and row["respondents"] == k
        mean = round((4 * (k - 1) + 2) / k + 1e-9, 2)
        assert [row[s] for s in STAGES] == [mean] * 5 and row["readiness"] == mean
        assert row["usage_rate"] == round(1 / k + 1e-9, 3)
        assert row["response_rate"] == round(k / (k + 2) + 1e-9, 3)


def _attack(rows: dict[str, dict], stage: str) -> float:  # type: ignore[type-arg]
    """What a reader recovers for the hidden teams: `*` total minus every shown team's total, per person."""
    total = rows["*"][stage] * rows["*"]["respondents"]
    shown = [r for name, r in rows.items() if name != "*" and not r["suppressed"]]
    hidden_people = rows["*"]["respondents"] - sum(r["respondents"] for r in shown)
    return (total - sum(r[stage] * r["respondents"] for r in shown)) / hidden_people


def test_subtraction_attack_on_the_org_row_cannot_recover_a_suppressed_team(session: Session) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))
    org.same(run, "Alpha", 1, 4)  # 4 < k = 5: suppressed
    org.same(run, "Beta", 5, 5)
    org.same(run, "Gamma", 3, 7)
    session.commit()
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=5)))
    assert rows["Alpha"]["suppressed"] and rows["Alpha"]["awareness"] is None
    # Showing Beta would let `*` minus Beta minus Gamma give Alpha's mean (1.0): Beta is hidden with it.
    assert (
        rows["Beta"]["suppressed"] and rows["Beta"]["respondents"] == 5 and rows["Beta"]["awareness"] is None
    )
    assert not rows["Gamma"]["suppressed"] and rows["Gamma"]["awareness"] == 3.0
    assert not rows["*"]["suppressed"] and rows["*"]["awareness"] == 3.13  # (4 + 25 + 21) / 16
    recovered = _attack(rows, "awareness")
    assert recovered == pytest.approx((4 * 1 + 5 * 5) / 9, abs=0.01)  # Alpha and Beta together: 9 people
    assert recovered != pytest.approx(1.0, abs=0.5)

    # And no cleverer arithmetic can do better: move one answer sheet from Alpha to Beta and one back.
    # Alpha's true mean changes (1.0 -> 2.0), yet every figure shown stays exactly the same.
    alpha, beta = org.teams["Alpha"].id, org.teams["Beta"].id
    one_alpha = session.scalars(select(PulseResponse.id).where(PulseResponse.team_id == alpha).limit(1)).one()
    one_beta = session.scalars(select(PulseResponse.id).where(PulseResponse.team_id == beta).limit(1)).one()
    session.execute(update(PulseResponse).where(PulseResponse.id == one_alpha).values(team_id=beta))
    session.execute(update(PulseResponse).where(PulseResponse.id == one_beta).values(team_id=alpha))
    session.commit()
    alpha_values = session.scalars(
        select(PulseAnswer.value)
        .join(PulseResponse)
        .where(PulseResponse.team_id == alpha, PulseAnswer.stage.is_not(None))
    ).all()
    assert sum(alpha_values) / len(alpha_values) == 2.0
    assert by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=5))) == rows


def test_people_without_a_team_count_as_a_hidden_group(session: Session) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))
    org.same(run, None, 1, 2)  # no team row shows them, but `*` includes them
    org.same(run, "Alpha", 4, 5)
    org.same(run, "Beta", 3, 6)
    session.commit()
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=5)))
    assert rows["Alpha"]["suppressed"] and not rows["Beta"]["suppressed"] and not rows["*"]["suppressed"]
    assert _attack(rows, "desire") == pytest.approx((2 * 1 + 5 * 4) / 7, abs=0.01)  # 7 people, not 2


def test_a_single_small_group_with_nobody_else_hides_the_org_row_too(session: Session) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))
    org.same(run, "Alpha", 2, 2)
    org.people("Beta", 8)  # invited nobody answered: shown as 0 respondents, suppressed
    session.commit()
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=3)))
    assert all(r["suppressed"] and r["readiness"] is None for r in rows.values())


def test_readiness_change_never_reveals_a_suppressed_previous_run(session: Session) -> None:
    org = Org(session)
    before = org.run(datetime(2026, 2, 16, 9))
    org.same(before, "Sales", 1, 2)  # hidden in the previous run (k = 3)
    org.same(before, "Support", 4, 3)  # shown: Sales + Ops already hold 5 >= 3 people
    org.same(
        before, "Ops", 5, 3
    )  # hidden too in that run (ties Support, sorts first), or `*` gives Sales away
    now = org.run(datetime(2026, 3, 3, 9))
    for team in ("Sales", "Support", "Ops"):
        org.same(now, team, 3, 3)
    session.commit()
    previous = by_team(
        compute_metrics(session, week_monday=datetime(2026, 2, 16).date(), settings=settings(k=3))
    )
    assert previous["Sales"]["suppressed"] and previous["Ops"]["suppressed"]
    assert not previous["Support"]["suppressed"]
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=3)))
    assert all(not r["suppressed"] for r in rows.values())
    assert rows["Sales"]["readiness_change"] is None  # 3.0 - 1.0 would reveal the 2 people's answers
    assert rows["Ops"]["readiness_change"] is None  # ... and this, by subtraction from `*`
    assert rows["Support"]["readiness_change"] == -1.0
    assert rows["*"]["readiness_change"] == pytest.approx(3.0 - (2 * 1 + 3 * 4 + 3 * 5) / 8, abs=0.01)


def test_an_open_run_shows_no_survey_figure_so_two_outputs_cannot_be_subtracted(session: Session) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))  # open until 10 March, 09:00
    org.invite(run, org.people("Ops", 8))
    org.same(run, "Ops", 4, 5, usage=1)
    session.commit()
    while_open = datetime(2026, 3, 5, 12)
    before = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=5), now=while_open))
    org.answer(run, "Ops", dict.fromkeys(STAGES, 1), usage=0)  # the sixth answer
    session.commit()
    after = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=5), now=while_open))
    for rows in (before, after):
        for name in ("Ops", "*"):
            assert rows[name]["suppressed"] is True, rows[name]
            assert all(rows[name][f] is None for f in SURVEY_FIGURES), rows[name]
    assert (before["Ops"]["respondents"], after["Ops"]["respondents"]) == (5, 6)  # participation still shows

    closed = by_team(
        compute_metrics(session, week_monday=WEEK, settings=settings(k=5), now=datetime(2026, 3, 10, 9))
    )
    assert closed["Ops"]["suppressed"] is False
    assert closed["Ops"]["readiness"] == round((4 * 5 + 1) / 6 + 1e-9, 2)


def _optional_answers(org: Org, run: PulseRun) -> None:
    """Ops: 5 respondents, but only one answered the optional desire question and two the usage one.
    Sales: 6 respondents who answered everything."""
    others = {s: 4 for s in STAGES if s != "desire"}
    org.answer(run, "Ops", {**others, "desire": 1}, usage=0)
    org.answer(run, "Ops", others, usage=3)
    for _ in range(3):
        org.answer(run, "Ops", others)
    org.same(run, "Sales", 3, 6, usage=2)


def test_an_optional_question_answered_by_one_person_shows_no_figure_from_that_answer(
    session: Session,
) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))
    _optional_answers(org, run)
    session.commit()
    rows = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=5)))

    ops = rows["Ops"]
    assert ops["suppressed"] is False and ops["respondents"] == 5  # the row: 5 answer sheets
    assert [ops[s] for s in STAGES if s != "desire"] == [4.0] * 4  # 5 answers behind each
    # One person's desire answer (1) would be the team's mean, and pull readiness and the barrier.
    assert ops["desire"] is None and ops["readiness"] is None and ops["barrier"] is None
    assert ops["usage_rate"] is None  # two answers to the usage question
    # Complementary, figure by figure: `*` minus Sales would give Ops's one desire answer and two usage
    # answers, so Sales hides exactly those two figures, and keeps the rest.
    sales = rows["Sales"]
    assert sales["desire"] is None and sales["usage_rate"] is None and sales["readiness"] is None
    assert sales["awareness"] == 3.0 and sales["suppressed"] is False
    everyone = rows["*"]
    assert everyone["desire"] == round((1 + 6 * 3) / 7 + 1e-9, 2)  # 7 people behind it
    assert everyone["usage_rate"] == round(7 / 8 + 1e-9, 3)  # 8 people: 1 + 6 used AI
    assert everyone["readiness"] is not None


def test_per_figure_suppression_reaches_barriers_digests_and_exports(
    session: Session, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    org = Org(session)
    run = org.run(datetime(2026, 3, 3, 9))
    _optional_answers(org, run)
    session.commit()
    # Nudge targeting (a closed run): Ops's barrier would be desire, from one answer; it is not used.
    assert team_barriers(session, settings(k=5), now=datetime(2026, 3, 11)) == {}
    session.commit()  # end the read: SQLite sessions here take the write lock when they begin
    code = main(["metrics", "--db", db_url, "--week", "2026-W10", "--format", "csv"])
    out = capsys.readouterr().out
    assert code == 0
    exported = {row["team"]: row for row in csv.DictReader(io.StringIO(out))}
    assert exported["Ops"]["desire"] == "" and exported["Ops"]["usage_rate"] == ""
    assert exported["Ops"]["awareness"] == "4.0"
    source = DigestSource(session, settings(k=5), library(), week_monday=WEEK, now=datetime(2026, 3, 16, 10))
    digest = compose(source, ORGANISATION)
    line = next(t for t in digest.teams if t.name == "Ops")
    assert (line.survey, line.readiness, line.usage_rate, line.barrier) == ("shown", None, None, None)
    text = json.dumps(digest_message(digest, command="/adopt")[1])
    assert "barrier *desire*" not in text and "used AI 40%" not in text


def test_a_several_team_change_compares_only_teams_showing_that_figure_in_both_runs(
    session: Session,
) -> None:
    org = Org(session)
    before = org.run(datetime(2026, 2, 17, 9))
    org.same(before, "Ops", 4, 5, usage=0)  # nobody in Ops used AI then
    org.same(before, "Sales", 3, 6, usage=2)
    org.same(before, "Gamma", 3, 6, usage=2)
    now = org.run(datetime(2026, 3, 3, 9))
    others = dict.fromkeys(STAGES, 4)
    org.answer(now, "Ops", others, usage=3)
    org.answer(now, "Ops", others, usage=3)
    for _ in range(3):
        org.answer(now, "Ops", others)  # the usage question skipped: 2 answers in Ops
    org.same(now, "Sales", 3, 6, usage=2)
    org.same(now, "Gamma", 3, 6, usage=2)
    session.commit()
    source = DigestSource(session, settings(k=5), library(), week_monday=WEEK, now=datetime(2026, 3, 16, 10))
    ops_and_sales = Audience("Lee", (org.teams["Ops"].id, org.teams["Sales"].id))
    digest = compose(source, ops_and_sales)
    by_name = {t.name: t for t in digest.teams}
    assert by_name["Ops"].usage_rate is None and by_name["Sales"].usage_rate == 1.0
    # Sales used AI fully both times: no change. Comparing Sales now with Ops and Sales before would
    # show a rise of 45 points that nobody made.
    assert digest.headline.usage_rate.value == 1.0 and digest.headline.usage_rate.change == 0.0
