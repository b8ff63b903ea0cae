"""When a person gets a nudge: the configured weekdays at the configured hour, in their own time zone.

A *slot* is (local date D, hour H). A tick at `now` serves every time zone whose local time is inside
[H:00, H+1:00) on a nudge weekday, so a scheduler that runs every minute, a cron every 15 minutes, or a
tick that comes 50 minutes late all deliver the same slot once (the outbox key is per person and local
slot date). A slot that passes without a tick, or is skipped (holiday, away, paused), is not made up
later: the person simply gets the next one.

Who is due is worked out with set-based SQL: the distinct time zones in the roster (a few hundred at most)
are checked in Python, then one statement per local date that is currently at the slot hour (one, or two
around the date line) returns the eligible people with their count of nudges this week.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, Table, and_, bindparam, case, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bot.clock import to_naive_utc, zone, zone_or_utc
from bot.config import DEFAULT_LOCALE, Settings
from bot.db import alongside
from bot.models import NudgeDelivery, NudgeStatus, OutboxMessage, Person
from bot.people.locale import locale_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DuePerson:
    """Someone due a nudge now, with what the choice of nudge needs to know."""

    id: int
    slack_user_id: str
    role: str
    team_id: int | None
    level: int
    timezone: str
    slot: date  # local date of the slot
    exhausted_notice_sent: bool  # the end-of-library message already went out
    delivered: frozenset[str]  # every nudge they were ever given, whatever their role was then
    later: str | None  # a nudge they asked to see again ("Remind me later"), if any
    roster_tools: str | None = None  # the roster's `tools` cell (`;`-separated tool ids)
    notice_on_slot: bool = False  # the end-of-library message took this very slot: nothing else in it
    locale: str = DEFAULT_LOCALE  # the language their nudge is written in (`bot.people.locale`)
    # What the end of the library and its refreshers need (read with the rest, in the same statement):
    first_given: int = 0  # deliveries of the first cycle (one per nudge)
    tried_first: tuple[str, ...] = ()  # the nudges tried the first time, oldest slot first
    refreshed: tuple[str, ...] = ()  # the refreshers given (nudges given again, cycle > 0)


def local_now(now: datetime, tz: ZoneInfo) -> datetime:
    """Naive-UTC `now` as a local wall-clock time in `tz` (DST-correct: zoneinfo knows the rules)."""
    return now.replace(tzinfo=ZoneInfo("UTC")).astimezone(tz)


def slot_date(now: datetime, timezone: str, settings: Settings) -> date | None:
    """The local date of the slot `now` falls in for `timezone`, or None when it is not slot time there."""
    tz = zone(timezone)
    if tz is None:
        return None
    local = local_now(now, tz)
    if local.hour != settings.nudge_hour or local.weekday() not in settings.nudge_days:
        return None
    return local.date()


def zones_at_slot(now: datetime, timezones: Iterable[str], settings: Settings) -> dict[date, list[str]]:
    """The given zones that are at a nudge slot at `now`, grouped by their local slot date."""
    by_date: dict[date, list[str]] = defaultdict(list)
    for name in timezones:
        day = slot_date(now, name, settings)
        if day is not None:
            by_date[day].append(name)
    return dict(by_date)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the ISO week containing `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def start_monday(created_at: datetime, timezone: str) -> date:
    """The Monday after the local day someone joined: new people start the week after they join."""
    tz = zone_or_utc(timezone)
    joined = local_now(created_at, tz).date()
    return joined + timedelta(days=7 - joined.weekday())


def next_slot(
    after: datetime, timezone: str, settings: Settings, *, not_before: date | None = None
) -> datetime:
    """The next slot start (aware, local) strictly after naive-UTC `after`, on or after `not_before`."""
    tz = zone_or_utc(timezone)
    local = local_now(after, tz)
    day = local.date()
    if not_before is not None and not_before > day:
        day = not_before
    for _ in range(15):
        if day.weekday() in settings.nudge_days:
            start = datetime.combine(day, time(settings.nudge_hour), tzinfo=tz)
            if start > local:
                return start
        day += timedelta(days=1)
    raise ValueError("settings.nudge_days is empty")


def outbox_key(person_id: int, slot: date) -> str:
    """One nudge message per person and local slot date: the outbox refuses a second."""
    return f"nudge:{person_id}:{slot.isoformat()}"


END_KEY = "nudge-end:"


def exhausted_key(person_id: int) -> str:
    """The one end-of-library message per person. (Versions without refreshers keyed their "you've done
    them all" note `nudge-exhausted:<id>`; its promise to stay quiet no longer holds, so people who had it
    get this message, which announces the refreshers, once too.)"""
    return f"{END_KEY}{person_id}"


def roster_timezones(session: Session, settings: Settings) -> list[str]:
    """The distinct effective time zones of active people (a few hundred at most)."""
    tz = Person.effective_timezone(settings.timezone)
    stmt = select(tz).where(Person.is_active.is_(True)).distinct()
    return [name for name in session.scalars(stmt) if name]


def due_people(
    session: Session,
    settings: Settings,
    now: datetime,
    *,
    roles: Sequence[str],
    is_holiday: Callable[[date, str], bool] | None = None,
    groups: dict[date, list[str]] | None = None,
    apart: bool = False,
    part: tuple[int, int] | None = None,
    nudge_ids: Sequence[str] = (),
) -> list[DuePerson]:
    """Everyone due a nudge at `now` (naive UTC), in one statement per local slot date.

    Eligible: active, not erased, reachable in Slack, a role that has nudges, in a zone at slot time that is
    not an org holiday there, not paused on that date, not away now, started (the Monday after joining),
    no nudge yet for this slot and fewer than `nudges_per_week` this (local ISO) week.
    `is_holiday(day, timezone) -> bool` comes from the content library; `groups`: `slot_groups(...)`
    when the caller has it already. `apart`: on PostgreSQL, half of the people are read on a connection of
    their own meanwhile (`bot.db.alongside`; each statement reads a hundred deliveries a due person, and
    the database works on both halves at once). It reads what is committed: only for a transaction that
    has written nothing the choice depends on (the nudges job's own, not a dry run's). `part` (n, i): only
    those whose id is i modulo n (one of the halves `bot.nudges.service.deliver_due` serves at once; `apart`
    is then ignored). `nudge_ids`: the library's nudges, which the statement sends back as short numbers
    (see `_history`).
    """
    if settings.nudges_per_week <= 0 or not roles:
        return []
    due: list[DuePerson] = []
    if groups is None:
        groups = slot_groups(session, settings, now, is_holiday=is_holiday)
    halves = 2 if apart and part is None and session.get_bind().dialect.name == "postgresql" else 1
    for day, zones in sorted(groups.items()):
        read = partial(
            _due_on, settings=settings, now=now, day=day, zones=zones, roles=roles, nudge_ids=nudge_ids
        )
        other = alongside(session, partial(read, part=(2, 1))) if halves == 2 else None
        due.extend(read(session, part=part or (halves, 0)))
        if other is not None:
            due.extend(other())
    return due


def slot_groups(
    session: Session, settings: Settings, now: datetime, *, is_holiday: Callable[[date, str], bool] | None
) -> dict[date, list[str]]:
    """The roster's time zones at a nudge slot at `now` and not on a holiday, by local slot date (cheap:
    one DISTINCT over people; empty in most minutes)."""
    groups: dict[date, list[str]] = {}
    for day, zones in zones_at_slot(now, roster_timezones(session, settings), settings).items():
        working = [z for z in zones if is_holiday is None or not is_holiday(day, z)]
        if working:
            groups[day] = working
    return groups


def _due_on(
    session: Session,
    *,
    settings: Settings,
    now: datetime,
    day: date,
    zones: list[str],
    roles: Sequence[str],
    nudge_ids: Sequence[str] = (),
    part: tuple[int, int] = (1, 0),
) -> list[DuePerson]:
    """The due people of one local slot date (`due_people`); `part` (n, i): those whose id is i modulo n."""
    monday, sunday = week_of(day)
    slot = day.isoformat()
    week = (
        select(
            NudgeDelivery.person_id.label("person_id"),
            func.count().label("n"),
            func.max(case((NudgeDelivery.slot == slot, 1), else_=0)).label("today"),
        )
        .where(NudgeDelivery.slot >= monday.isoformat(), NudgeDelivery.slot <= sunday.isoformat())
        .group_by(NudgeDelivery.person_id)
        .subquery()
    )
    notice_key = literal(END_KEY) + cast(Person.id, String)
    notice = select(OutboxMessage.created_at).where(OutboxMessage.key == notice_key).scalar_subquery()
    history_of = _history(session, nudge_ids)
    names = _Names(nudge_ids)
    tz = Person.effective_timezone(settings.timezone)
    # A person joins "the week after": started_on when set, else derived from created_at below. Anyone
    # created after the slot day's end cannot have started, so the SQL bound only needs to be loose.
    latest_join = to_naive_utc(datetime.combine(day, time(0), tzinfo=ZoneInfo("UTC")))
    stmt = (
        select(
            Person.id,
            Person.slack_user_id,
            Person.role,
            Person.team_id,
            Person.nudge_level,
            tz,
            Person.started_on,
            Person.created_at,
            notice,
            history_of,
            Person.tools,
            Person.locale,
            Person.slack_locale,
        )
        .outerjoin(week, week.c.person_id == Person.id)
        .where(
            Person.is_active.is_(True),
            Person.erased_at.is_(None),
            Person.unreachable_reason.is_(None),
            Person.slack_user_id.is_not(None),
            Person.role.in_(list(roles)),
            tz.in_(zones),
            or_(Person.paused_until.is_(None), Person.paused_until < day),  # the last paused day
            or_(Person.away_until.is_(None), Person.away_until <= now),
            or_(
                Person.started_on <= day,
                and_(Person.started_on.is_(None), Person.created_at < latest_join),
            ),
            func.coalesce(week.c.n, 0) < settings.nudges_per_week,
            func.coalesce(week.c.today, 0) == 0,
        )
    )
    if part[0] > 1:
        stmt = stmt.where(Person.id % part[0] == part[1])
    result: list[DuePerson] = []
    # streamed: the database works out the next people while these are read
    streamed = {"stream_results": True, "yield_per": 1000}
    rows = session.connection().execute(stmt, execution_options=streamed)
    locales: dict[tuple[str | None, str | None], str] = {}
    for (
        pid,
        user,
        role,
        team,
        level,
        timezone,
        started_on,
        created_at,
        notice_sent,
        history,
        tools,
        roster_locale,
        slack_locale,
    ) in rows:
        tags = (roster_locale, slack_locale)
        if tags not in locales:
            locales[tags] = locale_of(*tags, settings)
        first = started_on or start_monday(created_at, timezone)
        if first > day or user is None or role is None:
            continue
        tz_of = zone_or_utc(timezone)
        past = _parse_history(history, names)
        result.append(
            DuePerson(
                id=pid,
                slack_user_id=user,
                role=role,
                team_id=team,
                level=max(1, level or 1),
                timezone=timezone,
                slot=day,
                exhausted_notice_sent=notice_sent is not None,
                notice_on_slot=notice_sent is not None and local_now(notice_sent, tz_of).date() == day,
                delivered=past.delivered,
                later=past.later,
                roster_tools=tools,
                locale=locales[tags],
                first_given=past.first_given,
                tried_first=past.tried_first,
                refreshed=past.refreshed,
            )
        )
    return result


WAITING = "*"  # after a nudge id in a due person's history: waiting after "Remind me later"
_SEP = "|"  # between the lists of a due person's history (content ids are [a-z0-9_-]: never in one)


def _history(session: Session, nudge_ids: Sequence[str]) -> Any:
    """Each due person's history in the due people's statement, one string of three lists: every nudge
    given (`*`: waiting after "Remind me later"), the slots and nudges tried the first time, the nudges
    given again as refreshers: `1,2,3*|2026-03-05 1|1`. One range of the unique (person_id, nudge_id,
    cycle) key per due person. No ORDER BY in the aggregates (it would sort each person's rows on their
    own: twice the statement's time); no aggregate a planner could turn into a walk along the primary key
    (min(id)).

    A nudge of `nudge_ids` is written as its position there (from 1), any other one (removed from the
    library since) as `~` and its id: a hundred nudges a person, so the strings a tick reads are a fifth
    as long as with the ids, and take that much less time to send, fetch and split."""
    cycle = func.coalesce(NudgeDelivery.cycle, 0)
    status = NudgeDelivery.status
    deliveries: Table = NudgeDelivery.__table__  # type: ignore[assignment]
    if session.get_bind().dialect.name == "postgresql":
        concat: Any = func.string_agg
        ids = bindparam("nudge_ids", list(nudge_ids), type_=ARRAY(String))
        codes: Any = func.unnest(ids).table_valued("nudge_id", with_ordinality="code").render_derived("codes")
    else:
        concat = func.group_concat
        each = func.json_each(json.dumps(list(nudge_ids))).table_valued("key", "value")
        codes = select(each.c.value.label("nudge_id"), (each.c.key + 1).label("code")).subquery("codes")
    name = func.coalesce(cast(codes.c.code, String), literal(UNKNOWN) + NudgeDelivery.nudge_id)
    sep = literal(",")
    given = concat(name + case((status == NudgeStatus.LATER, WAITING), else_=""), sep)
    slots = concat(NudgeDelivery.slot + " " + name, sep).filter(and_(cycle == 0, status == NudgeStatus.TRIED))
    again = concat(name, sep).filter(cycle > 0)
    joined = func.coalesce(given, "") + _SEP + func.coalesce(slots, "") + _SEP + func.coalesce(again, "")
    found = deliveries.outerjoin(codes, codes.c.nudge_id == NudgeDelivery.nudge_id)
    return select(joined).select_from(found).where(NudgeDelivery.person_id == Person.id).scalar_subquery()


UNKNOWN = "~"  # before a nudge id in a due person's history: a nudge the library no longer has


class _Names(dict[str, str]):
    """A history's numbers (`_history`) to nudge ids; `~<id>` to the id itself."""

    def __init__(self, nudge_ids: Sequence[str]) -> None:
        super().__init__((str(n), nudge_id) for n, nudge_id in enumerate(nudge_ids, start=1))

    def __missing__(self, key: str) -> str:
        if not key.startswith(UNKNOWN):
            raise KeyError(key)
        return key[len(UNKNOWN) :]


@dataclass(frozen=True)
class _Parsed:
    delivered: frozenset[str]
    later: str | None
    first_given: int
    tried_first: tuple[str, ...]
    refreshed: tuple[str, ...]


_NOTHING = _Parsed(frozenset(), None, 0, (), ())


def _parse_history(history: str | None, names: _Names) -> _Parsed:
    """`_history`'s string, read with string methods (a tick reads thousands of a hundred nudges each).
    Someone has one delivery a slot, so sorting `slot nudge` puts what they tried in the order given."""
    given, _, rest = (history or "").partition(_SEP)
    if not given:
        return _NOTHING
    slots, _, again = rest.partition(_SEP)
    later = None
    if WAITING in given:
        later = names[next(entry[:-1] for entry in given.split(",") if entry.endswith(WAITING))]
        given = given.replace(WAITING, "")
    entries = given.split(",")
    tried: tuple[str, ...] = ()
    if slots:  # slot, nudge, slot, nudge, ...
        tried = tuple(map(names.__getitem__, " ".join(sorted(slots.split(","))).split(" ")[1::2]))
    refreshed = tuple(map(names.__getitem__, again.split(","))) if again else ()
    delivered = frozenset(map(names.__getitem__, entries))
    return _Parsed(delivered, later, len(entries) - len(refreshed), tried, refreshed)
