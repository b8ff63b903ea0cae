"""The daily batch that marks pulse invitations answered and edits their messages to "Answered ✓".

Saving an answer writes the answer sheet only (`bot.pulses.service`): marking the invitation and queueing
its edit at that moment would stamp the answer with its second, in rows that name the person. So the first
tick after the organisation's midnight confirms, in one transaction and in person-id order, every sheet
whose invitation is not marked yet: `answered_at` becomes the day that just ended, and the edit is queued.

On PostgreSQL the batch also rewrites the runs' sheets and answers in the order of their random keys
(`_rewrite_in_key_order`), so neither their order on disk (a plain SELECT, a `pg_dump`) nor their
transaction ids (`xmin`) follow the order of answering. SQLite lists a WITHOUT ROWID table in key order.
See docs/privacy.md, "Unlinkable answers".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.content import Library
from bot.i18n import use_language
from bot.jobs import JobContext, claim_slot
from bot.models import OutboxMessage, Person, PulseAnswer, PulseInvitation, PulseResponse, PulseRun
from bot.people.locale import locale_of
from bot.pulses import blocks
from bot.pulses.service import (
    ANSWERED_KIND,
    _card,
    _in_language,
    answer_day,
    answered_key,
    invite_key,
    pulse_secret,
    respondent_key,
)

CONFIRM_JOB = "pulse-confirm"
# A run closed longer ago than this has had every day of its answers confirmed (with days to spare for a
# scheduler that was down), so the batch no longer recomputes the keys of its non-respondents.
CONFIRM_WINDOW = timedelta(days=8)
_CHUNK = 500


def confirm_answers(session: Session, *, library: Library, settings: Settings, now: datetime) -> int:
    """Mark the invitations of everyone who answered before today (org time) and queue their edits.

    Once a day across instances (a JobRun slot per org-local date). Returns how many edits were queued.
    """
    today = answer_day(now, settings)
    yesterday = today - timedelta(days=1)
    runs = session.scalars(
        select(PulseRun)
        .where(func.coalesce(PulseRun.closed_at, PulseRun.closes_at) > now - CONFIRM_WINDOW)
        .order_by(PulseRun.id)
    ).all()
    if not runs or not claim_slot(session, CONFIRM_JOB, today.date().isoformat()):
        return 0
    secret = pulse_secret(session, settings)
    queued = sum(_confirm_run(session, run, secret, yesterday, library, settings) for run in runs)
    if session.get_bind().dialect.name == "postgresql":
        _rewrite_in_key_order(session, [run.id for run in runs])
    return queued


def _rewrite_in_key_order(session: Session, run_ids: list[int]) -> None:
    """Delete the runs' sheets and answers and insert them again in key order, in this transaction.

    Afterwards they share one transaction id and, appended to the tables in key order, one order on disk
    that says nothing of time. (The old row versions stay in the table's files until vacuumed, like any
    deleted row: see README, "What a copy of the database can and cannot reveal".)
    """
    sheets = ", ".join(column.name for column in PulseResponse.__table__.columns)
    answers = ", ".join(column.name for column in PulseAnswer.__table__.columns)
    runs = {"runs": run_ids}
    # Someone changing their answer meanwhile waits for this transaction (readers do not): the copy below
    # then holds their change, instead of writing their old answers back over it.
    session.execute(text("LOCK TABLE pulse_responses, pulse_answers IN SHARE ROW EXCLUSIVE MODE"))
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE pulse_sheets_again ON COMMIT DROP AS SELECT {sheets} "
            "FROM pulse_responses WHERE run_id = ANY(:runs)"
        ),
        runs,
    )
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE pulse_answers_again ON COMMIT DROP AS SELECT {answers} "
            "FROM pulse_answers WHERE response_id IN (SELECT id FROM pulse_sheets_again)"
        )
    )
    # Deleting a sheet deletes its answers (ON DELETE CASCADE).
    session.execute(text("DELETE FROM pulse_responses WHERE run_id = ANY(:runs)"), runs)
    session.execute(
        text(f"INSERT INTO pulse_responses ({sheets}) SELECT {sheets} FROM pulse_sheets_again ORDER BY id")
    )
    session.execute(
        text(f"INSERT INTO pulse_answers ({answers}) SELECT {answers} FROM pulse_answers_again ORDER BY id")
    )


def _confirm_run(
    session: Session, run: PulseRun, secret: bytes, day: datetime, library: Library, settings: Settings
) -> int:
    """Mark `day` on the invitation of everyone whose sheet is in (a sheet saved in the minutes between
    midnight and the batch counts for the day before: the day is all the batch can know of it)."""
    sheets = set(session.scalars(select(PulseResponse.respondent).where(PulseResponse.run_id == run.id)))
    if not sheets:
        return 0
    waiting = session.execute(
        select(
            PulseInvitation.id,
            PulseInvitation.person_id,
            Person.effective_timezone(settings.timezone),
            Person.locale,
            Person.slack_locale,
        )
        .join(Person, Person.id == PulseInvitation.person_id)
        .where(PulseInvitation.run_id == run.id, PulseInvitation.answered_at.is_(None))
        .order_by(PulseInvitation.person_id)
    ).all()
    ids: list[int] = []
    answered: list[tuple[int, str, str]] = []  # (person id, time zone, language), in person-id order
    for invitation_id, person_id, tz_name, roster_locale, slack_locale in waiting:
        if person_id is not None and respondent_key(secret, run.id, person_id) in sheets:
            ids.append(invitation_id)
            answered.append((person_id, tz_name, locale_of(roster_locale, slack_locale, settings)))
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            update(PulseInvitation)
            .where(PulseInvitation.id.in_(ids[start : start + _CHUNK]))
            .values(answered_at=day)
        )
    return _queue_edits(session, run, answered, library, settings)


def _queue_edits(
    session: Session,
    run: PulseRun,
    answered: list[tuple[int, str, str]],
    library: Library,
    settings: Settings,
) -> int:
    """The "Answered ✓" edit of each invitation message that was queued (erased people's are gone)."""
    keys = [invite_key(run.id, person_id) for person_id, _, _ in answered]
    invited: set[str] = set()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        invited.update(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(chunk))))
    queued = 0
    for person_id, tz_name, lang in answered:
        if invite_key(run.id, person_id) not in invited:
            continue
        with use_language(lang):
            card = _card(run, _in_language(library, run.survey_id, lang), tz_name, settings)
            text, body = blocks.answered_text(card), blocks.answered_blocks(card)
        queued += outbox.enqueue_update(
            session,
            key=answered_key(run.id, person_id),
            update_of=invite_key(run.id, person_id),
            text=text,
            blocks=body,
            kind=ANSWERED_KIND,
        )
    return queued


def confirm_job(ctx: JobContext) -> int:
    return confirm_answers(ctx.session, library=ctx.library, settings=ctx.settings, now=ctx.now)
