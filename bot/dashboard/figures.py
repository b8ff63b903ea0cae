"""The week's figures the dashboard's pages share, computed once for all viewers and kept a few minutes.

`compute_metrics` for one week over all teams is the costly part of every overview, team page and digest
shown (the trend needs eight weeks of it), with the comment themes of a pulse run, and both are the same
for everyone: suppression is decided over all
teams before a viewer's teams are picked out. So each process keeps the rows of a week, and the tools'
measured figures, for `FRESH_SECONDS`; after that the next request still gets them at once while one
thread computes them again (so a page never waits on a recomputation, only the very first one after
start does), and nothing is kept longer than `KEEP_SECONDS`. A change made through the dashboard marks
them stale (`stale()`), and every page says when its figures were computed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Generic, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot import clock
from bot.config import Settings
from bot.content import Library
from bot.db import session_scope
from bot.digest.delivery import without_ai
from bot.digest.source import DigestSource
from bot.metrics.measured import MeasuredWeek, measured_week
from bot.metrics.service import MetricsRow, compute_metrics
from bot.pulses.comments import CommentSummary, audience_parts, comment_parts, summaries
from bot.slack.runtime import Runtime

log = logging.getLogger(__name__)

FRESH_SECONDS = 120.0
KEEP_SECONDS = 900.0
KEY = "dashboard.figures"
Parts = Mapping[int | None, list[str]]
Memo = dict[tuple[int, int | None, bool], CommentSummary]
T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    value: T
    computed_at: float  # time.monotonic()
    computed_on: datetime  # the product's clock: shown on the page
    refreshing: bool = False


class Figures:
    """The shared, briefly kept figures of one installation (one per dashboard application)."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, object], _Entry[object]] = {}
        self._computing: dict[tuple[str, object], threading.Event] = {}

    def rows(self, monday: date) -> dict[str, MetricsRow]:
        """`compute_metrics` of the week for all teams, by team name (`*`: the whole organisation)."""

        def compute() -> dict[str, MetricsRow]:
            with session_scope(self.engine, readonly=True) as db:
                found = compute_metrics(db, week_monday=monday, settings=self.settings, now=clock.utcnow())
            return {row.team: row for row in found}

        return self._get(("rows", monday), compute)

    def measured(self, monday: date, end: datetime, teams: dict[int, str]) -> MeasuredWeek:
        def compute() -> MeasuredWeek:
            with session_scope(self.engine, readonly=True) as db:
                return measured_week(db, monday, end, teams, self.settings.min_group_size)

        return self._get(("measured", monday), compute)

    def computed_on(self, monday: date) -> datetime | None:
        """When the week's rows shown now were computed (product clock), if they were."""
        entry = self._entries.get(("rows", monday))
        return entry.computed_on if entry is not None else None

    def stale(self) -> None:
        """Something changed: recompute on the next request (which still gets these at once)."""
        with self._lock:
            for entry in self._entries.values():
                entry.computed_at = -KEEP_SECONDS

    def comments(self, run_id: int) -> tuple[Parts, Memo]:
        """The run's comment partition and every part's summary (themes, without AI), made once for all
        viewers: a leader's view then picks their parts, as the digest does."""

        def compute() -> tuple[Parts, Memo]:
            plain = without_ai(self.settings)
            memo: Memo = {}
            with session_scope(self.engine, readonly=True) as db:
                parts = comment_parts(db, run_id, plain.min_group_size)
                summaries(db, run_id, plain, parts=parts, memo=memo)
            return parts, memo

        return self._get(("comments", run_id), compute)

    def _get(self, key: tuple[str, object], compute: Callable[[], T]) -> T:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry.computed_at < KEEP_SECONDS:
                if now - entry.computed_at >= FRESH_SECONDS and not entry.refreshing:
                    entry.refreshing = True
                    threading.Thread(target=self._refresh, args=(key, compute), daemon=True).start()
                return entry.value  # type: ignore[return-value]
            waiting = self._computing.get(key)
            if waiting is None:
                waiting = self._computing[key] = threading.Event()
                mine = True
            else:
                mine = False
        if not mine:  # another request is computing it: wait for that instead of doing it twice
            waiting.wait(60)
            with self._lock:
                found = self._entries.get(key)
            if found is not None:
                return found.value  # type: ignore[return-value]
            return compute()
        try:
            value = compute()
            with self._lock:
                self._entries[key] = _Entry(value, time.monotonic(), clock.utcnow())
            return value
        finally:
            with self._lock:
                self._computing.pop(key, None)
            waiting.set()

    def _refresh(self, key: tuple[str, object], compute: Callable[[], object]) -> None:
        try:
            value = compute()
        except Exception as error:  # keep serving what we have; the next request tries again
            log.warning("dashboard: recomputing %s failed (%s)", key[0], type(error).__name__)
            with self._lock:
                if (entry := self._entries.get(key)) is not None:
                    entry.refreshing = False
            return
        with self._lock:
            self._entries[key] = _Entry(value, time.monotonic(), clock.utcnow())


class SharedSource(DigestSource):
    """A digest source whose weekly figures come from the installation's `Figures`."""

    def __init__(self, figures: Figures, session: Session, library: Library, *, week_monday: date) -> None:
        super().__init__(
            session, without_ai(figures.settings), library, week_monday=week_monday, now=clock.utcnow()
        )
        self.figures = figures

    def rows(self, monday: date) -> dict[str, MetricsRow]:
        found = self._rows.get(monday)
        if found is None:
            found = self._rows[monday] = self.figures.rows(monday)
        return found

    def comment_summaries(self, run_id: int, team_ids: list[int] | None) -> tuple[CommentSummary, ...]:
        parts, memo = self.figures.comments(run_id)
        return summaries(
            self.session,
            run_id,
            self.settings,
            only=audience_parts(team_ids),
            team_names=self.teams,
            names=frozenset(),  # every part is summarised already (memo): no name is needed again
            parts=parts,
            memo=memo,
        )

    def measured(self, monday: date) -> MeasuredWeek:
        return self.figures.measured(monday, self.end_of(monday), self.teams)  # kept there, for all viewers


def figures_of(runtime: Runtime) -> Figures:
    """The installation's shared figures (one per app, made on first use)."""
    return runtime.shared(KEY, lambda: Figures(runtime.engine, runtime.settings))


def warm(runtime: Runtime) -> None:
    """Fill the figures of the last complete week's digest (its trend's weeks, the tools, the comment
    themes), as the first overview would."""
    from bot.digest.service import compose
    from bot.digest.types import ORGANISATION
    from bot.metrics.service import last_complete_week

    monday = last_complete_week(runtime.settings, clock.utcnow())
    with session_scope(runtime.engine, readonly=True) as db:
        compose(SharedSource(figures_of(runtime), db, runtime.library, week_monday=monday), ORGANISATION)
