"""Nudges: which one each due person gets, the message, what they did with it, pause and progress.

*When* lives in `bot.nudges.schedule`. *Which*, for each person due now:

1. A nudge they asked to see again ("Remind me later") comes back first, as this slot's nudge.
2. Otherwise the nudges for their role and for everyone (`*`) that they have never been given: at their
   level if any are left there, else the nearest higher level (and their level moves up to it), else the
   nearest lower one (a role change can leave starter nudges of the new role). Never the same nudge twice,
   whatever the role (a unique key on person × nudge).
3. Within that level, the ADKAR stage that is their team's barrier in the latest pulse run, when that
   team's figures may be shown (at least `min_group_size` respondents: see `metrics.team_barriers`).
4. Nothing new left (the person has had every nudge they may get): once, the end of the library, a DM
   saying what they completed (nudges, tried, wins shared) and how to go on; it takes that slot. From the
   next slot, a refresher cycle at the usual pace: the nudges they pressed *Tried it* on, each once more
   (a delivery of cycle 1), levels 2-3 first, then oldest first, headed "Refresher: ...". Someone who tried
   none gets no refreshers. New nudges added to the library later come before any refresher; after the
   cycle, nothing until the library grows (never a third time).

A person's tools: with usage targeting (`ADOPTBOT_USAGE_TARGETING`, on by default), the tools their
imported usage facts show a licence for in the last 4 ISO weeks (`bot.usage.signals`) when there are such
facts; otherwise (no facts, or targeting off) the roster's `tools` column. A nudge that names tools goes
only to people holding one of them. Only measured facts say more: before rule 2, a level 1 nudge about a
tool they hold with no measured activity ("first steps"; only the library's opening nudge, its ground
rules for everyone, comes before them); in rule 2, someone with measured activity in any
tool gets a nudge above the starter level while one is left. The roster's tools are not measured use, so
they choose the tool tracks but never bring first steps nor a level up. A "Remind me later" nudge comes
back only while it still fits them.

Levels: everyone starts at 1 and moves up when they have marked `TRIED_TO_LEVEL_UP` nudges of their
current level as tried, or when their current level has nothing left for them (rule 2).

Exactly once: the NudgeDelivery row is the claim. It is unique per person and slot date and per person
and nudge, inserted with ON CONFLICT DO NOTHING ... RETURNING, and only the tick that inserted it queues the
message, itself keyed per person and slot date (`nudge:<person>:<date>`) in the outbox. Two processes
ticking at once therefore queue one message, whichever commits first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import (
    Integer,
    String,
    Table,
    any_,
    bindparam,
    func,
    select,
    text,
    type_coerce,
    update,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from bot import ai
from bot.clock import iso_week, parse_iso_week, to_naive_utc, utcnow, zone
from bot.config import DEFAULT_LOCALE, Settings
from bot.content import Library, Nudge
from bot.db import alongside, in_own_transaction, writes_overlap
from bot.heap import bulk_work
from bot.i18n import use_language
from bot.jobs import JobContext
from bot.models import Activity, NudgeDelivery, NudgeStatus, OutboxMessage, Person, Team, Win, WinStatus
from bot.nudges import blocks, schedule
from bot.people.locale import person_locale
from bot.slack.text import escape
from bot.usage.signals import UsageSignal, signals

log = logging.getLogger(__name__)

TRIED_TO_LEVEL_UP = 2
STARTER_LEVEL = 1
STATUS_ACTIONS = (NudgeStatus.TRIED, NudgeStatus.NOT_FOR_ME, NudgeStatus.LATER)
RATING_ACTIONS = ("helpful", "not_helpful")
PAUSE_WEEKS_DEFAULT = 2
PAUSE_WEEKS_MAX = 12
AI_PURPOSE = "nudge_try_it"
AI_MAX_WORDS = 60
AI_BUDGET_SECONDS = 20.0  # AI polish per tick; after that the templates go out
AI_FAILURES_TO_STOP = 2  # consecutive failed AI calls after which a tick stops asking
_CHUNK = 900  # ids per IN (...) list


# --- which nudge ---------------------------------------------------------------------------------------


def allowed(nudge: Nudge, usage: UsageSignal | None) -> bool:
    """Whether a person may get `nudge`: tool-neutral, or about one of their tools (`usage`: see
    `person_signal`; None: no tools, so no tool-specific nudge at all)."""
    return nudge.fits(usage.licensed if usage is not None else frozenset())


def roster_signal(tools: str | None) -> UsageSignal:
    """The roster's `tools` cell as a signal: tools held, nothing measured."""
    return UsageSignal(frozenset(t for t in (tools or "").split(";") if t), measured=False)


def person_signal(session: Session, person: Person, settings: Settings, day: date) -> UsageSignal:
    """The person's tools on local `day`: their usage facts when targeting is on and facts exist, else the
    roster's `tools`."""
    if settings.usage_targeting:
        measured = signals(session, {person.id: day}).get(person.id)
        if measured is not None:
            return measured
    return roster_signal(person.tools)


