"""The audit trail of what has no record of its own: a roster applied, a person erased (wins decided,
broadcasts sent and AI calls are in their own tables). Each event is one sentence that names nobody but
its actor, and `adoptbot forget` replaces an erased actor's Slack ID with "(erased)"."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.models import AuditAction, AuditEvent

COMMAND_LINE = "command line"
ERASED = "(erased)"


def record(session: Session, *, actor: str, action: AuditAction, detail: str) -> None:
    """Add an event to the session's transaction: it is kept only if what it describes is."""
    session.add(AuditEvent(at=utcnow(), actor=actor[:64], action=action, detail=detail[:300]))


def forget_actor(session: Session, slack_id: str | None) -> int:
    """The erased person's Slack ID leaves the trail; what they did stays, by "(erased)"."""
    if not slack_id:
        return 0
    result = session.execute(
        update(AuditEvent).where(AuditEvent.actor == slack_id).values(actor=ERASED),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(result, "rowcount", 0) or 0)
