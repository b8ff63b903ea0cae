"""Pulse runs: open, invite, record answers, remind non-respondents, close. Jobs for `adoptbot tick`.

Privacy by construction (docs/privacy.md, "Unlinkable answers"):
- An answer sheet (`PulseResponse`) is keyed by `HMAC-SHA256(secret, "<run>:<person>")` (`respondent_key`),
  replaceable by that person while the run is open and joinable to nobody. It carries the team the person
  was invited with and the day its run opened, never when it was given; sheets and answers have random keys.
- Saving answers writes the answer sheet and nothing else: no invitation update, no activity row, no
  outbox message, no log line. The daily batch (`bot.pulses.confirm`) marks invitations answered later;
  until then reminders recognise who answered by recomputing their key (`_answered_keys`).
- The secret is ADOPTBOT_SECRET, else a random one generated once and kept in the database (AppState
  `pulse_secret`). Changing it breaks "change my answer" for runs open at that moment.
- Only people whose team the roster or a change manager set are invited (`TeamSource`).

When invitations, reminders, closing and the next run happen: docs/time.md.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, String, cast, delete, exists, func, insert, literal, select, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.clock import to_naive_utc, zone_or_utc
from bot.config import Settings
from bot.content import Library, Question, Survey
from bot.db import insert_ignore
from bot.errors import UsageError
from bot.i18n import format_day, use_language
from bot.i18n import gettext as _
from bot.jobs import JobContext, claim_slot
from bot.metrics import tallies
from bot.models import (
    AppState,
    OutboxMessage,
    Person,
    PulseAnswer,
    PulseInvitation,
    PulseResponse,
    PulseRun,
    Team,
    TeamSource,
    random_key,
)
from bot.outbox import OutboxState
from bot.people.locale import locale_of, person_locale
from bot.pulses import blocks, calendar, comments
from bot.pulses.blocks import COMMENT_MAX, PulseCard

log = logging.getLogger(__name__)

SECRET_KEY = "pulse_secret"
WORKDAY_END_HOUR = 17  # an invitation arriving after this local hour waits for the next working day
OPEN_JOB = "pulse-open"
INVITE_KIND, REMINDER_KIND, ANSWERED_KIND = "pulse_invite", "pulse_reminder", "pulse_answered"


# --- keys --------------------------------------------------------------------------------------------


def pulse_secret(session: Session, settings: Settings) -> bytes:
    """ADOPTBOT_SECRET, else the installation's generated secret (created once, race-free)."""
    if settings.secret:
        return settings.secret.encode()
    value = session.scalar(select(AppState.value).where(AppState.key == SECRET_KEY))
    if value is None:
        insert_ignore(
            session, AppState, [{"key": SECRET_KEY, "value": secrets.token_hex(32)}], conflict=["key"]
        )
        value = session.scalar(select(AppState.value).where(AppState.key == SECRET_KEY))
    assert value is not None
    return value.encode()


def respondent_key(secret: bytes, run_id: int, person_id: int) -> str:
    return hmac.new(secret, f"{run_id}:{person_id}".encode(), hashlib.sha256).hexdigest()


def invite_key(run_id: int, person_id: int) -> str:
    return f"pulse-invite:{run_id}:{person_id}"


def reminder_key(run_id: int, person_id: int, number: int) -> str:
    return f"pulse-remind:{run_id}:{person_id}:{number}"


def answered_key(run_id: int, person_id: int) -> str:
    return f"pulse-answered:{run_id}:{person_id}"


# --- local times -------------------------------------------------------------------------------------


IsHoliday = Callable[[date, str], bool]


def _working_day(day: date, tz_name: str, is_holiday: IsHoliday) -> bool:
    return day.weekday() < 5 and not is_holiday(day, tz_name)


def _next_working_day(day: date, tz_name: str, is_holiday: IsHoliday) -> date:
    for _attempt in range(31):
        if _working_day(day, tz_name, is_holiday):
            return day
        day += timedelta(days=1)
    return day


