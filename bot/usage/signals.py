"""What the imported usage facts say about one person, for choosing their own nudges (and nothing else).

The window is the last `WINDOW_WEEKS` ISO weeks: the week of a given day and the three before it. A
person's tools are the tools with a licence fact in the window; a tool is *idle* when none of its facts
in the window shows activity (weeks no report covers have no fact, so they count neither way), and the
person is *active* when any of their tools shows activity there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from bot.models import UsageFact

WINDOW_WEEKS = 4
_CHUNK = 900  # ids per IN (...) list on SQLite
_PG_SIGNALS = text(  # per person: the tools licensed, and of those the ones active, each a sorted list
    "SELECT person_id, string_agg(DISTINCT tool, ','), string_agg(DISTINCT tool, ',') FILTER (WHERE active) "
    "FROM usage_facts "
    "WHERE licensed AND week >= :first AND week <= :last AND person_id = ANY(CAST(:ids AS integer[])) "
    "GROUP BY person_id"
)


@dataclass(frozen=True)
class UsageSignal:
    """One person's tools in the window: licensed, and of those, the ones with measured activity.

    `measured` is False for tools that come from elsewhere (the roster's `tools` column): they choose
    which tool nudges someone may get, but say nothing about use, so no tool of theirs is idle."""

    licensed: frozenset[str] = frozenset()
    active: frozenset[str] = frozenset()
    measured: bool = True

    @property
    def idle(self) -> frozenset[str]:
        """Tools they hold a licence for with no measured activity in the window (none when unmeasured)."""
        return self.licensed - self.active if self.measured else frozenset()

    @property
    def is_active(self) -> bool:
        return bool(self.active)


NO_SIGNAL = UsageSignal()


def window(day: date) -> tuple[date, date]:
    """The Mondays of the first and last week of the window that ends with `day`'s week."""
    last = day - timedelta(days=day.weekday())
    return last - timedelta(weeks=WINDOW_WEEKS - 1), last


def signals(session: Session, days: Mapping[int, date]) -> dict[int, UsageSignal]:
    """Person id -> their signal in the window ending with their day (`days`: person id -> local date).

    People with no licence fact in their window are left out (`NO_SIGNAL`). One aggregate per window (the
    due people of one tick have one or two local dates) and chunk of ids, answered from the
    (person, tool, week) index. People with the same tools share one signal: a tick reads thousands."""
    by_window: dict[tuple[date, date], list[int]] = defaultdict(list)
    for person_id, day in days.items():
        by_window[window(day)].append(person_id)
    found: dict[int, UsageSignal] = {}
    shared: dict[tuple[str, str], UsageSignal] = {}
    for (first, last), ids in by_window.items():
        ids.sort()
        for person_id, licensed, active in _tools(session, first, last, ids):
            signal = shared.get((licensed, active))
            if signal is None:
                signal = shared[licensed, active] = UsageSignal(
                    frozenset(licensed.split(",")), frozenset(active.split(",")) if active else frozenset()
                )
            found[person_id] = signal
    return found


def _tools(session: Session, first: date, last: date, ids: list[int]) -> Iterator[tuple[int, str, str]]:
    """(person id, tools licensed, tools of those active) in the weeks from `first` to `last`, each list
    sorted and `,`-separated (no tool id holds a comma), for those of `ids` with a licence then."""
    if session.get_bind().dialect.name == "postgresql":  # the ids as one array literal: no placeholder each
        literal = "{" + ",".join(map(str, ids)) + "}"
        rows = session.execute(_PG_SIGNALS, {"first": first, "last": last, "ids": literal})
        yield from ((person_id, licensed, active or "") for person_id, licensed, active in rows)
        return
    used = func.max(case((UsageFact.active.is_(True), 1), else_=0))
    query = (
        select(UsageFact.person_id, UsageFact.tool, used)
        .where(UsageFact.licensed.is_(True), UsageFact.week >= first, UsageFact.week <= last)
        .group_by(UsageFact.person_id, UsageFact.tool)
    )
    licensed: dict[int, list[str]] = defaultdict(list)
    active: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(ids), _CHUNK):
        for person_id, tool, was_active in session.execute(
            query.where(UsageFact.person_id.in_(ids[start : start + _CHUNK]))
        ):
            licensed[person_id].append(tool)
            if was_active:
                active[person_id].append(tool)
    for person_id, tools in licensed.items():
        yield person_id, ",".join(sorted(tools)), ",".join(sorted(active.get(person_id, ())))


def signal_of(session: Session, person_id: int, day: date) -> UsageSignal:
    """One person's signal in the window ending with `day`'s week."""
    return signals(session, {person_id: day}).get(person_id, NO_SIGNAL)


__all__ = ["NO_SIGNAL", "WINDOW_WEEKS", "UsageSignal", "signal_of", "signals", "window"]
