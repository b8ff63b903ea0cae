"""Delivering digests: the weekly job, on-demand audiences, and what App Home says about digests.

Schedule (job `digest`, run by every `adoptbot tick`): each leader gets their digest on
`ADOPTBOT_DIGEST_DAY` at `ADOPTBOT_DIGEST_HOUR` in their own time zone, describing the ISO week before
that local date. Like the nudge schedule it is set-based: the distinct time zones of leaders are checked
in Python, then one statement per reported week lists the leaders due. A tick that comes late still sends
the same day (up to CATCH_UP_HOURS after the hour); a leader whose local Monday comes before the week has
ended in the organisation's time zone (far east of it) gets the digest once it has, later that morning.
The org-wide digest goes to ADOPTBOT_DIGEST_CHANNEL at the same weekday and hour in the org time zone.

Exactly once: the digest message's outbox key is `digest:<person>:<YYYY-Www>` (`digest-org:<YYYY-Www>`
for the channel), so a tick that runs twice, or on two instances at once, queues it once; the chart and
the CSV (keys `<key>:chart`, `<key>:csv`) are queued only by the transaction that queued the message.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from bot import outbox
from bot.clock import iso_week, zone
from bot.config import DEFAULT_LOCALE, Settings
from bot.content import Library
from bot.digest.blocks import (
    LatestDigest,
    Mode,
    ProgrammeStatus,
    chart_alt_text,
    chart_title,
    digest_message,
)
from bot.digest.chart import TrendSeries, chart_labels, font_draws, render_trend
from bot.digest.narrative import narrate, template_narrative
from bot.digest.service import ORGANISATION, Audience, Digest, DigestSource, actions_in, compose, compose_many
from bot.i18n import current_language, format_number, ngettext, use_language
from bot.i18n import gettext as _
from bot.jobs import JobContext
from bot.metrics.format import to_csv
from bot.metrics.sql import week_window
from bot.models import Broadcast, OutboxMessage, Person, Team, TeamLead
from bot.nudges.schedule import local_now
from bot.outbox import OutboxState
from bot.outbox import admin as outbox_admin
from bot.people.locale import locale_of
from bot.permissions import is_change_manager, led_team_ids
from bot.pulses import service as pulses
from bot.wins import service as wins_service

log = logging.getLogger(__name__)

JOB = "digest"
DIGEST_KIND, ORG_KIND, FILE_KIND = "digest", "digest_org", "digest_file"
CATCH_UP_HOURS = 8


def leader_key(person_id: int, week: str) -> str:
    return f"digest:{person_id}:{week}"


def org_key(week: str) -> str:
    return f"digest-org:{week}"


def without_ai(settings: Settings) -> Settings:
    """The same settings with AI off: for reads that must not call out (previews, dry runs, the demo)."""
    return dataclasses.replace(settings, openai_api_key=None)


# --- who leads what --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leader:
    id: int
    name: str
    slack_user_id: str
    team_ids: tuple[int, ...] | None  # None: leads every team
    locale: str = DEFAULT_LOCALE  # their language: suggested actions come in it where translated

    @property
    def audience(self) -> Audience:
        return Audience(
            name=self.name or self.slack_user_id,
            team_ids=self.team_ids,
            person_id=self.id,
            slack_user_id=self.slack_user_id,
        )


def _leads_something() -> ColumnElement[bool]:
    return or_(Person.leads_all.is_(True), exists().where(TeamLead.person_id == Person.id))


def _reachable_leader() -> list[ColumnElement[bool]]:
    return [
        Person.is_active.is_(True),
        Person.erased_at.is_(None),
        Person.slack_user_id.is_not(None),
        Person.unreachable_reason.is_(None),
        _leads_something(),
    ]


def leaders(
    session: Session,
    settings: Settings,
    *,
    zones: Collection[str] | None = None,
    not_sent_week: str | None = None,
) -> list[Leader]:
    """Active, reachable leaders with their teams (by name); only those in `zones` (effective time
    zones) and without a digest queued for `not_sent_week`, when given."""
    tz = Person.effective_timezone(settings.timezone)
    query = select(
        Person.id, Person.name, Person.slack_user_id, Person.leads_all, Person.locale, Person.slack_locale
    ).where(*_reachable_leader())
    if zones is not None:
        query = query.where(tz.in_(list(zones)))
    if not_sent_week is not None:
        key = literal("digest:") + cast(Person.id, String) + literal(f":{not_sent_week}")
        query = query.where(~exists().where(OutboxMessage.key == key))
    found = session.execute(query.order_by(Person.name, Person.id)).all()
    teams: dict[int, list[int]] = defaultdict(list)
    partial = [pid for pid, _, _, leads_all, _, _ in found if not leads_all]
    for start in range(0, len(partial), 1000):
        chunk = partial[start : start + 1000]
        rows = session.execute(
            select(TeamLead.person_id, TeamLead.team_id).where(TeamLead.person_id.in_(chunk))
        )
        for person_id, team_id in rows:
            teams[person_id].append(team_id)
    return [
        Leader(
            pid,
            name,
            str(user),
            None if leads_all else tuple(sorted(teams[pid])),
            locale_of(roster_locale, slack_locale, settings),
        )
        for pid, name, user, leads_all, roster_locale, slack_locale in found
        if user is not None
    ]


def _leader_zones(session: Session, settings: Settings) -> list[str]:
    tz = Person.effective_timezone(settings.timezone)
    return [z for z in session.scalars(select(tz).where(*_reachable_leader()).distinct()) if z]


def report_week(local_day: date) -> date:
    """The Monday of the ISO week before `local_day`'s week: the week a digest sent that day describes."""
    return local_day - timedelta(days=local_day.weekday() + 7)


