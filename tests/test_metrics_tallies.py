"""A settled pulse run's survey tallies are stored once, by the close job, and every later week's metrics
read them: the same figures, the same anonymity rules, without adding up the run's answers again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.metrics.service import compute_metrics
from bot.metrics.tallies import SETTLE
from bot.models import PulseAnswer, PulseRun, PulseTally
from bot.pulses.service import close_due_runs, settle_runs
from tests.test_metrics import WEEK, by_team, seed_reference_org, settings


def test_a_settled_runs_figures_are_stored_once_and_read_back_the_same(session: Session) -> None:
    org = seed_reference_org(session)
    k3 = settings(k=3)
    closed = max(run.closes_at for run in org.runs)
    later = closed + timedelta(days=3)
    live = by_team(compute_metrics(session, week_monday=WEEK, settings=k3, now=later))
    assert live["Sales"]["awareness"] is not None and live["Support"]["suppressed"] is False
    hidden = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=4), now=later))
    assert hidden["Sales"]["suppressed"] is True  # 3 respondents: hidden at k = 4

    # Not before every run has been closed for a day (an answer begun before the close may still land).
    assert close_due_runs(session, now=closed) == len(org.runs)
    assert settle_runs(session, k3, closed + SETTLE - timedelta(minutes=1), limit=None) == []
    assert settle_runs(session, k3, closed + SETTLE, limit=None) == sorted(run.id for run in org.runs)
    assert settle_runs(session, k3, later, limit=None) == []  # once
    session.commit()
    assert session.scalar(select(func.count()).select_from(PulseTally)) == len(org.runs)

    # The answers could be gone now: the figures come from what was stored, identical, rules applied.
    session.execute(delete(PulseAnswer))
    session.commit()
    assert by_team(compute_metrics(session, week_monday=WEEK, settings=k3, now=later)) == live
    assert by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=4), now=later)) == hidden


def test_an_open_run_and_one_closed_less_than_a_day_are_counted_from_their_answers(session: Session) -> None:
    org = seed_reference_org(session)
    current = org.runs[1]
    closes = current.closes_at
    close_due_runs(session, now=closes)
    assert settle_runs(session, settings(k=3), closes + timedelta(hours=12), limit=None) == []
    session.commit()
    before = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=3), now=closes))
    # A sheet the close did not stop (its transaction began before) still counts: nothing was frozen.
    org.same(current, "Support", 5, 1, usage=1)
    session.commit()
    after = by_team(compute_metrics(session, week_monday=WEEK, settings=settings(k=3), now=closes))
    assert after["Support"]["respondents"] == before["Support"]["respondents"] + 1
    assert session.get(PulseTally, current.id) is None
    assert session.scalar(select(func.count()).select_from(PulseRun)) == len(org.runs)


def test_the_close_job_stores_a_few_runs_a_tick(session: Session) -> None:
    org = seed_reference_org(session)
    for week in range(6):
        org.same(org.run(org.runs[-1].opened_at + timedelta(weeks=week + 1)), "Sales", 4, 3)
    session.commit()
    closed = max(run.closes_at for run in org.runs)
    close_due_runs(session, now=closed)
    ticks = [settle_runs(session, settings(k=3), closed + SETTLE + timedelta(minutes=n)) for n in range(4)]
    assert [len(stored) for stored in ticks] == [4, 4, 1, 0]  # nine runs: a tick stays short
    assert sorted(run_id for stored in ticks for run_id in stored) == sorted(run.id for run in org.runs)
