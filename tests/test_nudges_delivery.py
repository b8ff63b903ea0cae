"""Who gets a nudge when, and which one: local hours and DST, holidays, away, pause, new people, roles."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.content import Holiday
from bot.db import session_scope
from bot.models import NudgeDelivery, OutboxMessage, Person, PulseAnswer, PulseResponse
from tests.support.factories import add_person, add_team, pulse_run
from tests.test_nudges_world import LONG_AGO, deliver, deliveries, make_library, nudge_keys, quarter_hours

SETTINGS = Settings()  # Tuesday and Thursday, 10:00 local, two a week
HOURLY = timedelta(hours=1)  # for loops over weeks where only whole-hour zones matter
CITIES = ("America/New_York", "Europe/Berlin", "Asia/Tokyo", "Asia/Kolkata")


def _people(engine: Engine, zones: tuple[str, ...] = CITIES, **fields: object) -> dict[str, int]:
    with session_scope(engine) as session:
        return {
            z: add_person(session, f"U{i:08d}", timezone=z, team=None, created_at=LONG_AGO, **fields).id
            for i, z in enumerate(zones)
        }


def _tick_loop(
    engine: Engine,
    settings: Settings,
    start: datetime,
    end: datetime,
    library: object = None,
    *,
    every: timedelta = timedelta(minutes=15),
) -> dict[str, datetime]:
    """Tick every 15 minutes (or `every`); return each nudge message's key and the tick that queued it."""
    library = library or make_library()
    queued_at: dict[str, datetime] = {}
    for now in quarter_hours(start, end)[:: every // timedelta(minutes=15)]:
        deliver(engine, settings, library, now)  # type: ignore[arg-type]
        for key in nudge_keys(engine):
            queued_at.setdefault(key, now)
    return queued_at


def _local(moment: datetime, zone: str) -> datetime:
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(zone))


def test_four_cities_each_get_one_nudge_at_ten_local(engine: Engine) -> None:
    people = _people(engine)
    # Tuesday 24 November 2026, UTC midnight to midnight, plus the hours either side.
    queued = _tick_loop(engine, SETTINGS, datetime(2026, 11, 23, 12), datetime(2026, 11, 25, 12))
    assert len(queued) == 4
    for zone, person_id in people.items():
        key = f"nudge:{person_id}:2026-11-24"
        local = _local(queued[key], zone)
        assert (local.date(), local.hour, local.minute) == (date(2026, 11, 24), 10, 0), zone


@pytest.mark.parametrize(
    "tuesday",
    [date(2026, 3, 10), date(2026, 3, 31), date(2026, 10, 27), date(2026, 11, 3)],
    ids=["US-spring", "EU-spring", "EU-autumn", "US-autumn"],
)
def test_the_tuesday_after_a_dst_change_is_still_ten_local(engine: Engine, tuesday: date) -> None:
    people = _people(engine, ("America/New_York", "Europe/Berlin", "Europe/London"))
    start = datetime.combine(tuesday, datetime.min.time())
    queued = _tick_loop(engine, SETTINGS, start, start + timedelta(days=1))
    assert len(queued) == 3
    for zone, person_id in people.items():
        local = _local(queued[f"nudge:{person_id}:{tuesday}"], zone)
        assert (local.hour, local.minute) == (10, 0), zone


def test_a_holiday_skips_to_the_next_slot(engine: Engine) -> None:
    people = _people(engine, ("America/New_York", "Europe/Berlin"))
    thanksgiving = Holiday(date(2026, 11, 26), "Thanksgiving", ("America/New_York",))
    library = make_library(holidays=(thanksgiving,))
    queued = _tick_loop(
        engine, SETTINGS, datetime(2026, 11, 26), datetime(2026, 12, 2), library, every=HOURLY
    )
    ny, berlin = people["America/New_York"], people["Europe/Berlin"]
    assert sorted(queued) == sorted(
        [f"nudge:{berlin}:2026-11-26", f"nudge:{berlin}:2026-12-01", f"nudge:{ny}:2026-12-01"]
    )