def _in_digest_slot(local: datetime, settings: Settings) -> bool:
    return local.weekday() == settings.digest_day and (
        settings.digest_hour <= local.hour < settings.digest_hour + CATCH_UP_HOURS
    )


def due_zones(timezones: Collection[str], settings: Settings, now: datetime) -> dict[date, list[str]]:
    """Zones where it is digest time at `now`, grouped by the week their digest reports (once that week
    has ended in the organisation's time zone)."""
    by_week: dict[date, list[str]] = defaultdict(list)
    for name in timezones:
        tz = zone(name)
        if tz is None:
            continue
        local = local_now(now, tz)
        if not _in_digest_slot(local, settings):
            continue
        monday = report_week(local.date())
        if week_window(monday, settings.tz)[1] <= now:
            by_week[monday].append(name)
    return dict(by_week)


def due_leaders(session: Session, settings: Settings, now: datetime) -> dict[date, list[Leader]]:
    """Leaders due their digest at `now` (naive UTC), by reported week; those already sent left out."""
    due: dict[date, list[Leader]] = {}
    for monday, zones in sorted(due_zones(_leader_zones(session, settings), settings, now).items()):
        found = leaders(session, settings, zones=zones, not_sent_week=iso_week(monday))
        if found:
            due[monday] = found
    return due


# --- queueing ---------------------------------------------------------------------------------------------


class ChartCache:
    """Charts already drawn in this run, by their data: leaders of the same teams share one PNG."""

    def __init__(self) -> None:
        self._png: dict[tuple[TrendSeries, str], bytes] = {}

    def png(self, digest: Digest) -> bytes:
        """The chart in the current language (its title, legend and axes), or in English where the chart's
        font cannot draw that language's script."""
        language = chart_language()
        key = (digest.trend, language)
        found = self._png.get(key)
        if found is None:
            with use_language(language):
                note = _("Gaps: no closed pulse, or under {k} answers (hidden)").format(
                    k=digest.min_group_size
                )
                found = self._png[key] = render_trend(digest.trend, title=chart_title(digest), note=note)
        return found


def chart_language() -> str:
    """The current language if the chart's font can draw its words, else English."""
    return current_language() if font_draws(*chart_labels()) else DEFAULT_LOCALE