def choose_nudge(
    candidates: Sequence[Nudge],
    delivered: AbstractSet[str],
    level: int,
    barrier: str | None,
    usage: UsageSignal | None = None,
) -> tuple[Nudge, int] | None:
    """The next nudge (from `candidates`, sorted by level then id) and the person's level after it.

    With `usage` (see `person_signal`): a starter nudge about a tool they hold but have not used comes
    first; someone measured active gets a nudge above the starter level when one is left. None when every
    candidate they may get has been delivered: the library is exhausted for this person.
    """
    fresh = [n for n in candidates if n.id not in delivered and allowed(n, usage)]
    if not fresh:
        return None
    if usage is not None and usage.idle:
        # The ground rules (the library's very first nudge, for everyone and any tool) still come first.
        opening = candidates[0]
        if opening in fresh and opening.level == STARTER_LEVEL and not opening.tools:
            return opening, level
        first_steps = [
            n for n in fresh if n.level == STARTER_LEVEL and any(tool in usage.idle for tool in n.tools)
        ]
        if first_steps:
            return _for_barrier(first_steps, barrier), level
    floor = max(level, STARTER_LEVEL + 1) if usage is not None and usage.is_active else level
    levels = sorted({n.level for n in fresh})
    higher = [lv for lv in levels if lv >= floor] or [lv for lv in levels if lv >= level]
    chosen_level = higher[0] if higher else levels[-1]
    at_level = [n for n in fresh if n.level == chosen_level]
    return _for_barrier(at_level, barrier), max(level, chosen_level)


def _for_barrier(nudges: Sequence[Nudge], barrier: str | None) -> Nudge:
    """The first of `nudges` on the team's barrier stage, else the first."""
    return next((n for n in nudges if barrier is not None and n.stage == barrier), nudges[0])


def _team_barriers(session: Session, settings: Settings, now: datetime) -> dict[int, str]:
    from bot.metrics.service import team_barriers

    return team_barriers(session, settings, now=now)


# --- the message ---------------------------------------------------------------------------------------


class _Personaliser:
    """AI-adapted try-it prompts for one tick: cached per nudge × role × team, within a time budget."""

    def __init__(
        self,
        session: Session,
        settings: Settings,
        library: Library,
        teams: dict[int, str],
        *,
        enabled: bool,
        timeout: float,
    ) -> None:
        self.timeout = timeout
        self.session = session
        self.settings = settings
        self.library = library
        self.teams = teams
        self.enabled = enabled and settings.ai_enabled
        self.deadline = time.monotonic() + AI_BUDGET_SECONDS
        self.memo: dict[tuple[str, str, int | None, str], str | None] = {}
        self.failures = 0
        self._names: frozenset[str] | None = None

    def try_it(self, nudge: Nudge, role: str, team_id: int | None, lang: str = DEFAULT_LOCALE) -> str | None:
        """The adapted prompt (escaped for Slack), or None to use the template. `nudge` is in `lang`, and so
        is the answer."""
        if not self.enabled or not nudge.try_it:
            return None
        key = (nudge.id, role, team_id, lang)
        if key in self.memo:
            return self.memo[key]
        if time.monotonic() > self.deadline:
            self.enabled = False
            return None
        if self._names is None:
            self._names = ai.roster_name_parts(self.session)
        roles = self.library.localized(lang).roles
        role_name = roles[role].name if role in roles else role
        team = self.teams.get(team_id or 0, "")
        fingerprint = hashlib.sha256(nudge.try_it.encode()).hexdigest()[:12]
        language = f" Write it in {LANGUAGE_NAMES[lang]}." if lang in LANGUAGE_NAMES else ""
        answer = ai.complete(
            self.session,
            self.settings,
            purpose=AI_PURPOSE,
            system=(
                "You adapt short exercises that help employees try an AI assistant at work. Reply with the "
                f"adapted exercise only: plain text, at most {AI_MAX_WORDS} words, second person, "
                f"no greeting, no names of people.{language}"
            ),
            prompt=(
                f"Role: {role_name}\nTeam: {team or 'not given'}\nNudge: {nudge.title}\n"
                f"Exercise: {nudge.try_it}\n\n"
                "Rewrite the exercise so it fits this role's and team's daily work."
            ),
            max_words=AI_MAX_WORDS,
            cache_key=f"nudge:{nudge.id}:{role}:{team_id or '-'}:{fingerprint}"
            + (f":{lang}" if language else ""),
            names=self._names,
            timeout=self.timeout,
        )
        result = escape(answer) if answer else None
        self.memo[key] = result
        self.failures = 0 if result else self.failures + 1
        if self.failures >= AI_FAILURES_TO_STOP:
            self.enabled = False  # the service is down or unfit: templates for the rest of this tick
        return result


def card_for(
    delivery_id: int, slot: str, nudge: Nudge, *, personalised: str | None = None, refresher: bool = False
) -> blocks.NudgeCard:
    return blocks.NudgeCard(
        delivery_id=delivery_id,
        slot=slot,
        title=nudge.title,
        body=nudge.body,
        try_it=personalised or nudge.try_it,
        minutes=nudge.minutes,
        link=nudge.link,
        level=nudge.level,
        personalised=personalised is not None,
        refresher=refresher,
    )


LANGUAGE_NAMES = {  # what the AI is asked to write an adapted try-it in, for a nudge sent in that language
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "ja": "Japanese",
    "pt-BR": "Brazilian Portuguese",
}


# --- the job -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    person: schedule.DuePerson
    nudge: Nudge
    level: int
    later: NudgeDelivery | None  # re-delivering this one ("Remind me later")
    cycle: int = 0  # 1: a refresher of a nudge they tried


@dataclass(frozen=True)
class _Past:
    """One delivery in a person's history, for the end of the library and its refreshers."""

    id: int
    nudge_id: str
    cycle: int
    status: NudgeStatus
    slot: str


