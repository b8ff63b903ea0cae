"""Time helpers. Every timestamp in the database is naive UTC, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


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


def week_bounds(monday: date) -> tuple[date, date]:
    """[monday, next monday)."""
    return monday, monday + timedelta(days=7)