def enqueue_digest(
    session: Session,
    digest: Digest,
    *,
    key: str,
    channel: str,
    settings: Settings,
    charts: ChartCache,
    person_id: int | None = None,
    mode: Mode = "dm",
) -> int:
    """Queue the digest message, then its trend chart and CSV; 0 if `key` was queued before."""
    text, blocks = digest_message(digest, command=settings.command, mode=mode)
    kind = ORG_KIND if mode == "channel" else DIGEST_KIND
    metadata = {"week": digest.week}
    if not outbox.enqueue(
        session,
        key=key,
        kind=kind,
        channel=channel,
        text=text,
        blocks=blocks,
        person_id=person_id,
        metadata=metadata,
    ):
        return 0
    queued = 1
    if digest.trend.weeks and not digest.trend.empty:
        queued += outbox.enqueue_file(
            session,
            key=f"{key}:chart",
            kind=FILE_KIND,
            channel=channel,
            filename=f"ai-adoption-trend-{digest.week}.png",
            content=charts.png(digest),
            title=chart_title(digest),  # the file's title and alt text: Slack shows any script
            alt_text=chart_alt_text(digest),
            person_id=person_id,
        )
    if digest.csv_rows:
        queued += outbox.enqueue_file(
            session,
            key=f"{key}:csv",
            kind=FILE_KIND,
            channel=channel,
            filename=f"ai-adoption-teams-{digest.week}.csv",
            content=to_csv(digest.csv_rows).encode(),
            title=_("Team metrics, week {week}").format(week=digest.week),
            person_id=person_id,
        )
    return queued


def send_leader_digests(
    session: Session,
    settings: Settings,
    library: Library,
    now: datetime,
    due: dict[date, list[Leader]],
    *,
    ai_narrative: bool = True,
) -> int:
    """Compose and queue the digests of `due` leaders (by week). Returns the messages queued."""
    queued = 0
    charts = ChartCache()
    for monday, people in sorted(due.items()):
        source = DigestSource(session, settings, library, week_monday=monday, now=now)
        digests = compose_many(source, [p.audience for p in people], ai_narrative=False)
        names = source.name_parts() if ai_narrative and settings.ai_enabled else frozenset()
        for person, digest in zip(people, digests, strict=True):
            with use_language(person.locale):  # the leader's language: the words, the narrative, the chart
                digest = in_language(session, settings, digest, names=names, ai_narrative=ai_narrative)
                queued += enqueue_digest(
                    session,
                    actions_in(digest, library, person.locale),
                    key=leader_key(person.id, digest.week),
                    channel=person.slack_user_id,
                    settings=settings,
                    charts=charts,
                    person_id=person.id,
                )
    return queued


def in_language(
    session: Session, settings: Settings, digest: Digest, *, names: frozenset[str], ai_narrative: bool
) -> Digest:
    """The digest's narrative in the current language: the template's, or the model's when AI is on."""
    digest = dataclasses.replace(digest, narrative=template_narrative(digest), narrative_by_ai=False)
    if ai_narrative and settings.ai_enabled:
        digest = narrate(session, settings, digest, names=names)
    return digest


def send_org_digest(
    session: Session,
    settings: Settings,
    library: Library,
    now: datetime,
    monday: date,
    *,
    ai_narrative: bool = True,
) -> int:
    """Compose and queue the org-wide digest of the week of `monday` to ADOPTBOT_DIGEST_CHANNEL."""
    if not settings.digest_channel:
        return 0
    key = org_key(iso_week(monday))
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return 0
    source = DigestSource(session, settings, library, week_monday=monday, now=now)
    [digest] = compose_many(source, [ORGANISATION], ai_narrative=False)
    names = source.name_parts() if ai_narrative and settings.ai_enabled else frozenset()
    language = locale_of(None, None, settings)  # a shared channel: the organisation's language
    with use_language(language):
        digest = in_language(session, settings, digest, names=names, ai_narrative=ai_narrative)
        return enqueue_digest(
            session,
            actions_in(digest, library, language),
            key=key,
            channel=settings.digest_channel,
            settings=settings,
            charts=ChartCache(),
            mode="channel",
        )


def digest_keys(key: str) -> tuple[str, str, str]:
    """The digest message's key and those of its chart and CSV (queued with it when there is data)."""
    return key, f"{key}:chart", f"{key}:csv"