@dataclass(frozen=True)
class _History:
    """What the end of the library and its refreshers need of a person's deliveries."""

    nudges: int  # distinct nudges given the first time (cycle 0)
    tried: int  # of those, tried
    refreshed: int  # refreshers given (cycle > 0)
    refreshed_ids: frozenset[str]  # the nudges refreshed
    tried_first: tuple[str, ...]  # the nudges tried the first time, oldest (slot, delivery id) first

    @classmethod
    def of(cls, pasts: Sequence[_Past]) -> _History:
        first = [past for past in pasts if past.cycle == 0]
        again = [past for past in pasts if past.cycle > 0]
        tried = sorted((p.slot, p.id, p.nudge_id) for p in first if p.status == NudgeStatus.TRIED)
        return cls(
            nudges=len({past.nudge_id for past in first}),
            tried=len(tried),
            refreshed=len(again),
            refreshed_ids=frozenset(past.nudge_id for past in again),
            tried_first=tuple(nudge_id for _, _, nudge_id in tried),
        )

    @classmethod
    def of_due(cls, person: schedule.DuePerson) -> _History:
        """The same, from what `due_people` read with the person."""
        return cls(
            nudges=person.first_given,
            tried=len(person.tried_first),
            refreshed=len(person.refreshed),
            refreshed_ids=frozenset(person.refreshed),
            tried_first=person.tried_first,
        )


@dataclass(frozen=True)
class Plan:
    """Who is due now and what each gets: a nudge (or refresher), or (library finished) the one end note."""

    nudges: list[_Planned]
    exhausted: list[schedule.DuePerson]
    usage: dict[int, UsageSignal] = dataclasses.field(default_factory=dict)  # the due people's, by id


@dataclass(frozen=True)
class _Reads:
    """What the parts of a tick share: the zones at slot time, and (read meanwhile on connections of their
    own: they do not depend on who is due) the teams' barriers and the usage signals of everyone in those
    zones (the due people among them)."""

    groups: dict[date, list[str]]
    barriers: Callable[[], dict[int, str]]
    usage: Callable[[], dict[int, UsageSignal]] | None


def _start_reads(session: Session, settings: Settings, library: Library, now: datetime) -> _Reads | None:
    """The shared reads of a tick at `now`, started; None when no one can be due (nobody at slot time, no
    role with nudges, or no nudges a week)."""
    if settings.nudges_per_week <= 0 or not any(library.nudges_for(role) for role in library.roles):
        return None
    groups = schedule.slot_groups(session, settings, now, is_holiday=library.is_holiday)
    if not groups:
        return None
    barriers = alongside(session, lambda other: _team_barriers(other, settings, now))
    usage = None
    if settings.usage_targeting:
        usage = alongside(session, lambda other: _zone_signals(other, settings, groups))
    return _Reads(groups, barriers, usage)


def plan_nudges(
    session: Session,
    settings: Settings,
    library: Library,
    now: datetime,
    *,
    apart: bool = False,
    part: tuple[int, int] | None = None,
    reads: _Reads | None = None,
) -> Plan:
    """Who is due at `now` and which nudge each gets (reads only; `deliver_due` writes the plan).
    `apart`, `part`: see `schedule.due_people`; `reads`: `_start_reads`'s, when the caller has them."""
    role_nudges = {role: library.nudges_for(role) for role in library.roles}
    roles = [role for role, nudges in role_nudges.items() if nudges]
    role_ids = {role: frozenset(nudge.id for nudge in nudges) for role, nudges in role_nudges.items()}
    reads = reads or _start_reads(session, settings, library, now)
    if reads is None:
        return Plan([], [])
    nudge_ids = [nudge.id for nudge in library.nudges]
    due = schedule.due_people(
        session, settings, now, roles=roles, groups=reads.groups, apart=apart, part=part, nudge_ids=nudge_ids
    )
    barriers = reads.barriers()
    if not due:
        return Plan([], [])
    later_rows = _later_deliveries(session, due)
    usage = reads.usage() if reads.usage is not None else {}
    plan = Plan([], [], usage)
    finished: list[tuple[schedule.DuePerson, UsageSignal]] = []
    for person in due:
        if person.notice_on_slot:
            continue  # the end-of-library message took this slot
        signal = usage.get(person.id) or roster_signal(person.roster_tools)
        later = later_rows.get(person.id)
        nudge = library_nudge(library, later.nudge_id) if later is not None else None
        if later is not None and nudge is not None and allowed(nudge, signal):
            plan.nudges.append(_Planned(person, nudge, person.level, later, cycle=later.cycle))
            continue
        barrier = barriers.get(person.team_id or 0)
        choice = None
        if not role_ids[person.role] <= person.delivered:  # else they have had every nudge of their role
            choice = choose_nudge(role_nudges[person.role], person.delivered, person.level, barrier, signal)
        if choice is not None:
            plan.nudges.append(_Planned(person, choice[0], choice[1], None))
        elif not person.exhausted_notice_sent:
            plan.exhausted.append(person)
        else:
            finished.append((person, signal))
    for person, signal in finished:
        refresher = next_refresher(_History.of_due(person), library, signal)
        if refresher is not None:
            plan.nudges.append(_Planned(person, refresher, person.level, None, cycle=1))
    return plan


