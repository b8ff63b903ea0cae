"""`adoptbot forget SLACK_USER_ID`: erase one person's personal data (right to erasure), counts kept true.

One transaction, so it happens entirely or not at all. The person's row stays as an anonymous, inactive
tombstone (`erased_at` set) that the records saying only *that* something happened point at (nudges,
activity, invitations, broadcast receipts), so every metric of past weeks stays the same. Approved wins
keep counting with no author, text or tool; other wins are deleted. Pulse sheets are re-keyed at random
and their comments erased. Their weekly usage facts (imported usage reports) are deleted. Broadcasts
they sent stop naming them (unsent ones are cancelled). Messages: `bot.forget.outbox_rows`. No trace of
the Slack ID is kept, so a second run finds nothing (exit 2).
The full list: docs/privacy.md, "Data kept and forgotten".

Concurrency: the person's row is locked first. On PostgreSQL a tick that had already picked them before
the erasure committed can still queue one message after it; it is addressed to the Slack ID, so running
`forget` again finds and cancels it (exit 0 then).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, SQLColumnExpression, delete, func, or_, select, update
from sqlalchemy.orm import Session

from bot import audit
from bot.clock import utcnow
from bot.config import Settings
from bot.errors import UsageError
from bot.forget.outbox_rows import scrub_messages
from bot.models import (
    Activity,
    AiCache,
    AppState,
    AuditAction,
    Broadcast,
    BroadcastRecipient,
    BroadcastStatus,
    NudgeDelivery,
    Person,
    PulseAnswer,
    PulseInvitation,
    PulseResponse,
    PulseRun,
    TeamLead,
    UsageFact,
    Win,
    WinStatus,
)
from bot.pulses.service import SECRET_KEY, respondent_key

ERASED_WIN_TEXT = "(erased at the author's request)"
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DRAFT_OR_SCHEDULED = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED)
_KEPT_NOUNS = {
    "nudges": ("nudge received", "nudges received"),
    "actions": ("action (engagement)", "actions (engagement)"),
    "invitations": ("pulse invitation", "pulse invitations"),
    "receipts": ("broadcast receipt", "broadcast receipts"),
}


@dataclass
class ForgetReport:
    """What `forget` erased, per kind (the CLI prints `lines()`)."""

    who: str
    person_id: int | None = None  # the tombstone's id
    wins_kept: int = 0
    hours_kept: float = 0.0
    wins_deleted: int = 0
    reviews: int = 0
    comments: int = 0
    answer_sheets: int = 0
    runs_opened: int = 0
    broadcasts: int = 0
    broadcasts_cancelled: int = 0
    messages_cleared: int = 0
    messages_cancelled: int = 0
    messages_redacted: int = 0
    slack_edits: int = 0
    usage_facts: int = 0  # weekly usage facts (licence, activity) from imported usage reports
    kept: dict[str, int] = field(default_factory=dict)
    admin: bool = False  # the ID is in ADOPTBOT_ADMINS, which only the environment can change

    @property
    def erased_anything(self) -> bool:
        return self.person_id is not None or any(
            (self.reviews, self.runs_opened, self.broadcasts, self.messages_cleared, self.messages_redacted)
        )

    def lines(self) -> list[str]:
        out = []
        if self.person_id is not None:
            out.append(
                "person: name, email, Slack ID, time zones, locales, Slack status, role, tools, rights and "
                "leads removed "
                f"(kept as anonymous record #{self.person_id})"
            )
        if self.wins_kept or self.wins_deleted:
            parts = []
            if self.wins_kept:
                parts.append(
                    f"{_n(self.wins_kept, 'approved win')} still counted "
                    f"({self.hours_kept:g} h a week saved), text, tool and links erased"
                )
            if self.wins_deleted:
                parts.append(f"{_n(self.wins_deleted, 'win')} not approved deleted")
            out.append("wins: " + "; ".join(parts))
        if self.usage_facts:
            out.append(
                f"usage: {_n(self.usage_facts, 'weekly usage fact')} from imported usage reports "
                "(licence, activity) erased"
            )
        if self.reviews:
            out.append(f"reviews: {_n(self.reviews, 'win')} they decided no longer say who did")
        if self.answer_sheets or self.comments:
            parts = [f"{_n(self.comments, 'comment')} erased"] if self.comments else []
            if self.answer_sheets:
                parts.append(f"{_n(self.answer_sheets, 'answer sheet')} no longer linkable to anyone")
            out.append("pulse: " + "; ".join(parts))
        if self.runs_opened:
            out.append(f"pulse runs: {_n(self.runs_opened, 'run')} they opened no longer name them")
        if self.broadcasts:
            cancelled = (
                f" ({self.broadcasts_cancelled} not sent yet: cancelled)" if self.broadcasts_cancelled else ""
            )
            out.append(
                f"broadcasts: {_n(self.broadcasts, 'broadcast')} they sent no longer name them{cancelled}"
            )
        if self.messages_cleared or self.messages_redacted:
            parts = []
            if self.messages_cleared:
                parts.append(
                    f"{_n(self.messages_cleared, 'stored message')} to or about them cleared "
                    f"({self.messages_cancelled} not sent yet: cancelled)"
                )
            if self.messages_redacted:
                parts.append(f"{_n(self.messages_redacted, 'message')} to others no longer name them")
            out.append("messages: " + "; ".join(parts))
        if self.slack_edits:
            out.append(
                f"Slack: {_n(self.slack_edits, 'bot message')} showing their wins will be replaced by a "
                "removal note at the next send (`adoptbot tick`, or the running `adoptbot serve`)"
            )
        return out

    def kept_line(self) -> str | None:
        shown = [_n(n, *_KEPT_NOUNS[what]) for what, n in self.kept.items() if n]
        if not shown:
            return None
        return "Kept without anything identifying, so past metrics stay the same: " + ", ".join(shown) + "."


def _n(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def parse_identifier(raw: str) -> tuple[str | None, str | None]:
    """(Slack user ID, email) from what was typed; UsageError for anything that is neither."""
    value = raw.strip()
    if "@" in value:
        if not _EMAIL.match(value):
            raise UsageError(f"{raw!r} is not a Slack user ID (like U0123ABCD) nor an email address.")
        return None, value.lower()
    slack_id = value.upper()
    if not _SLACK_ID.match(slack_id):
        raise UsageError(f"{raw!r} is not a Slack user ID (they look like U0123ABCD).")
    return slack_id, None


def forget(
    session: Session,
    who: str,
    *,
    settings: Settings,
    now: datetime | None = None,
    actor: str = audit.COMMAND_LINE,
) -> ForgetReport:
    """Erase the person `who` (Slack user ID, or the email of someone not linked to Slack yet) in this
    session's transaction, and everything that names them. UsageError (nothing changed) when no record
    mentions them: never known, or erased before."""
    now = now or utcnow()
    slack_id, email = parse_identifier(who)
    match = Person.slack_user_id == slack_id if slack_id else Person.email == email
    person = session.scalars(select(Person).where(match).with_for_update()).first()
    if person is not None and slack_id is None:
        slack_id = person.slack_user_id
    report = ForgetReport(
        who=slack_id or email or who.strip(), admin=bool(slack_id and slack_id in settings.admins)
    )
    person_id = person.id if person is not None else None
    name = person.name if person is not None else ""

    win_ids = _erase_wins(session, report, person_id)
    report.usage_facts = _erase_usage(session, person_id)
    _unlink_reviews(session, report, person_id, slack_id)
    _unlink_pulse_answers(session, report, person_id, slack_id, settings)
    broadcast_ids = _unlink_broadcasts(session, report, person_id, slack_id, now)
    counts = scrub_messages(
        session,
        person_id=person_id,
        slack_id=slack_id,
        name=name,
        win_ids=win_ids,
        broadcast_ids=broadcast_ids,
    )
    report.messages_cleared, report.messages_cancelled = counts.cleared, counts.cancelled
    report.messages_redacted, report.slack_edits = counts.redacted, counts.slack_edits
    if person is not None:
        _make_tombstone(session, person, now)
        report.person_id = person.id
        report.kept = _kept(session, person.id)
    if not report.erased_anything:
        raise UsageError(
            f"nothing to erase: no record mentions {report.who} (never known to Adoptbot, or already erased)."
        )
    audit.forget_actor(session, slack_id)
    whom = f"record #{report.person_id}" if report.person_id is not None else "no roster record"
    audit.record(session, actor=actor, action=AuditAction.ERASURE, detail=f"A person was erased ({whom}).")
    session.flush()
    return report


def _erase_wins(session: Session, report: ForgetReport, person_id: int | None) -> list[int]:
    if person_id is None:
        return []
    found = session.execute(
        select(Win.id, Win.status, Win.hours_per_week).where(Win.author_id == person_id)
    ).all()
    approved = [w.id for w in found if w.status == WinStatus.APPROVED]
    others = [w.id for w in found if w.status != WinStatus.APPROVED]
    if approved:
        session.execute(
            update(Win)
            .where(Win.id.in_(approved))
            .values(
                author_id=None,
                what=ERASED_WIN_TEXT,
                tool=None,
                polished=None,
                polish_offer=None,
                source_link=None,
                reject_reason=None,
                share="private",  # counted, never shown
            ),
            execution_options={"synchronize_session": False},
        )
    if others:
        # Not approved, so counted nowhere; deleting them also means nobody can approve one any more.
        session.execute(
            delete(Win).where(Win.id.in_(others)), execution_options={"synchronize_session": False}
        )
    report.wins_kept, report.wins_deleted = len(approved), len(others)
    report.hours_kept = round(sum(w.hours_per_week for w in found if w.status == WinStatus.APPROVED), 2)
    return [w.id for w in found]


def _erase_usage(session: Session, person_id: int | None) -> int:
    """Their weekly usage facts go: what a vendor's report said about one person is theirs alone."""
    if person_id is None:
        return 0
    result = session.execute(
        delete(UsageFact).where(UsageFact.person_id == person_id),
        execution_options={"synchronize_session": False},
    )
    return _rowcount(result)