@dataclass
class WeekDelivery:
    """What `adoptbot digest --send` sends for a week, and why."""

    keys: list[str]  # the messages to send now: just queued, failed before and queued again, or waiting
    queued: int = 0  # messages queued for the first time
    leaders: int = 0  # leaders whose digest is queued for the first time
    again: int = 0  # leaders whose digest failed before and is sent again
    already: int = 0  # leaders who were sent it
    unreachable: int = 0  # leaders whose digest failed and whom Slack cannot reach now


def queue_week(
    session: Session, settings: Settings, library: Library, now: datetime, monday: date
) -> WeekDelivery:
    """Queue the week's digests for every leader (and the org channel) who has not been sent theirs.

    A digest that failed is queued again (its message, chart or CSV that failed: never what was sent), and
    one still waiting in the outbox is sent with the rest; a digest counts as already delivered only when
    none of its messages failed or waits (they were sent, or skipped because Slack could not reach the
    leader then). Returns the keys to send, so the caller sends these and nothing else.
    """
    week = iso_week(monday)
    people = leaders(session, settings)
    sets = {person.id: digest_keys(leader_key(person.id, week)) for person in people}
    org = digest_keys(org_key(week)) if settings.digest_channel else ()
    states = _states(session, [key for keys in sets.values() for key in keys] + list(org))
    plan = WeekDelivery(keys=[])
    failed: list[str] = []
    new: list[Leader] = []
    for person in people:
        known = [key for key in sets[person.id] if key in states]
        if not known:
            new.append(person)
            continue
        failed += [key for key in known if states[key] == OutboxState.FAILED]
        plan.keys += [key for key in known if states[key] in (OutboxState.PENDING, OutboxState.SENDING)]
        if any(states[key] == OutboxState.FAILED for key in known):
            plan.again += 1
        elif not any(states[key] in (OutboxState.PENDING, OutboxState.SENDING) for key in known):
            plan.already += 1
    if org:
        known = [key for key in org if key in states]
        failed += [key for key in known if states[key] == OutboxState.FAILED]
        plan.keys += [key for key in known if states[key] in (OutboxState.PENDING, OutboxState.SENDING)]
    plan.keys += outbox_admin.requeue_keys(session, failed, now=now)
    before = len(outbox.queued_in(session))
    plan.queued = send_leader_digests(session, settings, library, now, {monday: new}) if new else 0
    if org and org[0] not in states:
        plan.queued += send_org_digest(session, settings, library, now, monday)
    plan.keys += [queued.key for queued in outbox.queued_in(session)[before:]]
    plan.leaders = len(new)
    plan.unreachable = int(
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .join(Person, Person.id == OutboxMessage.person_id)
            .where(
                OutboxMessage.kind == DIGEST_KIND,
                OutboxMessage.key.like(f"digest:%:{week}"),
                OutboxMessage.state == OutboxState.FAILED,
                Person.unreachable_reason.is_not(None),
            )
        )
        or 0
    )
    return plan


def _states(session: Session, keys: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(keys), 1000):
        rows = session.execute(
            select(OutboxMessage.key, OutboxMessage.state).where(
                OutboxMessage.key.in_(keys[start : start + 1000])
            )
        )
        found.update((key, state) for key, state in rows)
    return found


def org_digest_week(settings: Settings, now: datetime) -> date | None:
    """The week the org-wide digest reports at `now`, when it is digest time in the org time zone."""
    local = local_now(now, settings.tz)
    if not _in_digest_slot(local, settings):
        return None
    monday = report_week(local.date())
    return monday if week_window(monday, settings.tz)[1] <= now else None


def run_job(ctx: JobContext) -> int:
    """The weekly digests due at `ctx.now`. A dry run composes without AI (it must not call out)."""
    settings = without_ai(ctx.settings) if ctx.dry_run else ctx.settings
    queued = 0
    due = due_leaders(ctx.session, settings, ctx.now)
    if due:
        queued += send_leader_digests(ctx.session, settings, ctx.library, ctx.now, due)
    monday = org_digest_week(settings, ctx.now) if settings.digest_channel else None
    if monday is not None:
        queued += send_org_digest(ctx.session, settings, ctx.library, ctx.now, monday)
    return queued


# --- on demand ----------------------------------------------------------------------------------------