def _zone_signals(
    session: Session, settings: Settings, groups: dict[date, list[str]]
) -> dict[int, UsageSignal]:
    """The usage signals (`bot.usage.signals`) of the active people in each slot date's zones, on that day."""
    days: dict[int, date] = {}
    zone_of = Person.effective_timezone(settings.timezone)
    for day, zones in groups.items():
        query = select(Person.id).where(Person.is_active.is_(True), zone_of.in_(zones))
        days.update((person_id, day) for person_id in session.scalars(query))
    return signals(session, days)


def _refreshable(history: _History, library: Library, usage: UsageSignal | None) -> Iterator[Nudge]:
    """Nudges tried the first time (cycle 0), oldest first, still in the library and still fitting the
    person's tools, not refreshed yet."""
    for nudge_id in history.tried_first:
        if nudge_id not in history.refreshed_ids:
            nudge = library.nudge(nudge_id)
            if nudge is not None and allowed(nudge, usage):
                yield nudge


def refreshers_left(history: _History, library: Library, usage: UsageSignal | None) -> list[Nudge]:
    """The refreshers still to come, in order: `_refreshable` ones, levels 2-3 first, then oldest first."""
    return sorted(_refreshable(history, library, usage), key=lambda nudge: nudge.level <= STARTER_LEVEL)


def next_refresher(history: _History, library: Library, usage: UsageSignal | None) -> Nudge | None:
    """The first of `refreshers_left`, found without going through them all when it is an advanced one."""
    first: Nudge | None = None
    for nudge in _refreshable(history, library, usage):
        if nudge.level > STARTER_LEVEL:
            return nudge
        first = first or nudge
    return first


def _histories(session: Session, person_ids: Sequence[int]) -> dict[int, list[_Past]]:
    """Every delivery of these people, by person id."""
    found: dict[int, list[_Past]] = defaultdict(list)
    ids = sorted(person_ids)
    columns = (
        NudgeDelivery.person_id,
        NudgeDelivery.id,
        NudgeDelivery.nudge_id,
        NudgeDelivery.cycle,
        type_coerce(NudgeDelivery.status, String),
        NudgeDelivery.slot,
    )
    connection = session.connection()  # plain rows: no ORM row processing
    for start in range(0, len(ids), _CHUNK):
        query = select(*columns).where(NudgeDelivery.person_id.in_(ids[start : start + _CHUNK]))
        for person_id, id_, nudge_id, cycle, status, slot in connection.execute(query):
            found[person_id or 0].append(_Past(id_, nudge_id, cycle or 0, _STATUSES[status], slot))
    return found


_STATUSES = {status.value: status for status in NudgeStatus}


def _wins_shared(session: Session, person_ids: Sequence[int]) -> dict[int, int]:
    """How many wins each of these people shared (every win they submitted but the rejected ones)."""
    counts: dict[int, int] = {}
    ids = sorted(person_ids)
    for start in range(0, len(ids), _CHUNK):
        query = (
            select(Win.author_id, func.count())
            .where(Win.author_id.in_(ids[start : start + _CHUNK]), Win.status != WinStatus.REJECTED)
            .group_by(Win.author_id)
        )
        counts.update({author: n for author, n in session.execute(query) if author is not None})
    return counts


def completion(history: _History, library: Library, usage: UsageSignal | None) -> blocks.Completion:
    """What a person who has had every nudge completed, and the refreshers they have had and have left."""
    return blocks.Completion(
        nudges=history.nudges,
        tried=history.tried,
        refreshed=history.refreshed,
        refreshers_left=sum(1 for _ in _refreshable(history, library, usage)),
    )


def send_due_nudges(ctx: JobContext) -> int:
    """The `nudges` job: queue this slot's nudge for everyone due at `ctx.now`; return how many.

    A dry run asks no AI (it costs money and the result would be thrown away): it shows the templates.
    """
    return deliver_due(
        ctx.session, ctx.settings, ctx.library, ctx.now, use_ai=not ctx.dry_run, apart=not ctx.dry_run
    )


@bulk_work()
def deliver_due(
    session: Session,
    settings: Settings,
    library: Library,
    now: datetime,
    *,
    use_ai: bool = True,
    ai_timeout: float = ai.DEFAULT_TIMEOUT,
    apart: bool = False,
) -> int:
    """Queue a nudge in the outbox for everyone due at `now` (naive UTC); return how many were queued.

    `use_ai`/`ai_timeout`: whether (with OPENAI_API_KEY set) to adapt try-it prompts, and how long one AI
    call may take before the template is used (10 s; tests shorten it). `apart`: for the nudges job's own
    transaction, not a dry run's; see `schedule.due_people`. Where PostgreSQL can write beside it and no AI
    adapts the prompts, the due people are served in two halves (by id) at once instead, each half in a
    transaction and on a connection of its own (`bot.db.in_own_transaction`), so the database works on
    both, writes included. Each half is complete for its people (their deliveries, levels and messages
    commit together), and no row is written by both; if one half fails, its people are due again at the
    next tick, as after any failed tick, and the error is raised once the other half has finished.
    """
    deliver = partial(
        _deliver, settings=settings, library=library, now=now, use_ai=use_ai, timeout=ai_timeout
    )
    if apart and not (use_ai and settings.ai_enabled) and writes_overlap(session):
        reads = _start_reads(session, settings, library, now)
        if reads is None:
            return 0
        waits = [
            in_own_transaction(session, partial(deliver, part=(2, half), reads=reads)) for half in (0, 1)
        ]
        queued, errors = 0, []
        for wait in waits:
            try:
                queued += wait()
            except Exception as error:
                errors.append(error)
        if errors:
            raise errors[0]
        return queued
    return deliver(session, apart=apart)