def invite_time(opened_at: datetime, tz_name: str, settings: Settings, is_holiday: IsHoliday) -> datetime:
    """When the invitation reaches someone in `tz_name` (naive UTC): now if it's their working day between
    `nudge_hour` and 17:00, else `nudge_hour` on their next working day. Never at 3 am."""
    tz = zone_or_utc(tz_name)
    local = opened_at.replace(tzinfo=UTC).astimezone(tz)
    day = local.date()
    for _attempt in range(31):
        if _working_day(day, tz_name, is_holiday):
            start = datetime.combine(day, time(settings.nudge_hour), tzinfo=tz)
            end = datetime.combine(day, time(max(WORKDAY_END_HOUR, settings.nudge_hour + 1)), tzinfo=tz)
            if local < end:
                return to_naive_utc(max(local, start))
        day += timedelta(days=1)
    return opened_at


def reminder_times(
    invited_at: datetime, tz_name: str, settings: Settings, is_holiday: IsHoliday
) -> list[datetime]:
    """Reminder n at `pulse_reminder_days[n]` days after the invitation, at `nudge_hour` local (naive UTC).

    A day off (weekend, holiday) moves the reminder back to the working day before it, unless that is no
    later than the invitation or the previous reminder; then it moves forward. So with the defaults
    (+3, +5), a Monday invitation is followed up on Thursday and Friday, not on a Saturday nor on the
    Monday the run closes.
    """
    tz = zone_or_utc(tz_name)
    invited_day = invited_at.replace(tzinfo=UTC).astimezone(tz).date()
    earliest = invited_day
    times: list[datetime] = []
    for days in settings.pulse_reminder_days:
        day = invited_day + timedelta(days=days)
        while day > earliest and not _working_day(day, tz_name, is_holiday):
            day -= timedelta(days=1)
        if day <= earliest:
            day = _next_working_day(earliest + timedelta(days=1), tz_name, is_holiday)
        earliest = day
        times.append(to_naive_utc(datetime.combine(day, time(settings.nudge_hour), tzinfo=tz)))
    return times


def answer_day(moment: datetime, settings: Settings) -> datetime:
    """The day of naive-UTC `moment` in the organisation's time zone, as that date at 00:00.

    A day, not an instant: `PulseInvitation.answered_at` (the day by whose end someone had answered) and
    `PulseResponse.submitted_at` (the day its run opened) are such days.
    """
    local = moment.replace(tzinfo=UTC).astimezone(settings.tz)
    return datetime.combine(local.date(), time(0))


def local_date_label(moment: datetime, tz_name: str) -> str:
    """`Thursday 5 March` for naive-UTC `moment` in `tz_name`, in the current language."""
    local = moment.replace(tzinfo=UTC).astimezone(zone_or_utc(tz_name))
    return format_day(local.date())


def _reachable() -> list[ColumnElement[bool]]:
    return [
        Person.is_active.is_(True),
        Person.erased_at.is_(None),
        Person.slack_user_id.is_not(None),
        Person.unreachable_reason.is_(None),
    ]


def _in_language(library: Library, survey_id: str, lang: str | None) -> Survey | None:
    """The survey with its title, questions, scale and options in `lang` where translated (same ids)."""
    return library.localized(lang).surveys.get(survey_id)


def _card(run: PulseRun, survey: Survey | None, tz_name: str, settings: Settings) -> PulseCard:
    return PulseCard(
        run_id=run.id,
        title=survey.title if survey else _("Pulse survey"),
        questions=len(survey.questions) if survey else 0,
        closes_on=local_date_label(run.closes_at, tz_name),
        min_group_size=settings.min_group_size,
    )


# --- opening a run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedRun:
    run_id: int
    survey_id: str
    invited: int
    closes_at: datetime


