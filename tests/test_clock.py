"""The clock seam: what tests freeze is what the product stamps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import clock


def test_a_frozen_clock_is_what_utcnow_returns_until_released() -> None:
    clock.set_now(datetime(2031, 3, 30, 0, 30, tzinfo=UTC))
    assert clock.utcnow() == datetime(2031, 3, 30, 0, 30)
    assert clock.advance(timedelta(hours=1)) == datetime(2031, 3, 30, 1, 30)
    assert clock.local_today(ZoneInfo("Pacific/Kiritimati")) == datetime(2031, 3, 30).date()
    clock.set_now(None)
    assert not clock.is_frozen()
    assert abs(clock.utcnow() - datetime.now(UTC).replace(tzinfo=None)) < timedelta(seconds=5)


def test_frozen_at_puts_back_the_clock_it_found() -> None:
    clock.set_now(datetime(2030, 1, 1, 12))
    with clock.frozen_at(datetime(2030, 6, 1, 9, tzinfo=ZoneInfo("Europe/Berlin"))) as now:
        assert now == datetime(2030, 6, 1, 7) == clock.utcnow()
    assert clock.utcnow() == datetime(2030, 1, 1, 12)


def test_a_clock_started_at_a_moment_runs_on_from_it() -> None:
    clock.start_at(datetime(2031, 10, 26, 0, 59, 59, tzinfo=UTC))
    first = clock.utcnow()
    time.sleep(0.05)
    later = clock.utcnow()
    assert datetime(2031, 10, 26, 0, 59, 59) <= first < later < datetime(2031, 10, 26, 1, 0, 5)
    assert clock.advance(timedelta(hours=1)) >= datetime(2031, 10, 26, 1, 59, 59)
    assert not clock.is_frozen() and clock.is_set()
    with clock.frozen_at(datetime(2030, 1, 1)):
        assert clock.utcnow() == datetime(2030, 1, 1)
    assert clock.utcnow() > datetime(2031, 10, 26, 1, 59, 59)
    clock.set_now(None)
    assert not clock.is_set()
