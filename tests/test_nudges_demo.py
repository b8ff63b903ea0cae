"""`adoptbot demo` gains nudge history that follows the real rules, and a summary of it per team."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.content import load_library
from bot.demo import service as demo
from bot.models import Activity, NudgeDelivery, Person
from bot.nudges.service import deliver_due

NOW = datetime(2026, 11, 23, 8)  # Monday 09:00 in Berlin
SETTINGS = dataclasses.replace(Settings(), timezone="Europe/Berlin")


def test_demo_nudge_history_follows_the_rules_and_is_summarised(engine: Engine) -> None:
    library = load_library()
    sections = dict(
        demo.run_demo(
            engine,
            SETTINGS,
            library,
            demo.DemoOptions(teams=6, members=120, weeks=8),
            out_dir=None,
            progress=lambda _: None,
            now=NOW,
        )
    )
    summary = sections["Nudges"]
    assert summary.splitlines()[0].split() == [
        "team",
        "nudges",
        "sent",
        "tried",
        "tried",
        "rate",
        "first",
        "week",
        "last",
        "week",
    ]
    assert "All teams" in summary and "2 nudges a week on Tuesday, Thursday at 10:00" in summary
    with Session(engine) as session:
        rows = session.execute(
            select(
                NudgeDelivery.person_id,
                NudgeDelivery.nudge_id,
                NudgeDelivery.slot,
                NudgeDelivery.sent_at,
                NudgeDelivery.status,
                NudgeDelivery.team_id,
            )
        ).all()
        people = {p.id: p for p in session.scalars(select(Person))}
        clicks = session.scalars(select(Activity.kind)).all()
    assert len(rows) > 1000
    by_person: dict[int, list[str]] = defaultdict(list)
    tried: dict[int, list[bool]] = defaultdict(list)
    for person_id, nudge_id, slot, sent_at, status, team_id in rows:
        by_person[person_id].append(nudge_id)
        tried[team_id].append(status == "tried")
        person = people[person_id]
        assert person.started_on is not None and slot >= person.started_on.isoformat()
        zone = ZoneInfo(person.effective_timezone(SETTINGS.timezone))
        local = sent_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone)
        assert (local.weekday(), local.hour, local.date().isoformat()) in ((1, 10, slot), (3, 10, slot))
    for person_id, given in by_person.items():
        assert len(given) == len(set(given))  # never the same nudge twice
        allowed = {n.id for n in library.nudges_for(people[person_id].role or "")}
        assert set(given) <= allowed
    rates = sorted(sum(t) / len(t) for t in tried.values())
    assert rates[-1] - rates[0] > 0.1  # adoption differs between teams
    assert {"nudge_tried", "nudge_not_for_me"} <= set(clicks)
    assert any(p.nudge_level > 1 for p in people.values())


def test_a_tick_after_the_demo_continues_without_repeats(engine: Engine) -> None:
    library = load_library()
    demo.run_demo(
        engine,
        SETTINGS,
        library,
        demo.DemoOptions(teams=2, members=20, weeks=3),
        out_dir=None,
        progress=lambda _: None,
        now=NOW,
    )
    with Session(engine) as session:
        before = {(d.person_id, d.nudge_id) for d in session.scalars(select(NudgeDelivery))}
        for hour in range(24):  # every zone's Tuesday 10:00 falls in these ticks
            deliver_due(session, SETTINGS, library, datetime(2026, 11, 24, hour, 30))
            deliver_due(session, SETTINGS, library, datetime(2026, 11, 24, hour, 0))
        session.commit()
        after = session.execute(
            select(NudgeDelivery.person_id, NudgeDelivery.nudge_id, NudgeDelivery.slot)
        ).all()
    fresh = [(p, n) for p, n, slot in after if slot == "2026-11-24"]
    assert len(fresh) == 20
    assert not set(fresh) & before