def open_runs(session: Session, now: datetime) -> list[PulseRun]:
    stmt = (
        select(PulseRun).where(PulseRun.closed_at.is_(None), PulseRun.closes_at > now).order_by(PulseRun.id)
    )
    return list(session.scalars(stmt))


def find_survey(library: Library, survey_id: str | None) -> Survey:
    if not library.surveys:
        raise UsageError(_("the content library has no pulse survey (add one under pulses/)."))
    if survey_id is None:
        return library.default_survey()
    survey = library.surveys.get(survey_id)
    if survey is None:
        known = ", ".join(sorted(library.surveys))
        raise UsageError(
            _("no pulse survey {survey!r} in the content library (surveys: {known}).").format(
                survey=survey_id, known=known
            )
        )
    return survey


def open_run(
    session: Session,
    *,
    library: Library,
    settings: Settings,
    now: datetime,
    survey_id: str | None = None,
    opened_by: str = "cli",
) -> OpenedRun:
    """Open a run of the survey now and queue an invitation for every active, reachable person.

    UsageError if that survey already has an open run (one at a time keeps reminders and figures clear).
    """
    survey = find_survey(library, survey_id)
    for run in open_runs(session, now):
        if run.survey_id == survey.id:
            raise UsageError(
                _(
                    "pulse run #{run} of {survey!r} is still open until {day}; it must close before another "
                    "starts."
                ).format(run=run.id, survey=survey.id, day=local_date_label(run.closes_at, settings.timezone))
            )
    run = PulseRun(
        survey_id=survey.id,
        opened_at=now,
        closes_at=now + timedelta(days=settings.pulse_close_days),
        opened_by=opened_by[:32],
    )
    session.add(run)
    session.flush()
    invited = _invite_everyone(session, run, survey, library, settings)
    log.info("opened pulse run %s (%s): %s invited", run.id, survey.id, invited)
    return OpenedRun(run.id, survey.id, invited, run.closes_at)


def _invite_everyone(
    session: Session, run: PulseRun, survey: Survey, library: Library, settings: Settings
) -> int:
    """One INSERT ... SELECT for the invitations, then one queued DM each at the person's local time."""
    people = select(literal(run.id), Person.id, Person.team_id, literal(run.opened_at), literal(0)).where(
        *_reachable(),
        # Only teams an administrator decided: a self-chosen team could be joined to single someone out.
        Person.team_source.in_((TeamSource.ROSTER, TeamSource.CHANGE_MANAGER)),
    )
    session.execute(
        insert(PulseInvitation).from_select(
            ["run_id", "person_id", "team_id", "invited_at", "reminders_sent"], people
        )
    )
    tz = Person.effective_timezone(settings.timezone)
    rows = session.execute(
        select(Person.id, Person.slack_user_id, tz, Person.locale, Person.slack_locale)
        .join(PulseInvitation, PulseInvitation.person_id == Person.id)
        .where(PulseInvitation.run_id == run.id)
    ).all()
    by_zone: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for person_id, user_id, tz_name, roster_locale, slack_locale in rows:
        lang = locale_of(roster_locale, slack_locale, settings)
        by_zone[(tz_name, lang)].append((person_id, str(user_id)))
    for (tz_name, lang), members in by_zone.items():
        send_at = invite_time(run.opened_at, tz_name, settings, library.is_holiday)
        with use_language(lang):  # the bot's words and the closing date in the recipient's language
            card = _card(run, _in_language(library, survey.id, lang), tz_name, settings)
            text, body = blocks.invitation_text(card), blocks.invitation_blocks(card)
        for person_id, user_id in members:
            outbox.enqueue(
                session,
                key=invite_key(run.id, person_id),
                kind=INVITE_KIND,
                channel=user_id,
                text=text,
                blocks=body,
                person_id=person_id,
                not_before=send_at,
            )
    return len(rows)


# --- answering ---------------------------------------------------------------------------------------


class PulseUnavailable(Exception):
    """The person cannot answer this run; `str(error)` is the polite sentence to show them."""


