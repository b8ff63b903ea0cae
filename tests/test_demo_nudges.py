"""`adoptbot demo`'s nudge history ends the way the nudges job ends a library: the one end-of-library
message at the next slot, then the refreshers of the nudges each person tried, then nothing; so the
product's own next tick takes over where the demo's year stops."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot import clock
from bot.cli import main
from bot.config import Settings
from bot.content import load_library
from bot.models import NudgeDelivery, NudgeStatus, OutboxMessage, OutboxState, Person
from bot.nudges.service import STARTER_LEVEL, plan_nudges

DEMO_DAY = datetime(2026, 11, 25, 14, 30)  # the demo's now: Monday 23 Nov 09:00; this week has no nudges yet
NEXT_SLOT_DAY = date(2026, 11, 26)  # a Thursday: a nudge day


def test_a_year_of_history_ends_the_library_as_the_nudges_job_does(
    db_url: str, engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with clock.frozen_at(DEMO_DAY):
        code = main(["demo", "--db", db_url, "--teams", "2", "--members", "24", "--weeks", "60"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    library = load_library()
    with Session(engine) as session:
        notes = {
            note.person_id: note
            for note in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "nudge_done"))
        }
        deliveries: dict[int, list[NudgeDelivery]] = defaultdict(list)
        for delivery in session.scalars(select(NudgeDelivery).order_by(NudgeDelivery.slot)):
            deliveries[delivery.person_id or 0].append(delivery)
        people = {p.id: p for p in session.scalars(select(Person).where(Person.role.is_not(None)))}
        assert f"{len(notes)} had them all" in printed.err  # the progress line
        assert len(notes) >= len(people) // 2  # 60 weeks at two a week: most have had every nudge

        for person_id, note in notes.items():
            person, history = people[person_id], deliveries[person_id]
            first = [d for d in history if d.cycle == 0]
            again = [d for d in history if d.cycle > 0]
            assert note.key == f"nudge-end:{person_id}" and note.state == OutboxState.SENT
            assert note.channel == person.slack_user_id and note.sent_at == note.created_at
            # every nudge of the role, once; then the note, alone in its slot; then the refreshers
            role_nudges = library.nudges_for(person.role or "")
            assert sorted(d.nudge_id for d in first) == sorted(n.id for n in role_nudges)
            tried = [d.nudge_id for d in first if d.status == NudgeStatus.TRIED]
            text = note.payload["text"]
            done = re.fullmatch(r"You've completed the library: (\d+) nudges, (\d+) tried\. .*", text)
            assert done is not None and (int(done[1]), int(done[2])) == (len(first), len(tried))
            assert max(d.created_at for d in first) < note.created_at
            assert all(d.created_at > note.created_at for d in again)
            # the refreshers: nudges they tried, each once, the advanced ones first, then the oldest first
            expected = sorted(tried, key=lambda n: library.nudge(n).level <= STARTER_LEVEL)  # type: ignore[union-attr]
            assert [d.nudge_id for d in again] == expected[: len(again)]
        for person_id in set(people) - set(notes):
            assert all(d.cycle == 0 for d in deliveries[person_id])

        # The product's next nudge slot: nobody gets a second end-of-library message; those who had it
        # get their next refresher (or nothing once they have had them all).
        settings = Settings()
        planned: dict[int, tuple[str, int]] = {}
        for hour in range(24):
            now = datetime.combine(NEXT_SLOT_DAY, datetime.min.time()) + timedelta(hours=hour)
            with clock.frozen_at(now):
                plan = plan_nudges(session, settings, library, now)
            assert not [p.id for p in plan.exhausted if p.id in notes]
            planned.update({item.person.id: (item.nudge.id, item.cycle) for item in plan.nudges})
        refreshed = [person_id for person_id in notes if person_id in planned]
        assert refreshed, "some people still have refreshers to come"
        for person_id in refreshed:
            nudge_id, cycle = planned[person_id]
            history = deliveries[person_id]
            given = {d.nudge_id for d in history if d.cycle > 0}
            tried_first = {d.nudge_id for d in history if d.cycle == 0 and d.status == NudgeStatus.TRIED}
            assert cycle == 1 and nudge_id in tried_first - given