def _deliver(
    session: Session,
    *,
    settings: Settings,
    library: Library,
    now: datetime,
    use_ai: bool,
    timeout: float,
    apart: bool = False,
    part: tuple[int, int] | None = None,
    reads: _Reads | None = None,
) -> int:
    """`deliver_due` in `session`: everyone due (or the `part` of them: see `schedule.due_people`)."""
    from bot import outbox

    plan = plan_nudges(session, settings, library, now, apart=apart, part=part, reads=reads)
    planned, exhausted = plan.nudges, plan.exhausted
    delivery_ids = _insert_deliveries(session, [p for p in planned if p.later is None])
    for item in planned:
        if item.later is not None and _move_later(session, item):
            delivery_ids[item.person.id] = item.later.id
    _raise_levels(session, [p for p in planned if p.level > p.person.level])

    teams = {team_id: name for team_id, name in session.execute(select(Team.id, Team.name))}
    personaliser = _Personaliser(session, settings, library, teams, enabled=use_ai, timeout=timeout)
    templates: dict[tuple[str, str, str | None, int], tuple[blocks.NudgeTemplate, str]] = {}
    messages: list[outbox.NewMessage] = []
    for item in planned:
        delivery_id = delivery_ids.get(item.person.id)
        if delivery_id is None:
            continue  # a concurrent tick claimed this person's slot first (unique keys)
        lang = item.person.locale
        nudge = library.nudge_text(item.nudge, lang)  # the recipient's language where translated
        personalised = personaliser.try_it(nudge, item.person.role, item.person.team_id, lang)
        made = templates.get((item.nudge.id, lang, personalised, item.cycle))
        if made is None:  # the same blocks for everyone given this nudge and text, but the button values
            card = card_for(
                delivery_id,
                item.person.slot.isoformat(),
                nudge,
                personalised=personalised,
                refresher=item.cycle > 0,
            )
            with use_language(lang):  # the bot's own words (buttons, labels) in the recipient's language
                made = blocks.NudgeTemplate(blocks.nudge_content(card)), blocks.nudge_text(card)
            templates[(item.nudge.id, lang, personalised, item.cycle)] = made
        template, text = made
        messages.append(
            outbox.NewMessage(
                key=schedule.outbox_key(item.person.id, item.person.slot),
                kind="nudge",
                channel=item.person.slack_user_id,
                text=text,
                blocks=template.render(delivery_id, item.person.slot.isoformat()),
                person_id=item.person.id,
                metadata={"delivery_id": delivery_id, "nudge_id": item.nudge.id, "lang": lang},
            )
        )
    queued = outbox.enqueue_many(session, messages)
    wins = _wins_shared(session, [p.id for p in exhausted]) if exhausted else {}
    notes: list[outbox.NewMessage] = []
    for person in exhausted:
        role_name = library.localized(person.locale).roles[person.role].name
        signal = plan.usage.get(person.id) or roster_signal(person.roster_tools)
        done = completion(_History.of_due(person), library, signal)
        with use_language(person.locale):  # the recipient's language
            text = blocks.exhausted_text(done)
            shown = blocks.exhausted_blocks(role_name, done, wins.get(person.id, 0), command=settings.command)
        notes.append(
            outbox.NewMessage(
                key=schedule.exhausted_key(person.id),
                kind="nudge_done",
                channel=person.slack_user_id,
                text=text,
                blocks=shown,
                person_id=person.id,
            )
        )
    return queued + outbox.enqueue_many(session, notes)


def library_nudge(library: Library, nudge_id: str) -> Nudge | None:
    return library.nudge(nudge_id)


def _later_deliveries(session: Session, due: Sequence[schedule.DuePerson]) -> dict[int, NudgeDelivery]:
    """The deliveries due people asked to see again ("Remind me later"), by person id."""
    waiting = [p.id for p in due if p.later is not None]
    found: dict[int, NudgeDelivery] = {}
    for start in range(0, len(waiting), _CHUNK):
        query = select(NudgeDelivery).where(
            NudgeDelivery.person_id.in_(waiting[start : start + _CHUNK]),
            NudgeDelivery.status == NudgeStatus.LATER,
        )
        for delivery in session.scalars(query):
            current = found.get(delivery.person_id or 0)
            if current is None or delivery.id < current.id:
                found[delivery.person_id or 0] = delivery
    return found