class InvalidAnswers(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{q}: {m}" for q, m in errors.items()))
        self.errors = errors  # question id -> message shown under that question


@dataclass(frozen=True)
class AnswerForm:
    survey: Survey
    run_id: int
    closes_on: str
    previous: dict[str, int | str]  # the person's own earlier answers (only ever shown to them)


def _answerable(
    session: Session, run_id: int, person: Person, library: Library, settings: Settings, now: datetime
) -> tuple[PulseRun, PulseInvitation, Survey]:
    run = session.get(PulseRun, run_id)
    if run is None:
        raise PulseUnavailable(_("This pulse survey no longer exists. Thank you for wanting to answer!"))
    tz_name = person.effective_timezone(settings.timezone)
    if not run.is_open(now):
        closed = run.closed_at or run.closes_at
        raise PulseUnavailable(
            _(
                "This pulse closed on {date}, so answers are no longer collected. "
                "Thank you all the same; the next one is coming soon."
            ).format(date=local_date_label(closed, tz_name))
        )
    invitation = session.scalars(
        select(PulseInvitation).where(
            PulseInvitation.run_id == run.id, PulseInvitation.person_id == person.id
        )
    ).first()
    if invitation is None:
        raise PulseUnavailable(
            _("This pulse went out before you joined, so it isn't open to you. You'll get the next one.")
        )
    survey = library.surveys.get(run.survey_id)
    if survey is None:
        raise PulseUnavailable(
            _("This pulse's questions were removed from the content library, so it can't be answered.")
        )
    return run, invitation, survey


def answer_form(
    session: Session, *, run_id: int, person: Person, library: Library, settings: Settings, now: datetime
) -> AnswerForm:
    """What the survey modal shows this person (PulseUnavailable if they cannot answer)."""
    run, _, survey = _answerable(session, run_id, person, library, settings, now)
    key = respondent_key(pulse_secret(session, settings), run.id, person.id)
    previous: dict[str, int | str] = {}
    stmt = (
        select(PulseAnswer.question_id, PulseAnswer.value, PulseAnswer.text)
        .join(PulseResponse, PulseResponse.id == PulseAnswer.response_id)
        .where(PulseResponse.run_id == run.id, PulseResponse.respondent == key)
    )
    for question_id, value, text in session.execute(stmt):
        if value is not None:
            previous[question_id] = value
        elif text:
            previous[question_id] = text
    tz_name = person.effective_timezone(settings.timezone)
    shown = _in_language(library, survey.id, person_locale(person, settings)) or survey
    return AnswerForm(shown, run.id, local_date_label(run.closes_at, tz_name), previous)


def _parse(question: Question, raw: str | None) -> tuple[int | None, str | None, str | None]:
    """(value, text, error) for one raw answer."""
    raw = raw.strip() if raw is not None else None
    if question.kind == "text":
        return None, (raw[:COMMENT_MAX] if raw else None), None
    if not raw:
        return None, None, (_("Please choose an answer.") if question.required else None)
    allowed = range(1, 6) if question.kind == "scale" else range(len(question.options))
    if not raw.lstrip("-").isdigit() or int(raw) not in allowed:
        return None, None, _("Please choose one of the answers shown.")
    return int(raw), None, None


@dataclass(frozen=True)
class Recorded:
    first: bool  # False when this replaced an earlier answer
    closes_on: str


def record_answers(
    session: Session,
    *,
    run_id: int,
    person: Person,
    raw: Mapping[str, str | None],
    library: Library,
    settings: Settings,
    now: datetime,
) -> Recorded:
    """Store (or replace) this person's answers, and nothing else (see the module's docstring).

    The invitation is marked answered, and its message edited, by the next day's batch
    (bot.pulses.confirm). Raises InvalidAnswers (question id -> message) or PulseUnavailable
    (closed, not invited, ...).
    """
    run, invitation, survey = _answerable(session, run_id, person, library, settings, now)
    rows: list[dict[str, object]] = []
    errors: dict[str, str] = {}
    for question in survey.questions:
        value, text, error = _parse(question, raw.get(question.id))
        if error:
            errors[question.id] = error
        elif value is not None or text is not None:
            rows.append(
                {
                    "question_id": question.id,
                    "stage": question.stage,
                    "metric": question.metric,
                    "value": value,
                    "text": text,
                }
            )
    if errors:
        raise InvalidAnswers(errors)
    key = respondent_key(pulse_secret(session, settings), run.id, person.id)
    day = answer_day(run.opened_at, settings)
    first = insert_ignore(
        session,
        PulseResponse,
        [
            {
                "id": random_key(),
                "run_id": run.id,
                "respondent": key,
                "team_id": invitation.team_id,
                "submitted_at": day,
            }
        ],
        conflict=["run_id", "respondent"],
    )
    response_id, team_id = session.execute(
        select(PulseResponse.id, PulseResponse.team_id).where(
            PulseResponse.run_id == run.id, PulseResponse.respondent == key
        )
    ).one()
    session.execute(delete(PulseAnswer).where(PulseAnswer.response_id == response_id))
    if rows:
        same = {"response_id": response_id, "run_id": run.id, "team_id": team_id}  # the response's
        session.execute(insert(PulseAnswer), [{"id": random_key(), **same, **row} for row in rows])
    session.flush()
    card = _card(run, survey, person.effective_timezone(settings.timezone), settings)
    return Recorded(first=bool(first), closes_on=card.closes_on)


# --- status ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStatus:
    run_id: int
    survey_id: str
    title: str
    is_open: bool
    closes_at: datetime
    invited: int
    answered: int
    teams: list[blocks.TeamCount]
    opened_at: datetime | None = None
    closed_at: datetime | None = None


def run_status(session: Session, *, library: Library, now: datetime) -> RunStatus | None:
    """The latest run with invited and answered counts per team (counts only), or None if none yet."""
    run = session.scalars(
        select(PulseRun).order_by(PulseRun.opened_at.desc(), PulseRun.id.desc()).limit(1)
    ).first()
    return status_of(session, run, library=library, now=now) if run is not None else None


def recent_runs(session: Session, *, library: Library, now: datetime, limit: int = 12) -> list[RunStatus]:
    """The newest runs (newest first), each with its counts per team."""
    runs = session.scalars(
        select(PulseRun).order_by(PulseRun.opened_at.desc(), PulseRun.id.desc()).limit(limit)
    ).all()
    return [status_of(session, run, library=library, now=now) for run in runs]


def status_of(session: Session, run: PulseRun, *, library: Library, now: datetime) -> RunStatus:
    """A run with invited and answered counts per team (counts only).

    Answered counts the answer sheets (each carries the team its person was invited with): invitations
    are marked answered only by the next day's batch.
    """
    invited = dict(
        session.execute(
            select(PulseInvitation.team_id, func.count())
            .where(PulseInvitation.run_id == run.id)
            .group_by(PulseInvitation.team_id)
        ).all()
    )
    answered = dict(
        session.execute(
            select(PulseResponse.team_id, func.count())
            .where(PulseResponse.run_id == run.id)
            .group_by(PulseResponse.team_id)
        ).all()
    )
    team_ids = [team for team in invited if team is not None]
    names: dict[int | None, str] = dict(
        session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids))).all()
    )
    teams = [
        blocks.TeamCount(names.get(team) or "(no team)", int(n), int(answered.get(team, 0)))
        for team, n in invited.items()
    ]
    teams.sort(key=lambda t: (t.team == "(no team)", t.team.casefold()))
    survey = library.surveys.get(run.survey_id)
    return RunStatus(
        run.id,
        run.survey_id,
        survey.title if survey else run.survey_id,
        run.is_open(now),
        run.closes_at,
        sum(t.invited for t in teams),
        sum(t.answered for t in teams),
        teams,
        opened_at=run.opened_at,
        closed_at=run.closed_at,
    )