def test_away_and_paused_people_wait_for_the_next_slot(engine: Engine) -> None:
    with session_scope(engine) as session:
        away = add_person(
            session,
            "UAWAY0001",
            timezone="Europe/Berlin",
            team=None,
            away_until=datetime(2026, 11, 25, 18, 0),
            created_at=LONG_AGO,
        ).id
        # `paused_until` is the last paused day.
        monday = add_person(
            session,
            "UPAUSE001",
            timezone="Europe/Berlin",
            team=None,
            paused_until=date(2026, 11, 30),
            created_at=LONG_AGO,
        ).id
        tuesday = add_person(
            session,
            "UPAUSE002",
            timezone="Europe/Berlin",
            team=None,
            paused_until=date(2026, 12, 1),
            created_at=LONG_AGO,
        ).id
        present = add_person(
            session, "UHERE0001", timezone="Europe/Berlin", team=None, created_at=LONG_AGO
        ).id
    queued = _tick_loop(engine, SETTINGS, datetime(2026, 11, 24), datetime(2026, 12, 4), every=HOURLY)

    def slots(person_id: int) -> list[str]:
        return sorted(k.rsplit(":", 1)[1] for k in queued if k.startswith(f"nudge:{person_id}:"))

    assert slots(away) == ["2026-11-26", "2026-12-01", "2026-12-03"]
    assert slots(monday) == ["2026-12-01", "2026-12-03"]
    assert slots(tuesday) == ["2026-12-03"]
    assert slots(present) == ["2026-11-24", "2026-11-26", "2026-12-01", "2026-12-03"]


def test_unreachable_inactive_and_role_less_people_get_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_person(
            session, "UGONE0001", timezone="Europe/Berlin", team=None, active=False, created_at=LONG_AGO
        )
        add_person(
            session,
            "UBLOCK001",
            timezone="Europe/Berlin",
            team=None,
            unreachable_reason="cannot_dm_bot",
            created_at=LONG_AGO,
        )
        add_person(session, "UNOROLE01", timezone="Europe/Berlin", team=None, role=None, created_at=LONG_AGO)
        add_person(
            session, "UODDROLE1", timezone="Europe/Berlin", team=None, role="astronaut", created_at=LONG_AGO
        )
        session.add(
            Person(
                name="No Slack yet",
                email="x@example.com",
                timezone="Europe/Berlin",
                role="sales",
                created_at=datetime(2026, 1, 5),
            )
        )
    assert _tick_loop(engine, SETTINGS, datetime(2026, 11, 24, 8), datetime(2026, 11, 24, 11)) == {}


def test_people_who_join_mid_week_start_the_week_after(engine: Engine) -> None:
    with session_scope(engine) as session:
        joined = add_person(
            session, "UNEW00001", timezone="Europe/Berlin", team=None, created_at=datetime(2026, 11, 18, 12)
        ).id
        told = add_person(
            session,
            "UNEW00002",
            timezone="Europe/Berlin",
            team=None,
            created_at=datetime(2026, 11, 18, 12),
            started_on=date(2026, 12, 7),
        ).id
    queued = _tick_loop(engine, SETTINGS, datetime(2026, 11, 19), datetime(2026, 12, 9), every=HOURLY)
    assert min(k for k in queued if f":{joined}:" in k) == f"nudge:{joined}:2026-11-24"
    assert min(k for k in queued if f":{told}:" in k) == f"nudge:{told}:2026-12-08"


def test_at_most_the_weekly_number(engine: Engine) -> None:
    person = _people(engine, ("Europe/Berlin",))["Europe/Berlin"]
    settings = dataclasses.replace(SETTINGS, nudge_days=(0, 1, 3), nudges_per_week=2)
    queued = _tick_loop(engine, settings, datetime(2026, 11, 23), datetime(2026, 11, 28))
    assert sorted(queued) == [f"nudge:{person}:2026-11-23", f"nudge:{person}:2026-11-24"]


def test_ticking_again_or_late_in_the_hour_sends_nothing_twice(engine: Engine) -> None:
    person = _people(engine, ("Europe/Berlin",))["Europe/Berlin"]
    library = make_library()
    late = datetime(2026, 11, 24, 9, 50)  # 10:50 in Berlin: still the slot hour
    assert deliver(engine, SETTINGS, library, late) == 1
    assert deliver(engine, SETTINGS, library, late) == 0
    assert deliver(engine, SETTINGS, library, late + timedelta(minutes=9)) == 0
    assert deliver(engine, SETTINGS, library, late + timedelta(minutes=10)) == 0  # 11:00: the slot is over
    assert nudge_keys(engine) == [f"nudge:{person}:2026-11-24"]
    assert len(deliveries(engine, person)) == 1