def _insert_deliveries(session: Session, planned: Sequence[_Planned]) -> dict[int, int]:
    """Insert new deliveries in bulk, skipping any a concurrent tick inserted; person id -> delivery id."""
    if not planned:
        return {}
    now = utcnow()
    rows = [
        {
            "person_id": p.person.id,
            "team_id": p.person.team_id,
            "nudge_id": p.nudge.id,
            "role": p.person.role,
            "level": p.nudge.level,
            "stage": p.nudge.stage,
            "slot": p.person.slot.isoformat(),
            "outbox_key": schedule.outbox_key(p.person.id, p.person.slot),
            "created_at": now,
            "status": NudgeStatus.SENT,
            "cycle": p.cycle,
        }
        for p in planned
    ]
    result: dict[int, int] = {}
    if session.get_bind().dialect.name == "postgresql":
        # One statement, the rows as one JSON parameter: a multi-row VALUES of 10,000 rows (or an array
        # per column) costs psycopg more to build than PostgreSQL needs to insert them.
        for row in rows:
            row["created_at"] = now.isoformat()
        payload = json.dumps(rows)
        for person_id, delivery_id in session.execute(_PG_INSERT_DELIVERIES, {"rows": payload}):
            result[person_id] = delivery_id
        return result
    # SQLite: this transaction holds the write lock from its start (BEGIN IMMEDIATE, see bot.db), so the
    # rows above the largest id before the insert are exactly the ones it added; a plain executemany
    # without RETURNING is several times faster than batches of multi-row VALUES ... RETURNING.
    before = session.scalar(select(func.max(NudgeDelivery.id))) or 0
    table: Table = NudgeDelivery.__table__  # type: ignore[assignment]
    session.connection().execute(sqlite.insert(table).on_conflict_do_nothing(), rows)
    added = select(NudgeDelivery.person_id, NudgeDelivery.id).where(NudgeDelivery.id > before)
    for person_id, delivery_id in session.execute(added):
        result[person_id or 0] = delivery_id
    return result


_DELIVERY_COLUMNS = {
    "person_id": "integer",
    "team_id": "integer",
    "nudge_id": "varchar",
    "role": "varchar",
    "level": "integer",
    "stage": "varchar",
    "slot": "varchar",
    "outbox_key": "varchar",
    "created_at": "timestamp",
    "status": "varchar",
    "cycle": "integer",
}
_PG_INSERT_DELIVERIES = text(
    f"INSERT INTO nudge_deliveries ({', '.join(_DELIVERY_COLUMNS)}) "
    f"SELECT {', '.join(_DELIVERY_COLUMNS)} FROM json_to_recordset(CAST(:rows AS json)) AS r("
    + ", ".join(f"{name} {kind}" for name, kind in _DELIVERY_COLUMNS.items())
    + ") ON CONFLICT DO NOTHING RETURNING person_id, id"
)


def _move_later(session: Session, item: _Planned) -> bool:
    """A "Remind me later" nudge becomes this slot's nudge: new slot, new message, fresh state.

    Conditional on it still waiting, so of two ticks at once only one moves it (and sends it).
    """
    assert item.later is not None
    moved = session.execute(
        update(NudgeDelivery)
        .where(NudgeDelivery.id == item.later.id, NudgeDelivery.status == NudgeStatus.LATER)
        .values(
            slot=item.person.slot.isoformat(),
            outbox_key=schedule.outbox_key(item.person.id, item.person.slot),
            team_id=item.person.team_id,
            status=NudgeStatus.SENT,
            sent_at=None,
            clicked_at=None,
        ),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(moved, "rowcount", 0) or 0) == 1


def _raise_levels(session: Session, planned: Sequence[_Planned]) -> None:
    by_level: dict[int, list[int]] = defaultdict(list)
    for item in planned:
        by_level[item.level].append(item.person.id)
    postgres = session.get_bind().dialect.name == "postgresql"
    for level, person_ids in by_level.items():
        if postgres:  # one array parameter, not thousands of placeholders for psycopg to parse
            groups = [Person.id == any_(bindparam("ids", person_ids, type_=ARRAY(Integer)))]
        else:
            groups = [Person.id.in_(person_ids[i : i + _CHUNK]) for i in range(0, len(person_ids), _CHUNK)]
        for who in groups:
            session.execute(update(Person).where(who, Person.nudge_level < level).values(nudge_level=level))


def mark_sent(session: Session, message: OutboxMessage) -> None:
    """Outbox hook: Slack accepted a nudge; record when (that is what `nudges_sent` counts)."""
    parts = message.key.split(":")
    if len(parts) != 3 or not parts[1].isdigit():
        return
    session.execute(
        update(NudgeDelivery)
        .where(NudgeDelivery.slot == parts[2], NudgeDelivery.person_id == int(parts[1]))
        .values(sent_at=message.sent_at or utcnow())
    )


# --- clicks --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClickResult:
    delivery: NudgeDelivery
    changed: bool  # False for a repeated or too-late click (nothing recorded)
    levelled_up: bool = False