def close_run(session: Session, run_id: int, *, now: datetime) -> bool:
    """Close an open run now (answers after this are refused politely, reminders stop); False if there is
    no such run or it had closed already."""
    run = session.get(PulseRun, run_id, with_for_update=True)
    if run is None or run.closed_at is not None:
        return False
    run.closed_at = now
    run.closes_at = min(run.closes_at, now)
    log.info("closed pulse run %s early", run.id)
    return True


# --- scheduled work ----------------------------------------------------------------------------------


def open_due_runs(session: Session, *, library: Library, settings: Settings, now: datetime) -> int:
    """Open a run of each survey whose cadence has come round; returns how many invitations were queued.

    Due when the org-local date is at least `cadence_weeks` weeks after the survey's last run opened (or it
    never ran), on a working day at or after `nudge_hour`, and somebody is there to ask. A JobRun row per
    survey and due date makes sure two instances ticking at once open it once.
    """
    tz_name = settings.timezone
    local = now.replace(tzinfo=UTC).astimezone(settings.tz)
    if not _working_day(local.date(), tz_name, library.is_holiday) or local.hour < settings.nudge_hour:
        return 0
    if not session.scalar(select(func.count()).select_from(Person).where(*_reachable())):
        return 0
    queued = 0
    for survey in library.surveys.values():
        chosen = calendar.scheduled_date(session, survey.id)
        last = calendar.last_opened(session, survey.id)
        if chosen is not None:  # a change manager set the date of the next run
            if local.date() < chosen:
                continue
            slot = f"{survey.id}:set:{chosen.isoformat()}"
        elif survey.cadence_weeks <= 0:
            continue
        elif last is not None:
            due = calendar.next_run_date(session, survey, settings)
            if due is None or local.date() < due:
                continue
            slot = f"{survey.id}:{due.isoformat()}"
        else:
            slot = f"{survey.id}:first"
        if any(run.survey_id == survey.id for run in open_runs(session, now)):
            continue
        if not claim_slot(session, OPEN_JOB, slot[:64]):
            continue
        queued += open_run(
            session, library=library, settings=settings, now=now, survey_id=survey.id, opened_by="schedule"
        ).invited
        calendar.schedule(session, survey.id, None)
    return queued


