"""`adoptbot demo`: nudge history (who got which nudge, who tried it) and its summary.

Follows the real rules (bot.nudges.service): the configured weekdays and count per week, nudges for the
person's role and `*` in level order, never the same one twice, a level up after two tried at a level or
when a level runs out, nothing before a person's start week. Someone who has had every nudge gets the
end-of-library message at their next slot (a sent outbox message, as the nudges job leaves it), then the
refreshers of the nudges they tried, one a slot, the advanced ones first, then nothing. Adoption grows
unevenly: each team has its own starting rate and pace (a few stall), each person their own keenness.
Bulk inserts only, so 10,000 people × 26 weeks take seconds.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import String, case, func, insert, literal, select, type_coerce, update

from bot.clock import to_naive_utc
from bot.content import Nudge
from bot.demo.bulk import RowStream, bulk_insert
from bot.demo.context import DemoContext
from bot.i18n import use_language
from bot.models import Activity, NudgeDelivery, NudgeStatus, OutboxMessage, OutboxState, Person
from bot.nudges import blocks
from bot.nudges.schedule import exhausted_key
from bot.nudges.service import STARTER_LEVEL, TRIED_TO_LEVEL_UP
from bot.people.directory import text_table

DELIVERY_COLUMNS = (
    "person_id",
    "team_id",
    "nudge_id",
    "role",
    "level",
    "stage",
    "slot",
    "outbox_key",
    "created_at",
    "sent_at",
    "status",
    "rating",
    "clicked_at",
    "tried_at",
    "cycle",
)
NOTE_COLUMNS = (
    "key",
    "kind",
    "method",
    "channel",
    "person_id",
    "payload",
    "state",
    "attempts",
    "not_before",
    "sent_at",
    "created_at",
)
ACTIVITY_COLUMNS = ("person_id", "team_id", "kind", "occurred_at")


@dataclass
class _Ladder:
    """One role's nudges by level, in the order the bot gives them."""

    by_level: dict[int, list[Nudge]]
    orders: dict[int, tuple[int, ...]] = field(default_factory=dict)  # from a level: the levels to look at

    @classmethod
    def of(cls, nudges: list[Nudge]) -> _Ladder:
        levels: dict[int, list[Nudge]] = defaultdict(list)
        for nudge in nudges:
            levels[nudge.level].append(nudge)
        return cls(dict(sorted(levels.items())))

    def order(self, level: int) -> tuple[int, ...]:
        """The levels from `level` up, then those below it, the nearest first (`choose_nudge`'s order)."""
        found = self.orders.get(level)
        if found is None:
            levels = list(self.by_level)
            found = self.orders[level] = (
                *(lv for lv in levels if lv >= level),
                *(lv for lv in reversed(levels) if lv < level),
            )
        return found


@dataclass
class _Learner:
    level: int = 1
    taken: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # level -> how many given
    tried_at_level: int = 0
    given: int = 0  # nudges given the first time
    tried_first: list[Nudge] = field(default_factory=list)  # of those, tried, in the order given
    noted: bool = False  # the end-of-library message went out
    refreshers: list[Nudge] = field(default_factory=list)  # still to come, in order, once noted

    def next(self, ladder: _Ladder) -> Nudge | None:
        """The same choice as `nudges.choose_nudge` (without team targeting), in O(levels)."""
        for level in ladder.order(self.level):
            given = self.taken[level]
            if given < len(ladder.by_level[level]):
                self.taken[level] += 1
                if level > self.level:
                    self.level, self.tried_at_level = level, 0
                self.given += 1
                return ladder.by_level[level][given]
        return None

    def note(self) -> blocks.Completion:
        """The end of the library: what the message says, and the refreshers to come (`refreshers_left`'s
        order: levels above the starter level first, then the oldest first)."""
        self.noted = True
        self.refreshers = sorted(self.tried_first, key=lambda nudge: nudge.level <= STARTER_LEVEL)
        return blocks.Completion(self.given, len(self.tried_first), 0, len(self.refreshers))

    def refresher(self) -> Nudge | None:
        return self.refreshers.pop(0) if self.refreshers else None

    def tried(self, nudge: Nudge, top: int) -> None:
        self.tried_first.append(nudge)
        if nudge.level == self.level:
            self.tried_at_level += 1
            if self.tried_at_level >= TRIED_TO_LEVEL_UP and self.level < top:
                self.level, self.tried_at_level = self.level + 1, 0


