"""Time, in one place. Every timestamp the product writes comes from `utcnow()`.

Timestamps in the database are naive UTC, the same on SQLite and PostgreSQL. Tests (and `adoptbot tick
--now`) set the clock: `set_now()`/`frozen_at()` make it stand still, `start_at()`/`running_from()` start
it at a moment and let it run on at the wall clock's pace (the outbox's pacing, one message a second per
channel, needs time to pass). Nothing else in the product reads the wall clock for what it records. The
one deliberate exception is the outbox's pacing (send slots, claim leases, back-off, see
`bot.outbox.send.real_now`): it counts real seconds against Slack's rate limits and other instances,
whatever moment this clock is set to (docs/time.md).
The clock is process-wide on purpose: a test's server threads see the same time as the test.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

_frozen: datetime | None = None
_offset: timedelta | None = None  # a running clock: the wall clock plus this


def _wall() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def utcnow() -> datetime:
    """Now, as naive UTC: the frozen moment when one is set, else the (possibly shifted) wall clock."""
    if _frozen is not None:
        return _frozen
    if _offset is not None:
        return _wall() + _offset
    return _wall()


def local_today(tz: tzinfo) -> date:
    """Today's date in `tz`, by this clock."""
    return utcnow().replace(tzinfo=UTC).astimezone(tz).date()


def set_now(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (aware, or naive UTC); None lets it follow the wall clock again."""
    global _frozen, _offset
    _frozen, _offset = (None if moment is None else to_naive_utc(moment)), None


def start_at(moment: datetime) -> None:
    """Set the clock to `moment` (aware, or naive UTC) and let it run on from there."""
    global _frozen, _offset
    _frozen, _offset = None, to_naive_utc(moment) - _wall()


def advance(delta: timedelta) -> datetime:
    """Move the clock forward by `delta`: a running clock keeps running, any other is frozen there;
    returns the new now."""
    global _offset
    if _offset is not None:
        _offset += delta
    else:
        set_now(utcnow() + delta)
    return utcnow()


def is_frozen() -> bool:
    return _frozen is not None


def is_set() -> bool:
    """Whether the clock was set (frozen or shifted) rather than following the wall clock."""
    return _frozen is not None or _offset is not None


@contextmanager
def _restoring() -> Iterator[None]:
    """Put back, after the block, whatever clock was there before it."""
    global _frozen, _offset
    before = _frozen, _offset
    try:
        yield
    finally:
        _frozen, _offset = before


@contextmanager
def frozen_at(moment: datetime) -> Iterator[datetime]:
    """Freeze the clock at `moment` for the `with` block, then put back what was there."""
    with _restoring():
        set_now(moment)
        yield utcnow()


@contextmanager
def running_from(moment: datetime) -> Iterator[datetime]:
    """`start_at(moment)` for the `with` block, then put back what was there."""
    with _restoring():
        start_at(moment)
        yield utcnow()


def to_naive_utc(moment: datetime) -> datetime:
    """Aware -> naive UTC; naive is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def iso_week(day: date) -> str:
    """`2026-W47` for the ISO week containing `day`."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_iso_week(value: str) -> date:
    """The Monday of an ISO week written `YYYY-Www`; ValueError if malformed."""
    try:
        year_part, week_part = value.upper().split("-W")
        monday = date.fromisocalendar(int(year_part), int(week_part), 1)
    except (ValueError, TypeError):
        raise ValueError(f"{value!r} is not an ISO week like 2026-W47") from None
    return monday


@lru_cache(maxsize=1024)
def zone(name: str | None) -> ZoneInfo | None:
    """The ZoneInfo for an IANA name; None for no name, or for one that is not a time zone (logged once)."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("ignoring unknown time zone %r", name)
        return None


def zone_or_utc(name: str | None) -> ZoneInfo:
    """`zone(name)`, or UTC where that is None."""
    return zone(name) or ZoneInfo("UTC")


def local_label(moment: datetime, tz_name: str | None, *, year: bool = True, with_zone: bool = True) -> str:
    """ "Tue 3 Mar 2026, 09:00 (Europe/Paris)" for a naive-UTC moment in `tz_name` (UTC if it is none);
    "Tue 3 Mar, 09:00" without the year and the zone; in the current language (`bot.i18n`)."""
    from bot.i18n import format_moment  # in the current language; imported here, not by every import of clock

    local = moment.replace(tzinfo=UTC).astimezone(zone_or_utc(tz_name))
    label = format_moment(local, year=year)
    return f"{label} ({tz_name or 'UTC'})" if with_zone else label