def record_click(
    session: Session,
    library: Library,
    *,
    delivery_id: int,
    slot: str,
    slack_user_id: str,
    action: str,
    now: datetime | None = None,
) -> ClickResult | None:
    """Record a button on a nudge and queue the message's update; None if it isn't this person's nudge.

    Status buttons ("tried", "not_for_me", "later") count once per message; the rating can be given once
    too. Each recorded click is an Activity (for `engaged`), with the person's team at that moment.
    """
    from bot import outbox

    if action not in STATUS_ACTIONS + RATING_ACTIONS:
        raise ValueError(f"unknown nudge action {action!r}")
    now = now or utcnow()
    row = session.execute(
        select(NudgeDelivery, Person)
        .join(Person, Person.id == NudgeDelivery.person_id)
        .where(NudgeDelivery.id == delivery_id)
        .with_for_update(of=NudgeDelivery)
    ).first()
    if row is None or row[1].slack_user_id != slack_user_id:
        return None
    delivery, person = row
    message_key = schedule.outbox_key(person.id, date.fromisoformat(slot))
    changed = levelled_up = False
    if action in STATUS_ACTIONS and delivery.status == NudgeStatus.SENT and delivery.slot == slot:
        delivery.status = NudgeStatus(action)
        delivery.clicked_at = now
        if delivery.status == NudgeStatus.TRIED:
            delivery.tried_at = now
        changed = True
    elif action in RATING_ACTIONS and delivery.rating is None:
        delivery.rating = action
        delivery.clicked_at = delivery.clicked_at or now
        changed = True
    if not changed:
        return ClickResult(delivery, changed=False)
    session.add(
        Activity(person_id=person.id, team_id=person.team_id, kind=f"nudge_{action}", occurred_at=now)
    )
    session.flush()
    if action == NudgeStatus.TRIED:
        levelled_up = _maybe_level_up(session, library, person)
    nudge = library_nudge(library, delivery.nudge_id)
    status = delivery.status if delivery.slot == slot else NudgeStatus.LATER
    found = _shown_card(session, library, message_key, delivery, slot, nudge)
    if found is not None:
        shown, lang = found
        with use_language(lang):  # the language the message was sent in
            outbox.enqueue_update(
                session,
                key=f"{message_key}:{status}:{delivery.rating or '-'}",
                update_of=message_key,
                text=blocks.nudge_text(shown),
                blocks=blocks.nudge_blocks(shown, status=status, rating=delivery.rating),
            )
    return ClickResult(delivery, changed=True, levelled_up=levelled_up)


def _shown_card(
    session: Session,
    library: Library,
    message_key: str,
    delivery: NudgeDelivery,
    slot: str,
    nudge: Nudge | None,
) -> tuple[blocks.NudgeCard, str | None] | None:
    """The card as the person saw it, and the language it was sent in, with the try-it text they got
    (AI-adapted or not)."""
    from bot import outbox

    if nudge is None:
        return None  # removed from the library since: leave the message as it is
    personalised: str | None = None
    lang: str | None = None
    payload = session.scalar(select(OutboxMessage.payload).where(OutboxMessage.key == message_key))
    if isinstance(payload, dict):
        sent_in = (payload.get("metadata") or {}).get("lang")
        lang = sent_in if isinstance(sent_in, str) else None
        with use_language(lang):
            personalised = _personalised_try_it(outbox.with_blocks(session, payload))
        nudge = library.nudge_text(nudge, lang)
    card = card_for(delivery.id, slot, nudge, personalised=personalised, refresher=delivery.cycle > 0)
    return card, lang


def _personalised_try_it(payload: dict[str, Any]) -> str | None:
    """The AI-adapted try-it text inside a sent nudge's blocks (in the current language), if it had one."""
    label = blocks.try_it_label(personalised=True) + "\n"
    for block in payload.get("blocks") or []:
        text = block.get("text", {}).get("text", "") if isinstance(block, dict) else ""
        if isinstance(text, str) and text.startswith(label):
            return "\n".join(line[1:] for line in text[len(label) :].splitlines())
    return None


def _maybe_level_up(session: Session, library: Library, person: Person) -> bool:
    """Move up a level after `TRIED_TO_LEVEL_UP` tried nudges at the current one (up to the role's top)."""
    levels = [n.level for n in library.nudges_for(person.role or "")]
    if not levels or person.nudge_level >= max(levels):
        return False
    tried = session.scalar(
        select(func.count())
        .select_from(NudgeDelivery)
        .where(
            NudgeDelivery.person_id == person.id,
            NudgeDelivery.status == NudgeStatus.TRIED,
            NudgeDelivery.level == person.nudge_level,
            NudgeDelivery.cycle == 0,
        )
    )
    if (tried or 0) < TRIED_TO_LEVEL_UP:
        return False
    person.nudge_level += 1
    session.flush()
    return True


# --- pause, resume, progress ---------------------------------------------------------------------------


def parse_pause_weeks(text: str) -> int | None:
    """Weeks from `/adopt pause [WEEKS]` (default 2, 1..12), or None when it isn't a valid number."""
    text = text.strip()
    if not text:
        return PAUSE_WEEKS_DEFAULT
    if not text.isdigit():
        return None
    weeks = int(text)
    return weeks if 1 <= weeks <= PAUSE_WEEKS_MAX else None


def local_today(person: Person, settings: Settings, now: datetime | None = None) -> date:
    tz = zone(person.effective_timezone(settings.timezone)) or settings.tz
    return schedule.local_now(now or utcnow(), tz).date()


def pause(
    session: Session, person: Person, settings: Settings, weeks: int, now: datetime | None = None
) -> date:
    """Pause nudges for `weeks` weeks from today (local); return the day they resume.

    `Person.paused_until` is the last paused day (as App Home's profile reads it): "pause 2" on a Tuesday
    pauses through the Monday two weeks on, and the Tuesday after brings the next nudge.
    """
    if not 1 <= weeks <= PAUSE_WEEKS_MAX:
        raise ValueError(f"weeks must be 1..{PAUSE_WEEKS_MAX}")
    resumes = local_today(person, settings, now) + timedelta(weeks=weeks)
    person.paused_until = resumes - timedelta(days=1)
    session.flush()
    return resumes


def resume(session: Session, person: Person, settings: Settings, now: datetime | None = None) -> bool:
    """End a pause; False when nudges weren't paused (or the pause had already run out)."""
    paused_until = person.paused_until
    was_paused = paused_until is not None and paused_until >= local_today(person, settings, now)
    person.paused_until = None
    session.flush()
    return was_paused


