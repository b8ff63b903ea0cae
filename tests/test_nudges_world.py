"""Shared building blocks for the nudge tests (a small library, people, ticks), and checks of them."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from bot.config import Settings
from bot.content import Holiday, Library, Nudge, Role
from bot.db import session_scope
from bot.models import NudgeDelivery, OutboxMessage

LONG_AGO = datetime(2026, 1, 5, 12, 0)


def nudge(
    nudge_id: str,
    level: int,
    *,
    roles: tuple[str, ...] = ("sales",),
    stage: str = "knowledge",
    try_it: str | None = "Ask the assistant to draft it.",
) -> Nudge:
    return Nudge(
        id=nudge_id,
        roles=roles,
        level=level,
        stage=stage,
        title=f"Nudge {nudge_id}",
        body=f"Body of {nudge_id}.",
        try_it=try_it,
        minutes=5,
        link=None,
        source="nudges/test.toml",
    )


def make_library(*, holidays: tuple[Holiday, ...] = (), sales_nudges: int = 4) -> Library:
    """Sales: one everyone-nudge plus `sales_nudges` of its own over levels 1-3; engineering: three."""
    sales = [
        nudge(f"sales-{i}", 1 + i * 3 // max(sales_nudges, 1), stage="ability" if i % 2 else "knowledge")
        for i in range(sales_nudges)
    ]
    engineering = [nudge(f"eng-{i}", 1 + i, roles=("engineering",)) for i in range(3)]
    everyone = [nudge("all-1", 1, roles=("*",), stage="awareness")]
    return Library(
        path=Path("."),
        roles={"sales": Role("sales", "Sales"), "engineering": Role("engineering", "Engineering")},
        nudges=tuple(everyone + sales + engineering),
        surveys={},
        holidays=holidays,
        actions={},
    )


def deliver(engine: Engine, settings: Settings, library: Library, now: datetime) -> int:
    """One tick's nudge work, in a transaction of its own (what the job does)."""
    from bot.nudges.service import deliver_due

    with session_scope(engine) as session:
        return deliver_due(session, settings, library, now)


def nudge_keys(engine: Engine) -> list[str]:
    with session_scope(engine, readonly=True) as session:
        return list(
            session.scalars(
                select(OutboxMessage.key).where(OutboxMessage.kind == "nudge").order_by(OutboxMessage.id)
            )
        )


def deliveries(engine: Engine, person_id: int) -> list[NudgeDelivery]:
    with session_scope(engine, readonly=True) as session:
        return list(
            session.scalars(
                select(NudgeDelivery).where(NudgeDelivery.person_id == person_id).order_by(NudgeDelivery.slot)
            )
        )


def quarter_hours(start: datetime, end: datetime) -> list[datetime]:
    """Every 15 minutes from `start` up to (not including) `end`."""
    steps = int((end - start) / timedelta(minutes=15))
    return [start + timedelta(minutes=15 * i) for i in range(steps)]


def test_library_has_every_level_for_sales() -> None:
    library = make_library()
    assert [n.level for n in library.nudges_for("sales")] == [1, 1, 1, 2, 3]
    assert {n.id for n in library.nudges_for("engineering")} == {"all-1", "eng-0", "eng-1", "eng-2"}


def test_quarter_hours_cover_a_day() -> None:
    ticks = quarter_hours(datetime(2026, 11, 24), datetime(2026, 11, 25))
    assert len(ticks) == 96 and ticks[-1] == datetime(2026, 11, 24, 23, 45)
