"""The monthly recognition: on the first working day of a month, the teams with the most approved wins
of the month before are congratulated in the wins channel.

It names teams, never people. It is posted once per month whoever ticks (the outbox key names the month),
from the digest hour of that day, and still by a tick that comes days late, up to RECOGNITION_DAYS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.clock import to_naive_utc
from bot.config import Settings
from bot.content import Library
from bot.i18n import format_month, locale_of, use_language
from bot.models import OutboxMessage, Team, Win, WinStatus
from bot.wins import blocks
from bot.wins.blocks import TeamWins
from bot.wins.messages import recognition_key

RECOGNITION_TEAMS: Final = 3
RECOGNITION_DAYS: Final = 7  # posted from the first working day of the month, at most this many days late


def first_working_day(year: int, month: int, timezone: str, is_holiday: Callable[[date, str], bool]) -> date:
    day = date(year, month, 1)
    while day.weekday() >= 5 or is_holiday(day, timezone):
        day += timedelta(days=1)
    return day


def team_wins(
    session: Session, start: datetime, end: datetime, *, top: int = RECOGNITION_TEAMS
) -> list[TeamWins]:
    """Teams with at least one approved win submitted in [start, end): most wins first (then hours, name)."""
    rows = session.execute(
        select(Team.name, func.count(Win.id), func.sum(Win.hours_per_week))
        .join(Team, Team.id == Win.team_id)
        .where(Win.status == WinStatus.APPROVED, Win.submitted_at >= start, Win.submitted_at < end)
        .group_by(Team.name)
    ).all()
    found = [TeamWins(str(name), int(n), round(float(h or 0.0), 1)) for name, n, h in rows if n]
    found.sort(key=lambda t: (-t.wins, -t.hours, t.team.casefold()))
    return found[:top]


def post_monthly_recognition(session: Session, settings: Settings, library: Library, now: datetime) -> int:
    """On the first working day of a month (org time zone, from the digest hour), congratulate in the wins
    channel the teams with the most approved wins of the month before. Once per month (outbox key)."""
    from bot import outbox

    if not settings.wins_channel:
        return 0
    tz = settings.tz
    local = now.replace(tzinfo=UTC).astimezone(tz)
    first = first_working_day(local.year, local.month, settings.timezone, library.is_holiday)
    due = datetime.combine(first, time(settings.digest_hour), tzinfo=tz)
    if local < due or local.date() >= first + timedelta(days=RECOGNITION_DAYS):
        return 0
    this_month = date(local.year, local.month, 1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    key = recognition_key(last_month)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return 0
    start = to_naive_utc(datetime.combine(last_month, time(0), tzinfo=tz))
    end = to_naive_utc(datetime.combine(this_month, time(0), tzinfo=tz))
    teams = team_wins(session, start, end)
    if not teams:
        return 0
    with use_language(locale_of(None, None, settings)):  # the wins channel: the organisation's language
        text, message = blocks.recognition_message(format_month(last_month), teams, command=settings.command)
    queued = outbox.enqueue(
        session, key=key, kind="win_recognition", channel=settings.wins_channel, text=text, blocks=message
    )
    return int(queued)