def streak(weeks_with_tries: Iterable[str], this_week: str) -> int:
    """Consecutive ISO weeks with a tried nudge, ending this week (or last week, if none yet this week)."""
    weeks = set(weeks_with_tries)
    monday = parse_iso_week(this_week)
    if this_week not in weeks:
        monday -= timedelta(weeks=1)
    count = 0
    while iso_week(monday) in weeks:
        count += 1
        monday -= timedelta(weeks=1)
    return count


def progress(
    session: Session,
    person: Person,
    settings: Settings,
    now: datetime | None = None,
    library: Library | None = None,
) -> blocks.ProgressView:
    """The person's own figures: level, nudges received and tried, streak, pause or next nudge.

    With `library`, a next nudge is shown only when one is left that they may get (as the job chooses).
    """
    now = now or utcnow()
    tz_name = person.effective_timezone(settings.timezone)
    tz = zone(tz_name) or settings.tz
    rows = session.execute(
        select(NudgeDelivery.sent_at, NudgeDelivery.tried_at).where(NudgeDelivery.person_id == person.id)
    ).all()
    received = sum(1 for sent_at, _ in rows if sent_at is not None)
    tried_weeks = [iso_week(schedule.local_now(tried_at, tz).date()) for _, tried_at in rows if tried_at]
    today = schedule.local_now(now, tz).date()
    paused = person.paused_until if person.paused_until and person.paused_until >= today else None
    away = person.away_until is not None and person.away_until > now
    next_nudge: str | None = None
    completed: blocks.Completion | None = None
    if person.is_active and person.role and paused is None and not away and settings.nudges_per_week > 0:
        started = person.started_on or schedule.start_monday(person.created_at, tz_name)
        moment = schedule.next_slot(now, tz_name, settings, not_before=started)
        if library is not None:
            completed = _completed(session, person, settings, library, today)
        if completed is not None and completed.refreshers_left and not completed.noted:
            moment = schedule.next_slot(to_naive_utc(moment), tz_name, settings)  # the end note comes first
        if completed is None or completed.refreshers_left:
            next_nudge = f"{blocks.long_date(moment.date())}, {moment:%H:%M}"
    return blocks.ProgressView(
        level=person.nudge_level,
        received=received,
        tried=len(tried_weeks),
        streak_weeks=streak(tried_weeks, iso_week(today)),
        resumes_on=paused + timedelta(days=1) if paused else None,
        away=away,
        next_nudge=next_nudge,
        done=completed is not None,
        completed=completed,
    )


def _completed(
    session: Session, person: Person, settings: Settings, library: Library, today: date
) -> blocks.Completion | None:
    """None while the nudge job has a nudge left for the person (one waiting after "Remind me later", or a
    new one they may get: their role's and everyone's, for their tools); else what they completed."""
    signal = person_signal(session, person, settings, today)
    history = _histories(session, [person.id]).get(person.id, [])
    for past in history:
        waiting = library_nudge(library, past.nudge_id) if past.status == NudgeStatus.LATER else None
        if waiting is not None and allowed(waiting, signal):
            return None
    given = {past.nudge_id for past in history}
    if (
        choose_nudge(library.nudges_for(person.role or ""), given, person.nudge_level, None, signal)
        is not None
    ):
        return None
    done = completion(_History.of(history), library, signal)
    noted = session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.key == schedule.exhausted_key(person.id))
    )
    return dataclasses.replace(done, noted=noted is not None)


def targeting(
    session: Session, person: Person, settings: Settings, library: Library, now: datetime | None = None
) -> blocks.TargetingView:
    """What chooses the person's own nudges: role and level, what their usage facts say (targeting on), and
    the roster's tools where no facts measure them.

    Only ever shown to the person themselves, with role and tool names in their language."""
    role = person.role or ""
    texts = library.localized(person_locale(person, settings))
    role_name = texts.roles[role].name if role in texts.roles else role
    signal = person_signal(session, person, settings, local_today(person, settings, now))

    def names(tools: AbstractSet[str]) -> tuple[str, ...]:
        return tuple(sorted(texts.tools[t].name if t in texts.tools else t for t in tools))

    roster_tools = () if signal.measured else names(signal.licensed)
    if not settings.usage_targeting:
        return blocks.TargetingView(role=role_name, usage_targeting=False, roster_tools=roster_tools)
    given = set(session.scalars(select(NudgeDelivery.nudge_id).where(NudgeDelivery.person_id == person.id)))
    fresh = [n for n in library.nudges_for(role) if n.id not in given and allowed(n, signal)]
    return blocks.TargetingView(
        role=role_name,
        usage_targeting=True,
        roster_tools=roster_tools,
        idle=names(signal.idle),
        active=names(signal.active),
        first_steps_left=any(
            n.level == STARTER_LEVEL and any(t in signal.idle for t in n.tools) for n in fresh
        ),
        above_starter_left=any(n.level > STARTER_LEVEL for n in fresh),
    )


__all__ = [
    "STARTER_LEVEL",
    "TRIED_TO_LEVEL_UP",
    "ClickResult",
    "allowed",
    "choose_nudge",
    "deliver_due",
    "mark_sent",
    "parse_pause_weeks",
    "pause",
    "person_signal",
    "plan_nudges",
    "progress",
    "record_click",
    "resume",
    "send_due_nudges",
    "streak",
    "targeting",
]