def test_never_the_same_nudge_and_level_order(engine: Engine) -> None:
    person = _people(engine, ("Europe/Berlin",))["Europe/Berlin"]
    _tick_loop(engine, SETTINGS, datetime(2026, 11, 24), datetime(2026, 12, 18), every=HOURLY)
    given = [(d.nudge_id, d.level) for d in deliveries(engine, person)]
    # Sales: all-1, sales-0, sales-1 (level 1), sales-2 (2), sales-3 (3); then nothing new.
    assert given == [("all-1", 1), ("sales-0", 1), ("sales-1", 1), ("sales-2", 2), ("sales-3", 3)]
    with session_scope(engine, readonly=True) as session:
        assert session.get(Person, person).nudge_level == 3  # type: ignore[union-attr]


def test_exhausted_library_says_so_once_and_never_repeats(engine: Engine) -> None:
    person = _people(engine, ("Europe/Berlin",))["Europe/Berlin"]
    library = make_library(sales_nudges=1)  # all-1 and sales-0
    _tick_loop(engine, SETTINGS, datetime(2026, 11, 24), datetime(2026, 12, 11), library, every=HOURLY)
    assert [d.nudge_id for d in deliveries(engine, person)] == ["all-1", "sales-0"]
    with session_scope(engine, readonly=True) as session:
        done = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "nudge_done")).all()
    assert [m.key for m in done] == [f"nudge-end:{person}"]
    assert done[0].payload["text"] == "You've completed the library: 2 nudges, 0 tried. Here is how to go on."
    assert done[0].created_at >= datetime(2026, 1, 1)


def test_a_role_change_brings_the_new_roles_nudges_without_repeats(engine: Engine) -> None:
    person = _people(engine, ("Europe/Berlin",))["Europe/Berlin"]
    library = make_library()
    _tick_loop(engine, SETTINGS, datetime(2026, 11, 24), datetime(2026, 11, 27), library)
    with session_scope(engine) as session:
        session.execute(update(Person).where(Person.id == person).values(role="engineering"))
    _tick_loop(engine, SETTINGS, datetime(2026, 11, 27), datetime(2026, 12, 11), library, every=HOURLY)
    given = [d.nudge_id for d in deliveries(engine, person)]
    assert given[:2] == ["all-1", "sales-0"]
    assert given[2:] == ["eng-0", "eng-1", "eng-2"]  # engineering's own; `all-1` is not repeated
    assert {d.role for d in deliveries(engine, person)[2:]} == {"engineering"}


def _pulse(session: Session, team_id: int, respondents: int, *, ability: int, others: int = 4) -> None:
    run = pulse_run(session, datetime(2026, 11, 2))
    for i in range(respondents):
        response = PulseResponse(
            run_id=run.id, respondent=f"{team_id}-{i}", team_id=team_id, submitted_at=datetime(2026, 11, 3)
        )
        response.answers = [
            PulseAnswer(question_id=stage, stage=stage, value=ability if stage == "ability" else others)
            for stage in ("awareness", "desire", "knowledge", "ability", "reinforcement")
        ]
        session.add(response)
    session.flush()


@pytest.mark.parametrize(("respondents", "expected"), [(5, "sales-1"), (4, "sales-0")])
def test_targets_the_team_barrier_only_when_the_group_is_big_enough(
    engine: Engine, respondents: int, expected: str
) -> None:
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        person = add_person(session, "UTEAM0001", timezone="Europe/Berlin", team=team, created_at=LONG_AGO).id
        # Already had the everyone-nudge; left at level 1: sales-0 (knowledge), sales-1 (ability).
        session.add(
            NudgeDelivery(
                person_id=person,
                team_id=team.id,
                nudge_id="all-1",
                slot="2026-11-19",
                outbox_key="nudge:old",
                level=1,
                status="sent",
            )
        )
        _pulse(session, team.id, respondents, ability=2)
    deliver(engine, SETTINGS, make_library(), datetime(2026, 11, 24, 9, 0))
    assert deliveries(engine, person)[-1].nudge_id == expected
