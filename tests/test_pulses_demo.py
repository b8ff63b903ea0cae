"""`adoptbot demo` gains pulse history and the metrics table, stored as the product stores them."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.content import load_library
from bot.demo import service as demo
from bot.metrics.service import compute_metrics
from bot.models import AppState, PulseInvitation, PulseResponse, PulseRun, Win

NOW = datetime(2026, 11, 23, 8)  # Monday 09:00 in Berlin


def _run(engine: Engine, **options: int) -> dict[str, str]:
    settings = dataclasses.replace(Settings(), timezone="Europe/Berlin")
    sections = demo.run_demo(
        engine,
        settings,
        load_library(),
        demo.DemoOptions(**options),
        out_dir=None,
        progress=lambda _: None,
        now=NOW,
    )
    return dict(sections)


def test_demo_tells_the_pulse_story_and_prints_last_weeks_metrics(engine: Engine) -> None:
    sections = _run(engine, teams=6, members=120, weeks=8)
    table = sections["Metrics, last complete week"]
    assert table.startswith("Adoption metrics, week 2026-W47 (pulse run #")
    settings = dataclasses.replace(Settings(), timezone="Europe/Berlin")
    with Session(engine) as session:
        runs = session.execute(select(PulseRun.opened_at).order_by(PulseRun.opened_at)).scalars().all()
        rows = {
            r.team: r for r in compute_metrics(session, week_monday=date(2026, 11, 16), settings=settings)
        }
        approved = session.scalar(select(func.count()).select_from(Win).where(Win.status == "approved"))
    # Every other week, each on a Tuesday at 10:00 Berlin time; the last one in the week before the last
    # complete week, so it has closed (7 days later) by the demo's now and the reports show it, final.
    local = [r.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo("Europe/Berlin")) for r in runs]
    assert len(runs) == 4 and [(r.weekday(), r.hour) for r in local] == [(1, 10)] * 4  # across the DST change
    assert runs[-1].date() == date(2026, 11, 10)
    assert table.splitlines()[0] == f"Adoption metrics, week 2026-W47 (pulse run #{rows['*'].pulse})"
    teams = [r for name, r in rows.items() if name != "*"]
    hidden = [r for r in teams if r.suppressed]
    assert len(hidden) == 2 and min(r.respondents or 0 for r in hidden) < settings.min_group_size
    assert any(r.barrier == "knowledge" for r in teams if not r.suppressed)  # the stuck team
    assert not rows["*"].suppressed and rows["*"].readiness_change is not None
    assert approved is not None and approved >= 8  # about one or two a week in a 120-person organisation
    assert (rows["*"].wins > 0) == (rows["*"].hours_saved > 0)
    for row in hidden:
        assert f"{row.team}" in table and "hidden" in table.split(row.team, 1)[1].splitlines()[0]


def test_demo_answers_are_keyed_hashes_one_per_answered_invitation(engine: Engine) -> None:
    _run(engine, teams=4, members=40, weeks=4)
    with Session(engine) as session:
        secret = session.scalars(select(AppState.value).where(AppState.key == "pulse_secret")).one().encode()
        answered = session.execute(
            select(PulseInvitation.run_id, PulseInvitation.person_id, PulseInvitation.team_id).where(
                PulseInvitation.answered_at.is_not(None)
            )
        ).all()
        sheets = set(
            session.execute(select(PulseResponse.run_id, PulseResponse.respondent, PulseResponse.team_id))
        )
        times = set(session.scalars(select(PulseResponse.submitted_at)))
    expected = {
        (run, hmac.new(secret, f"{run}:{person}".encode(), hashlib.sha256).hexdigest(), team)
        for run, person, team in answered
    }
    assert sheets == expected and len(sheets) > 20
    assert all(t.hour == 0 and t.minute == 0 for t in times)  # the day only