_CLOCK = tuple(f"{hour:02}:{minute:02}:00" for hour in range(24) for minute in range(60))


@dataclass(frozen=True)
class _Slot:
    """A slot's moment (naive UTC) for one time zone, and its cells as the deliveries' stream writes them."""

    at: datetime
    cell: object  # `at` as the stream takes it
    cells: bool  # the stream takes COPY's text
    day: str  # "YYYY-MM-DD " of `at`
    minute: int  # of `at`'s day

    def after(self, minutes: int) -> object:
        """The moment `minutes` later, as the stream takes it (text made without a datetime, same day)."""
        minute = self.minute + minutes
        if self.cells and minute < len(_CLOCK):
            return self.day + _CLOCK[minute]
        moment = self.at + timedelta(minutes=minutes)
        return str(moment) if self.cells else moment


def _slot(
    day: date, hour: int, tz_name: str, stream: RowStream, cache: dict[tuple[str, date], _Slot]
) -> _Slot:
    key = (tz_name, day)
    found = cache.get(key)
    if found is None:
        at = to_naive_utc(datetime.combine(day, time(hour), tzinfo=ZoneInfo(tz_name)))
        found = cache[key] = _Slot(
            at,
            stream.moment(at),
            stream.cells and at.second == 0,
            f"{at:%Y-%m-%d} ",
            at.hour * 60 + at.minute,
        )
    return found


def nudge_history(ctx: DemoContext) -> None:
    """Nudge history: who got which nudge, who tried it."""
    rng: random.Random = ctx.rng
    settings = ctx.settings
    days = sorted(settings.nudge_days)[: max(settings.nudges_per_week, 0)]
    ladders = {role: _Ladder.of(ctx.library.nudges_for(role)) for role in ctx.library.roles}
    tops = {role: max(ladder.by_level, default=1) for role, ladder in ladders.items()}
    # Uneven adoption: a starting tried-rate and a weekly gain per team; a few teams stall.
    team_curve = {
        team.id: (rng.uniform(0.12, 0.4), 0.0 if rng.random() < 0.2 else rng.uniform(0.01, 0.05))
        for team in ctx.teams
    }
    learners = {person_id: _Learner() for person_id in ctx.persons}
    keenness = {person_id: rng.uniform(0.5, 1.5) for person_id in ctx.persons}
    slots: dict[tuple[str, date], _Slot] = {}
    tried = 0
    learning = [p for p in ctx.persons.values() if p.role in ladders]
    notes: list[tuple[object, ...]] = []
    json_cells = ctx.session.get_bind().dialect.name == "postgresql"  # COPY takes JSON as text
    deliveries = RowStream(ctx.session, NudgeDelivery, DELIVERY_COLUMNS, cells=True)
    null = deliveries.null
    tried_status, not_for_me, sent_status = (NudgeStatus.TRIED, NudgeStatus.NOT_FOR_ME, NudgeStatus.SENT)
    with deliveries:  # stored while the rest is made
        for week_index, monday in enumerate(ctx.week_starts):
            for day in (monday + timedelta(days=d) for d in days):
                slot = day.isoformat()
                done: set[int] = set()
                for person in learning:
                    if person.started_on > day:
                        continue
                    learner = learners[person.id]
                    at = _slot(day, settings.nudge_hour, person.timezone, deliveries, slots)
                    cycle = 0
                    nudge = learner.next(ladders[person.role])
                    if nudge is None and not learner.noted:  # the end-of-library message takes this slot
                        with use_language(settings.locale):
                            payload = {"text": blocks.exhausted_text(learner.note())}
                        notes.append(
                            (
                                exhausted_key(person.id),
                                "nudge_done",
                                "chat.postMessage",
                                person.slack_user_id,
                                person.id,
                                json.dumps(payload) if json_cells else payload,
                                OutboxState.SENT.value,
                                1,
                                at.at,
                                at.at,
                                at.at,
                            )
                        )
                        continue
                    if nudge is None:
                        nudge, cycle = learner.refresher(), 1
                    if nudge is None:
                        done.add(person.id)  # every nudge and every refresher given: quiet from now on
                        continue
                    base, gain = team_curve[person.team_id]
                    chance = min(0.92, (base + gain * week_index) * keenness[person.id])
                    roll = rng.random()
                    status = (
                        tried_status if roll < chance else not_for_me if roll < chance + 0.06 else sent_status
                    )
                    clicked_at = at.after(rng.randrange(3, 360)) if status is not sent_status else null
                    rating = null
                    if status is tried_status:
                        tried += 1
                        if cycle == 0:
                            learner.tried(nudge, tops[person.role])
                        if rng.random() < 0.55:
                            rating = "helpful" if rng.random() < 0.85 else "not_helpful"
                    deliveries.add(
                        (
                            person.id,
                            person.team_id,
                            nudge.id,
                            person.role,
                            nudge.level,
                            nudge.stage,
                            slot,
                            f"nudge:{person.id}:{slot}",
                            at.cell,
                            at.cell,
                            status.value,
                            rating,
                            clicked_at,
                            clicked_at if status is tried_status else null,
                            cycle,
                        )
                    )
                if done:
                    learning = [p for p in learning if p.id not in done]
    # Each click's activity, as the product records it, made by the database from the stored deliveries
    # (millions of rows that need not pass through Python again).
    kind = literal("nudge_", String) + type_coerce(NudgeDelivery.status, String)
    clicks = select(NudgeDelivery.person_id, NudgeDelivery.team_id, kind, NudgeDelivery.clicked_at)
    ctx.session.execute(
        insert(Activity).from_select(
            list(ACTIVITY_COLUMNS), clicks.where(NudgeDelivery.clicked_at.is_not(None))
        )
    )
    bulk_insert(ctx.session, OutboxMessage, NOTE_COLUMNS, notes)
    by_level: dict[int, list[int]] = defaultdict(list)
    for person_id, learner in learners.items():
        if learner.level > 1:
            by_level[learner.level].append(person_id)
    for level, person_ids in by_level.items():
        for start in range(0, len(person_ids), 900):
            ctx.session.execute(
                update(Person).where(Person.id.in_(person_ids[start : start + 900])).values(nudge_level=level)
            )
    refreshed = f", {len(notes):,} had them all" if notes else ""
    ctx.progress(f"{deliveries.count:,} nudges delivered, {tried:,} tried{refreshed}")


