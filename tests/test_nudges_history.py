"""The history the nudges job reads with each due person (one statement for thousands of them) says
exactly what the person's own history says: what they were given, tried and had again, and so which
refresher comes next, even where "Remind me later" moved a nudge to a later slot than a newer one's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from bot import clock
from bot.config import Settings
from bot.db import session_scope
from bot.models import NudgeDelivery, NudgeStatus, OutboxMessage, OutboxState
from bot.nudges import schedule
from bot.nudges.service import (
    _histories,
    _History,
    completion,
    next_refresher,
    plan_nudges,
    refreshers_left,
)
from tests.support.factories import add_person
from tests.test_nudges_world import LONG_AGO, make_library

NOW = datetime(2026, 11, 24, 9, 5)  # a Tuesday, 10:05 in Berlin: a nudge slot
LIBRARY = make_library(sales_nudges=6)  # all-1 and sales-0, sales-1 at level 1; sales-2..3: 2; sales-4..5: 3
# (id, nudge, cycle, slot, status): ids and slots disagree on the order where "Remind me later" moved one
HISTORY = (
    (11, "all-1", 0, "2026-03-12", NudgeStatus.TRIED),  # put off, tried at a later slot than sales-0
    (12, "sales-0", 0, "2026-03-05", NudgeStatus.TRIED),
    (13, "sales-1", 0, "2026-03-17", NudgeStatus.NOT_FOR_ME),
    (14, "sales-2", 0, "2026-03-19", NudgeStatus.TRIED),
    (15, "sales-3", 0, "2026-04-02", NudgeStatus.TRIED),  # put off too: after sales-5
    (16, "sales-5", 0, "2026-03-24", NudgeStatus.TRIED),
    (17, "sales-4", 0, "2026-03-26", NudgeStatus.SENT),
    (18, "sales-2", 1, "2026-04-07", NudgeStatus.TRIED),  # refreshed already
)


def _deliveries(
    person_id: int, history: tuple[tuple[int, str, int, str, NudgeStatus], ...], *, keep_ids: bool = False
) -> list[NudgeDelivery]:
    """`history` given to the person, sent long ago (with HISTORY's ids, or new ones)."""
    return [
        NudgeDelivery(
            id=id_ if keep_ids else None,
            person_id=person_id,
            nudge_id=nudge_id,
            cycle=cycle,
            role="sales",
            slot=slot,
            outbox_key=f"nudge:{person_id}:{slot}",
            created_at=LONG_AGO,
            sent_at=LONG_AGO,
            status=status,
        )
        for id_, nudge_id, cycle, slot, status in history
    ]


def test_the_due_people_statement_reads_the_history_the_person_has(engine: Engine) -> None:
    settings = Settings(timezone="Europe/Berlin")
    with session_scope(engine) as session:
        person = add_person(session, "UHISTORY1", timezone="Europe/Berlin", created_at=LONG_AGO)
        session.add_all(_deliveries(person.id, HISTORY, keep_ids=True))
        session.add(  # the end of the library was said before the refresher
            OutboxMessage(
                key=schedule.exhausted_key(person.id),
                kind="nudge_done",
                channel="UHISTORY1",
                person_id=person.id,
                payload={"text": "You've completed the library"},
                state=OutboxState.SENT,
                created_at=datetime(2026, 4, 2, 8, 0),
                sent_at=datetime(2026, 4, 2, 8, 0),
            )
        )
        person_id = person.id

    with session_scope(engine, readonly=True) as session, clock.frozen_at(NOW):
        [due] = schedule.due_people(session, settings, NOW, roles=["sales"])
        own = _History.of(_histories(session, [person_id])[person_id])
        read = _History.of_due(due)
        assert read == own
        assert (read.nudges, read.tried, read.refreshed) == (7, 5, 1)
        assert read.tried_first == ("sales-0", "all-1", "sales-2", "sales-5", "sales-3")
        assert due.delivered == {"all-1", "sales-0", "sales-1", "sales-2", "sales-3", "sales-4", "sales-5"}
        assert due.later is None and due.exhausted_notice_sent
        # The same history read with the library's nudges sent back as numbers, one of them (sales-3)
        # since removed from the library, so sent back by its id
        coded = [n.id for n in LIBRARY.nudges if n.id != "sales-3"]
        assert schedule.due_people(session, settings, NOW, roles=["sales"], nudge_ids=coded) == [due]

        # levels 2-3 first, then the oldest first; sales-2 was refreshed already
        left = refreshers_left(read, LIBRARY, None)
        assert [n.id for n in left] == ["sales-5", "sales-3", "sales-0", "all-1"]
        assert next_refresher(read, LIBRARY, None) == left[0]
        assert completion(read, LIBRARY, None).refreshers_left == 4
        plan = plan_nudges(session, settings, LIBRARY, NOW)
        assert [(p.person.id, p.nudge.id, p.cycle) for p in plan.nudges] == [(person_id, "sales-5", 1)]
        assert plan.exhausted == []


def test_the_nudges_job_reads_half_the_due_people_on_a_second_connection_and_misses_nobody(
    engine: Engine,
) -> None:
    settings = Settings(timezone="Europe/Berlin")
    with session_scope(engine) as session:
        people = [
            add_person(session, f"UHALVES{n:02d}", timezone="Europe/Berlin", created_at=LONG_AGO).id
            for n in range(9)
        ]
        for n, person_id in enumerate(people):  # each a history of their own: n of the first nudges
            session.add_all(_deliveries(person_id, HISTORY[:n]))
    with session_scope(engine) as session, clock.frozen_at(NOW):
        together = schedule.due_people(session, settings, NOW, roles=["sales"])
        apart = schedule.due_people(session, settings, NOW, roles=["sales"], apart=True)
    assert sorted(p.id for p in together) == sorted(people)
    assert sorted(apart, key=lambda p: p.id) == sorted(together, key=lambda p: p.id)
    assert {p.id % 2 for p in apart} == {0, 1}


def test_a_nudge_put_off_is_read_back_by_id_whether_or_not_the_library_still_has_it(engine: Engine) -> None:
    settings = Settings(timezone="Europe/Berlin")
    put_off = (
        (0, "sales-0", 0, "2026-03-05", NudgeStatus.TRIED),
        (0, "sales-1", 0, "2026-03-10", NudgeStatus.LATER),
    )
    with session_scope(engine) as session:
        person_id = add_person(session, "UPUTOFF1", timezone="Europe/Berlin", created_at=LONG_AGO).id
        session.add_all(_deliveries(person_id, put_off))
    everything = [n.id for n in LIBRARY.nudges]
    with session_scope(engine, readonly=True) as session, clock.frozen_at(NOW):
        for library_ids in (everything, [i for i in everything if i != "sales-1"], []):
            [due] = schedule.due_people(session, settings, NOW, roles=["sales"], nudge_ids=library_ids)
            assert due.later == "sales-1"
            assert due.delivered == {"sales-0", "sales-1"}
            assert due.tried_first == ("sales-0",) and due.first_given == 2
