"""The nudges job on PostgreSQL serves the due people in two halves at once, each in a transaction of its
own: everyone gets exactly what one transaction would have given them, and a half that fails loses
nobody (its people are served at the next tick; the other half's stay sent once)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError

from bot.config import Settings
from bot.db import session_scope
from bot.models import NudgeDelivery
from bot.nudges.service import deliver_due, plan_nudges
from tests.support.factories import add_person, add_team
from tests.test_nudges_world import LONG_AGO, make_library, nudge_keys

NOW = datetime(2026, 11, 24, 9, 10)  # a Tuesday, 10:10 in Berlin: a nudge slot
LATER = datetime(2026, 11, 24, 9, 40)  # the same slot, half an hour on
LIBRARY = make_library(sales_nudges=6)
PEOPLE = 12


def _people(engine: Engine) -> list[int]:
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        ids = [
            add_person(session, f"UHALF{n:04d}", timezone="Europe/Berlin", team=team, created_at=LONG_AGO).id
            for n in range(PEOPLE)
        ]
        # some history, so that people are due different nudges
        for n, person_id in enumerate(ids[: PEOPLE // 2]):
            session.add(
                NudgeDelivery(
                    person_id=person_id,
                    nudge_id="all-1",
                    role="sales",
                    level=1,
                    slot=f"2026-11-{10 + n % 3:02d}",
                    outbox_key=f"nudge:{person_id}:2026-11-{10 + n % 3:02d}",
                    created_at=LONG_AGO,
                    sent_at=LONG_AGO,
                )
            )
    return ids


def _given(engine: Engine, slot: str) -> dict[int, str]:
    with session_scope(engine, readonly=True) as session:
        rows = session.execute(
            select(NudgeDelivery.person_id, NudgeDelivery.nudge_id).where(NudgeDelivery.slot == slot)
        )
        return {person_id: nudge_id for person_id, nudge_id in rows if person_id is not None}


def test_the_job_gives_everyone_what_one_transaction_would_and_one_message_each(engine: Engine) -> None:
    people = _people(engine)
    settings = Settings()
    with session_scope(engine, readonly=True) as session:
        planned = {p.person.id: p.nudge.id for p in plan_nudges(session, settings, LIBRARY, NOW).nudges}
    assert sorted(planned) == people and len(set(planned.values())) > 1

    with session_scope(engine) as session:
        assert deliver_due(session, settings, LIBRARY, NOW, use_ai=False, apart=True) == PEOPLE

    assert _given(engine, "2026-11-24") == planned
    assert sorted(nudge_keys(engine)) == sorted(f"nudge:{p}:2026-11-24" for p in people)
    with session_scope(engine) as session:  # a tick later in the hour: nothing more
        assert deliver_due(session, settings, LIBRARY, LATER, use_ai=False, apart=True) == 0
    assert len(nudge_keys(engine)) == PEOPLE


def test_a_half_that_fails_is_served_at_the_next_tick_and_the_other_half_stays_sent_once(
    engine: Engine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the halves run at once on PostgreSQL only (SQLite has one writer at a time)")
    people = _people(engine)
    broken = people[3]  # the database refuses this person's delivery: their half fails
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.person_id = {broken} THEN RAISE EXCEPTION 'refused for the test'; END IF; "
                "RETURN NEW; END $$"
            )
        )
        connection.execute(
            text(
                "CREATE TRIGGER refuse_one BEFORE INSERT ON nudge_deliveries "
                "FOR EACH ROW EXECUTE FUNCTION refuse_one()"
            )
        )
    try:
        with pytest.raises(DBAPIError, match="refused for the test"), session_scope(engine) as session:
            deliver_due(session, Settings(), LIBRARY, NOW, use_ai=False, apart=True)
        sent = sorted(nudge_keys(engine))
        other_half = [p for p in people if p % 2 != broken % 2]
        assert sent == sorted(f"nudge:{p}:2026-11-24" for p in other_half)
        assert sorted(_given(engine, "2026-11-24")) == other_half
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_one ON nudge_deliveries"))
            connection.execute(text("DROP FUNCTION refuse_one()"))

    with session_scope(engine) as session:  # the next tick in the hour serves the rest, once
        assert deliver_due(session, Settings(), LIBRARY, LATER, use_ai=False, apart=True) == PEOPLE // 2
    keys = nudge_keys(engine)
    assert sorted(keys) == sorted(f"nudge:{p}:2026-11-24" for p in people)
    assert sorted(_given(engine, "2026-11-24")) == people