def _rate(tried: int, sent: int) -> str:
    return f"{tried / sent:.0%}" if sent else "-"


def nudge_summary(ctx: DemoContext) -> str:
    """Per team: nudges sent and tried over the whole history, and the tried rate first week vs last."""
    first, last = ctx.week_starts[0].isoformat(), ctx.week_starts[-1].isoformat()
    first_end = (ctx.week_starts[0] + timedelta(days=7)).isoformat()
    tried = case((NudgeDelivery.status == NudgeStatus.TRIED, 1), else_=0)
    in_first = NudgeDelivery.slot < first_end
    in_last = NudgeDelivery.slot >= last
    rows = ctx.session.execute(
        select(
            NudgeDelivery.team_id,
            func.count(),
            func.sum(tried),
            func.sum(case((in_first, 1), else_=0)),
            func.sum(case((in_first, tried), else_=0)),
            func.sum(case((in_last, 1), else_=0)),
            func.sum(case((in_last, tried), else_=0)),
        )
        .where(NudgeDelivery.slot >= first)
        .group_by(NudgeDelivery.team_id)
    ).all()
    by_team = {row[0]: [int(v or 0) for v in row[1:]] for row in rows}
    table = []
    totals = [0] * 6
    for team in sorted(ctx.teams, key=lambda t: t.name):
        sent, tried_n, f_sent, f_tried, l_sent, l_tried = by_team.get(team.id, [0] * 6)
        totals = [
            a + b for a, b in zip(totals, (sent, tried_n, f_sent, f_tried, l_sent, l_tried), strict=True)
        ]
        table.append(
            [
                team.name,
                f"{sent:,}",
                f"{tried_n:,}",
                _rate(tried_n, sent),
                _rate(f_tried, f_sent),
                _rate(l_tried, l_sent),
            ]
        )
    sent, tried_n, f_sent, f_tried, l_sent, l_tried = totals
    table.append(
        [
            "All teams",
            f"{sent:,}",
            f"{tried_n:,}",
            _rate(tried_n, sent),
            _rate(f_tried, f_sent),
            _rate(l_tried, l_sent),
        ]
    )
    return (
        text_table(["team", "nudges sent", "tried", "tried rate", "first week", "last week"], table)
        + f"\n\n{ctx.settings.nudges_per_week} nudges a week on "
        + ", ".join(f"{date(2026, 1, 5 + d):%A}" for d in sorted(ctx.settings.nudge_days))
        + f" at {ctx.settings.nudge_hour}:00 local time, over {ctx.weeks} weeks."
    )