def _unlink_reviews(
    session: Session, report: ForgetReport, person_id: int | None, slack_id: str | None
) -> None:
    who = _either(Win.reviewed_by, person_id, Win.reviewer_user_id, slack_id)
    if who is None:
        return
    result = session.execute(
        update(Win).where(who).values(reviewed_by=None, reviewer_user_id=None),
        execution_options={"synchronize_session": False},
    )
    report.reviews = _rowcount(result)


def _unlink_pulse_answers(
    session: Session, report: ForgetReport, person_id: int | None, slack_id: str | None, settings: Settings
) -> None:
    if slack_id:
        opened = session.execute(
            update(PulseRun).where(PulseRun.opened_by == slack_id).values(opened_by=None),
            execution_options={"synchronize_session": False},
        )
        report.runs_opened = _rowcount(opened)
    if person_id is None:
        return
    # Every run they were invited to: an answer given today is not marked on its invitation yet.
    runs = list(session.scalars(select(PulseInvitation.run_id).where(PulseInvitation.person_id == person_id)))
    secret = settings.secret or session.scalar(select(AppState.value).where(AppState.key == SECRET_KEY))
    if not runs or not secret:
        return
    keys = [respondent_key(secret.encode(), run_id, person_id) for run_id in runs]
    sheets = session.execute(
        select(PulseResponse.id, PulseResponse.run_id).where(
            PulseResponse.run_id.in_(runs), PulseResponse.respondent.in_(keys)
        )
    ).all()
    if not sheets:
        return
    session.execute(
        update(PulseResponse),
        [{"id": sheet.id, "respondent": secrets.token_hex(32)} for sheet in sheets],
        execution_options={"synchronize_session": False},
    )
    commented = session.execute(
        update(PulseAnswer)
        .where(PulseAnswer.response_id.in_([s.id for s in sheets]), PulseAnswer.text.is_not(None))
        .values(text=None)
        .returning(PulseAnswer.response_id),
        execution_options={"synchronize_session": False},
    ).all()
    run_of = {s.id: s.run_id for s in sheets}
    for run_id in sorted({run_of[row.response_id] for row in commented}):
        # The AI summary of that run's comments was written with theirs in it: it is made again without.
        session.execute(delete(AiCache).where(AiCache.key.like(f"pulse-comments:{run_id}:%")))
    report.answer_sheets, report.comments = len(sheets), len(commented)


