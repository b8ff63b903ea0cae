"""When each survey's next pulse run opens: its cadence from the library (`cadence_weeks` after the last
run opened), unless a change manager set the date of the next run (the dashboard's Pulses page), which
then wins once and is forgotten when that run opens. Kept in `app_state` as `pulse-next:<survey id>`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.content import Survey
from bot.db import insert_ignore
from bot.models import AppState, PulseRun

PREFIX = "pulse-next:"


def _key(survey_id: str) -> str:
    return f"{PREFIX}{survey_id}"[:64]


def scheduled_date(session: Session, survey_id: str) -> date | None:
    """The date a change manager set for the survey's next run, if any."""
    raw = session.scalar(select(AppState.value).where(AppState.key == _key(survey_id)))
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def schedule(session: Session, survey_id: str, day: date | None) -> None:
    """Open the survey's next run on `day` (org-local, at the nudge hour of a working day from then);
    None goes back to the survey's cadence."""
    session.execute(delete(AppState).where(AppState.key == _key(survey_id)))
    if day is not None:
        session.flush()
        insert_ignore(
            session, AppState, [{"key": _key(survey_id), "value": day.isoformat()}], conflict=["key"]
        )


def last_opened(session: Session, survey_id: str) -> datetime | None:
    return session.scalar(select(func.max(PulseRun.opened_at)).where(PulseRun.survey_id == survey_id))


def next_run_date(session: Session, survey: Survey, settings: Settings) -> date | None:
    """The org-local date the survey's next run is due: the date set for it, else its cadence after the
    last run (None: the survey has no cadence and no date set; the date may be today or past: due now)."""
    chosen = scheduled_date(session, survey.id)
    if chosen is not None:
        return chosen
    if survey.cadence_weeks <= 0:
        return None
    last = last_opened(session, survey.id)
    if last is None:
        return None
    return last.replace(tzinfo=UTC).astimezone(settings.tz).date() + timedelta(weeks=survey.cadence_weeks)
