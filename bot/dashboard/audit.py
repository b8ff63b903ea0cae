"""`/audit`: who decided which win, who sent which broadcast, who applied a roster or erased a person, and
the AI call log (purpose, model, tokens, time, outcome: never a prompt or an answer). Read from the
records each of those already keeps; change managers only. An erased person shows as "(erased)"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, render_template
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import clock
from bot.dashboard.access import change_manager
from bot.db import session_scope
from bot.models import AiCall, AuditEvent, Broadcast, BroadcastStatus, Person, Win, WinStatus
from bot.slack.runtime import Runtime

SHOWN = 100


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    what: str


def _names(db: Session, user_ids: set[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = db.execute(
        select(Person.slack_user_id, Person.name).where(
            Person.slack_user_id.in_(user_ids), Person.erased_at.is_(None)
        )
    )
    return {uid: name for uid, name in rows if uid and name}


def trail(db: Session) -> list[Entry]:
    """Wins decided, broadcasts sent, rosters applied and people erased, newest first."""
    decided = db.execute(
        select(Win.id, Win.status, Win.reviewer_user_id, Win.reviewed_at)
        .where(Win.reviewed_at.is_not(None), Win.status.in_((WinStatus.APPROVED, WinStatus.REJECTED)))
        .order_by(Win.reviewed_at.desc())
        .limit(SHOWN)
    ).all()
    sent = db.scalars(
        select(Broadcast)
        .where(Broadcast.status.in_((BroadcastStatus.SENDING, BroadcastStatus.SENT)))
        .order_by(Broadcast.started_at.desc())
        .limit(SHOWN)
    ).all()
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.at.desc()).limit(SHOWN)).all()
    users = {w.reviewer_user_id for w in decided if w.reviewer_user_id} | {
        b.sender_user for b in sent if b.sender_user
    }
    users |= {e.actor for e in events}
    names = _names(db, users)

    def who(user_id: str | None) -> str:
        if not user_id:  # erased since, or never recorded (wins decided before reviewers were kept)
            return "(not recorded)"
        return f"{names[user_id]} ({user_id})" if user_id in names else user_id

    found = [
        Entry(w.reviewed_at, who(w.reviewer_user_id), f"{str(w.status).capitalize()} win #{w.id}")
        for w in decided
    ]
    found += [
        Entry(
            b.started_at or b.created_at,
            who(b.sender_user),
            f"Sent broadcast #{b.id} to {b.recipient_count or 0} people",
        )
        for b in sent
    ]
    found += [Entry(e.at, who(e.actor) if e.actor != "command line" else e.actor, e.detail) for e in events]
    return sorted(found, key=lambda e: e.at, reverse=True)[:SHOWN]


def register(app: Flask, runtime: Runtime) -> None:
    timezone = runtime.settings.timezone

    @app.get("/audit")
    def audit_page() -> str:
        change_manager()
        with session_scope(runtime.engine, readonly=True) as db:
            entries = trail(db)
            calls = db.scalars(
                select(AiCall).order_by(AiCall.created_at.desc(), AiCall.id.desc()).limit(SHOWN)
            ).all()
            ai = [
                (
                    c.created_at,
                    c.purpose,
                    c.model,
                    c.prompt_tokens,
                    c.completion_tokens,
                    c.latency_ms,
                    c.outcome,
                )
                for c in calls
            ]
        return render_template(
            "audit.html",
            entries=entries,
            calls=ai,
            local=lambda moment: clock.local_label(moment, timezone),
            shown=SHOWN,
        )