def _answered_keys(session: Session, run_id: int) -> set[str]:
    """The respondent keys of the run's answer sheets (to tell who answered before the daily batch)."""
    return set(session.scalars(select(PulseResponse.respondent).where(PulseResponse.run_id == run_id)))


def _invitation_sent(run_id: int) -> ColumnElement[bool]:
    """The person's invitation to `run_id` reached Slack (not still queued, failed or skipped)."""
    key = literal(invite_key(run_id, 0).removesuffix("0")) + cast(PulseInvitation.person_id, String)
    return exists().where(OutboxMessage.key == key, OutboxMessage.state == OutboxState.SENT)


def send_reminders(session: Session, *, library: Library, settings: Settings, now: datetime) -> int:
    """Queue reminder n to everyone invited who has not answered, once its local time has come.

    Someone who answered today is not marked on their invitation yet (the daily batch does that), so
    each candidate's respondent key is recomputed and looked up among the run's sheets. Only people whose
    invitation was sent are reminded: a reminder of a survey someone never got (their invitation failed,
    or is still queued) would make no sense; once it is sent, the reminders due from then on go.
    """
    if not settings.pulse_reminder_days:
        return 0
    queued = 0
    tz = Person.effective_timezone(settings.timezone)
    total = len(settings.pulse_reminder_days)
    runs = open_runs(session, now)
    secret = pulse_secret(session, settings) if runs else b""
    for run in runs:
        waiting = [
            PulseInvitation.run_id == run.id,
            PulseInvitation.answered_at.is_(None),
            PulseInvitation.reminders_sent < total,
            *_reachable(),
            _invitation_sent(run.id),
        ]
        base = (
            select(
                PulseInvitation.id, Person.id, Person.slack_user_id, tz, Person.locale, Person.slack_locale
            )
            .join(Person, Person.id == PulseInvitation.person_id)
            .where(*waiting)
        )
        zones = session.scalars(
            select(tz)
            .join(PulseInvitation, PulseInvitation.person_id == Person.id)
            .where(*waiting)
            .distinct()
        ).all()
        due_zones: dict[int, list[str]] = defaultdict(list)
        for tz_name in zones:
            number = _due_reminder(run, tz_name, settings, library, now)
            if number:
                due_zones[number].append(tz_name)
        answered = _answered_keys(session, run.id) if due_zones else set()
        for number, names in sorted(due_zones.items()):
            found = [
                row
                for row in session.execute(
                    base.where(PulseInvitation.reminders_sent < number, tz.in_(names))
                ).all()
                if respondent_key(secret, run.id, row[1]) not in answered
            ]
            for _invitation, person_id, user_id, tz_name, roster_locale, slack_locale in found:
                lang = locale_of(roster_locale, slack_locale, settings)
                with use_language(lang):
                    card = _card(run, _in_language(library, run.survey_id, lang), tz_name, settings)
                    text, body = blocks.reminder_text(card), blocks.reminder_blocks(card)
                if outbox.enqueue(
                    session,
                    key=reminder_key(run.id, person_id, number),
                    kind=REMINDER_KIND,
                    channel=str(user_id),
                    text=text,
                    blocks=body,
                    person_id=person_id,
                ):
                    queued += 1
            ids = [row[0] for row in found]
            for chunk in range(0, len(ids), 500):
                session.execute(
                    update(PulseInvitation)
                    .where(PulseInvitation.id.in_(ids[chunk : chunk + 500]))
                    .values(reminders_sent=number)
                )
    return queued