def _unlink_broadcasts(
    session: Session, report: ForgetReport, person_id: int | None, slack_id: str | None, now: datetime
) -> list[int]:
    who = _either(Broadcast.sender_id, person_id, Broadcast.sender_user, slack_id)
    if who is None:
        return []
    found = session.execute(select(Broadcast.id, Broadcast.status).where(who)).all()
    if not found:
        return []
    ids = [b.id for b in found]
    waiting = [b.id for b in found if b.status in _DRAFT_OR_SCHEDULED]
    if waiting:
        session.execute(
            update(Broadcast)
            .where(Broadcast.id.in_(waiting), Broadcast.status.in_(_DRAFT_OR_SCHEDULED))
            .values(status=BroadcastStatus.CANCELLED, cancelled_at=now),
            execution_options={"synchronize_session": False},
        )
    session.execute(
        update(Broadcast)
        .where(Broadcast.id.in_(ids))
        .values(sender_id=None, sender_user=None, timezone=None),
        execution_options={"synchronize_session": False},
    )
    report.broadcasts, report.broadcasts_cancelled = len(ids), len(waiting)
    return ids


def _make_tombstone(session: Session, person: Person, now: datetime) -> None:
    if person.erased_at is None:
        if not person.is_active:
            # Not a member when erased, so never counted as one: an empty [created_at, erased_at) span.
            person.created_at = now
            person.team_id = None
        person.erased_at = now
    person.slack_user_id = None
    person.email = None
    person.external_id = None
    person.scim_user_name = None
    person.name = ""
    person.role = None
    person.timezone = None
    person.slack_timezone = None
    person.tools = None
    person.locale = None
    person.slack_locale = None
    person.is_active = False
    person.is_change_manager = False
    person.leads_all = False
    person.unreachable_reason = None
    person.paused_until = None
    person.away_until = None
    person.away_text = None
    person.nudge_level = 1
    person.started_on = None
    person.updated_at = now
    session.execute(delete(TeamLead).where(TeamLead.person_id == person.id))
    session.flush()


def _kept(session: Session, person_id: int) -> dict[str, int]:
    def count(column: SQLColumnExpression[int | None]) -> int:
        return int(session.scalar(select(func.count()).where(column == person_id)) or 0)  # FROM: its table

    return {
        "nudges": count(NudgeDelivery.person_id),
        "actions": count(Activity.person_id),
        "invitations": count(PulseInvitation.person_id),
        "receipts": count(BroadcastRecipient.person_id),
    }


def _either(
    id_column: SQLColumnExpression[int | None],
    person_id: int | None,
    user_column: SQLColumnExpression[str | None],
    slack_id: str | None,
) -> ColumnElement[bool] | None:
    conditions = []
    if person_id is not None:
        conditions.append(id_column == person_id)
    if slack_id:
        conditions.append(user_column == slack_id)
    return or_(*conditions) if conditions else None


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