class DigestRefused(Exception):
    """Why this person gets no digest for what they asked; `teams` are the ones they may ask for."""

    def __init__(self, reason: str, teams: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.teams = tuple(teams)


def audience_for(
    session: Session, person: Person | None, settings: Settings, *, user_id: str | None, team: str | None
) -> Audience:
    """What `/adopt digest [TEAM]` shows this person: change managers and leaders of every team may ask
    for any team (default: the whole organisation); other leaders for a team they lead (default: all of
    theirs). DigestRefused otherwise."""
    everything = is_change_manager(person, settings, user_id=user_id) or bool(
        person is not None and person.leads_all and person.is_active and person.erased_at is None
    )
    led = set(led_team_ids(session, person))
    names = {tid: name for tid, name in session.execute(select(Team.id, Team.name))}
    allowed = sorted((n for tid, n in names.items() if everything or tid in led), key=str.casefold)
    who = (person.name if person is not None and person.name else None) or user_id or "you"
    if team:
        wanted = " ".join(team.split()).casefold()
        match = next((tid for tid, n in names.items() if n.casefold() == wanted), None)
        if match is None:
            raise DigestRefused("unknown_team", allowed)
        if not everything and match not in led:
            raise DigestRefused("not_your_team", allowed)
        return Audience(name=names[match], team_ids=(match,), person_id=person.id if person else None)
    if everything:
        return dataclasses.replace(ORGANISATION, person_id=person.id if person else None)
    if not led:
        raise DigestRefused("no_teams")
    return Audience(name=who, team_ids=tuple(sorted(led)), person_id=person.id if person else None)


def preview(
    session: Session,
    settings: Settings,
    library: Library,
    audience: Audience,
    *,
    now: datetime,
    brief: bool = False,
) -> Digest:
    """The digest of the last complete week for `audience`, composed without AI (reads only; add the AI
    parts with `bot.digest.service.polish` in a session that may write)."""
    from bot.metrics.service import last_complete_week

    monday = last_complete_week(settings, now)
    source = DigestSource(session, without_ai(settings), library, week_monday=monday, now=now)
    return compose(source, audience, brief=brief)


# --- App Home -----------------------------------------------------------------------------------------


def latest_sent(session: Session, person_id: int) -> LatestDigest | None:
    """The last digest DM this person was sent (week, when, where), or None."""
    row = session.execute(
        select(OutboxMessage.key, OutboxMessage.sent_at, OutboxMessage.slack_channel)
        .where(
            OutboxMessage.person_id == person_id,
            OutboxMessage.kind == DIGEST_KIND,
            OutboxMessage.state == OutboxState.SENT,
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    ).first()
    if row is None or row.sent_at is None:
        return None
    return LatestDigest(
        week=str(row.key).rsplit(":", 1)[-1], sent_at=row.sent_at, slack_channel=row.slack_channel
    )


def programme_status(
    session: Session, settings: Settings, library: Library, now: datetime
) -> ProgrammeStatus:
    """Pulse status, wins waiting for review, scheduled broadcasts and the content library's size."""
    status = pulses.run_status(session, library=library, now=now)
    if status is None:
        pulse = _("No pulse yet")
    elif status.is_open:
        closes = pulses.local_date_label(status.closes_at, settings.timezone)
        pulse = _("#{run} open until {day}: {answered} of {invited} answered").format(
            run=status.run_id,
            day=closes,
            answered=format_number(status.answered),
            invited=format_number(status.invited),
        )
    else:
        pulse = _("#{run} closed: {answered} of {invited} answered").format(
            run=status.run_id, answered=format_number(status.answered), invited=format_number(status.invited)
        )
    scheduled = session.scalar(
        select(func.count()).select_from(Broadcast).where(Broadcast.status == "scheduled")
    )
    survey = library.default_survey() if library.surveys else None
    return ProgrammeStatus(
        pulse=pulse,
        pending_wins=wins_service.pending_count(session),
        scheduled_broadcasts=int(scheduled or 0),
        roles=len(library.roles),
        nudges=len(library.nudges),
        surveys=ngettext("{title} ({n} question)", "{title} ({n} questions)", len(survey.questions)).format(
            title=survey.title, n=len(survey.questions)
        )
        if survey
        else _("none"),
        actions=sum(len(v) for v in library.actions.values()),
    )