def _due_reminder(run: PulseRun, tz_name: str, settings: Settings, library: Library, now: datetime) -> int:
    """The highest reminder number (1-based) due now in `tz_name`, 0 if none; a missed one is not sent late
    once the next is due, and none is sent at or after the close."""
    invited = invite_time(run.opened_at, tz_name, settings, library.is_holiday)
    due = 0
    for number, at in enumerate(reminder_times(invited, tz_name, settings, library.is_holiday), start=1):
        if at <= now and at < run.closes_at:
            due = number
    return due


def close_due_runs(session: Session, *, now: datetime) -> int:
    """Close every run whose time is up (answers after this are refused politely). Returns how many."""
    result = session.execute(
        update(PulseRun)
        .where(PulseRun.closed_at.is_(None), PulseRun.closes_at <= now)
        .values(closed_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def settle_runs(
    session: Session, settings: Settings, now: datetime, *, limit: int | None = tallies.PER_TICK
) -> list[int]:
    """Store the survey tallies of the runs closed a day ago or more (`bot.metrics.tallies`) and, without
    AI, the themes of the newest one's comments, which the next digests show; return the runs' ids."""
    settled = tallies.store_settled(session, now, limit=limit)
    if settled and not settings.ai_enabled:
        comments.store_themes(session, settled[-1], settings)
    return settled


def close_job(ctx: JobContext) -> int:
    """Close the runs whose time is up, and settle those closed a day ago or more (`settle_runs`)."""
    close_due_runs(ctx.session, now=ctx.now)
    settle_runs(ctx.session, ctx.settings, ctx.now)
    return 0


def open_job(ctx: JobContext) -> int:
    return open_due_runs(ctx.session, library=ctx.library, settings=ctx.settings, now=ctx.now)


def remind_job(ctx: JobContext) -> int:
    return send_reminders(ctx.session, library=ctx.library, settings=ctx.settings, now=ctx.now)
