"""Anonymity of the metrics: nothing under k shown, nothing under k recoverable by subtraction."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.models import PulseAnswer, PulseResponse
from bot.services.metrics import ADKAR_STAGES, compute_metrics
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
