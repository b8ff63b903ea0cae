"""Early wins: capture and moderation, and the one module to import for everything about wins.

It re-exports what the steps around it offer (`from bot.wins import service as wins`, then
`wins.validate`, `wins.polish_and_offer`, ...) and registers the scheduled work and outbox hook. The steps
live beside it in `bot.wins`: `input` (reading what was typed), `polish` (the optional AI polish), `counts`
(what wins add up to, for Home and digests), `recognition` (the monthly recognition), and `messages` (who
may see a win, outbox keys, the card builders get).

Slack-free (no slack_bolt): functions take a session and return results; every message goes through the
outbox with a key naming it, so nothing is sent twice:

- `win-review:<win>:<user>`  the DM each change manager gets (updated in place once decided);
- `win-submitted:<win>`      the author's confirmation (updated with the AI offer and their choice);
- `win-approved:<win>` / `win-rejected:<win>`  the author is told the outcome;
- `win-share:<win>`          the post in ADOPTBOT_WINS_CHANNEL, for approved named/anonymous wins only;
- `win-recognition:<YYYY-MM>` the monthly congratulation to the teams with the most approved wins.

A decision is one conditional UPDATE (`... WHERE status = 'pending'`): of two change managers clicking at
once, on either database, exactly one decides; the other is told who did. Anonymous wins carry no author
into any public surface (channel post, digests, other people's Home) and no author ID into logs; the change
managers reviewing a win do see its author (the modal says so).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.config import Settings
from bot.i18n import format_number, locale_of, use_language
from bot.i18n import gettext as _
from bot.jobs import JobContext
from bot.models import Activity, OutboxMessage, Person, Win, WinStatus
from bot.people.locale import person_locale
from bot.slack.blocks import Block
from bot.wins import blocks
from bot.wins.blocks import REASON_MAX, WinCard
from bot.wins.counts import of_person, shareable_wins, tool_of
from bot.wins.input import (
    InvalidWin,
    WinInput,
    parse_hours,
    permalink_from,
    readable_message_text,
    validate,
)
from bot.wins.messages import (
    PUBLIC_SHARES,
    SHARES,
    card_of,
    language_of,
    public_card,
    recognition_key,
    review_key,
    share_key,
    submitted_key,
    update_reviews,
)
from bot.wins.polish import (
    AI_MAX_WORDS,
    AI_PURPOSE,
    AI_TIMEOUT,
    choose_polish,
    close_offer,
    offer_polish,
    polish_and_offer,
)
from bot.wins.recognition import (
    RECOGNITION_DAYS,
    RECOGNITION_TEAMS,
    first_working_day,
    post_monthly_recognition,
    team_wins,
)

__all__ = [
    "AI_MAX_WORDS",
    "AI_PURPOSE",
    "AI_TIMEOUT",
    "PUBLIC_SHARES",
    "RECOGNITION_DAYS",
    "RECOGNITION_TEAMS",
    "SHARES",
    "Decision",
    "InvalidWin",
    "Moderator",
    "WinInput",
    "card_of",
    "choose_polish",
    "decide",
    "first_working_day",
    "get_card",
    "mark_shared",
    "moderators",
    "of_person",
    "offer_polish",
    "parse_hours",
    "pending_count",
    "permalink_from",
    "polish_and_offer",
    "post_monthly_recognition",
    "readable_message_text",
    "recognition_key",
    "review_key",
    "review_queue",
    "share_key",
    "shareable_wins",
    "submit",
    "submitted_key",
    "team_wins",
    "tool_of",
    "validate",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Moderator:
    user_id: str
    person_id: int | None


@dataclass(frozen=True)
class Decision:
    card: WinCard  # the win as it stands now
    decided_now: bool  # False: it had been decided before (card says by whom)


# --- capture -----------------------------------------------------------------------------------------------


def moderators(session: Session, settings: Settings) -> list[Moderator]:
    """Everyone who reviews wins: active change managers with a Slack ID, and ADOPTBOT_ADMINS."""
    query = select(Person.slack_user_id, Person.id).where(
        Person.is_change_manager.is_(True),
        Person.is_active.is_(True),
        Person.erased_at.is_(None),
        Person.slack_user_id.is_not(None),
    )
    found: dict[str, int | None] = {str(uid): pid for uid, pid in session.execute(query)}
    if settings.admins:
        admins = select(Person.slack_user_id, Person.id).where(
            Person.slack_user_id.in_(sorted(settings.admins))
        )
        known = {str(uid): pid for uid, pid in session.execute(admins)}
        for user_id in settings.admins:
            found.setdefault(user_id, known.get(user_id))
    return [Moderator(uid, found[uid]) for uid in sorted(found)]


def submit(
    session: Session, *, author: Person, data: WinInput, settings: Settings, now: datetime | None = None
) -> Win:
    """Store a new win (pending), count it as activity, and queue the change managers' DMs and the
    author's confirmation. Nothing is public before a change manager approves it."""
    from bot import outbox

    now = now or utcnow()
    win = Win(
        author_id=author.id,
        team_id=data.team_id,
        what=data.what,
        tool=data.tool,
        hours_per_week=data.hours,
        share=data.share,
        source_link=data.source_link,
        status=WinStatus.PENDING,
        submitted_at=now,
    )
    session.add(win)
    session.add(Activity(person_id=author.id, team_id=author.team_id, kind="win", occurred_at=now))
    session.flush()
    card = card_of(session, win)
    reviewers = moderators(session, settings)
    built: dict[str, tuple[str, list[Block]]] = {}
    for moderator in reviewers:
        lang = language_of(session, moderator.user_id, settings)  # each reviewer reads it in their language
        if lang not in built:
            with use_language(lang):
                built[lang] = blocks.review_message(card, channel=settings.wins_channel)
        text, review = built[lang]
        outbox.enqueue(
            session,
            key=review_key(win.id, moderator.user_id),
            kind="win_review",
            channel=moderator.user_id,
            text=text,
            blocks=review,
            person_id=moderator.person_id,
            metadata={"win_id": win.id},
        )
    if not reviewers:
        log.warning(
            "win %d waits for review, but there is no change manager to ask (ADOPTBOT_ADMINS)", win.id
        )
    if author.slack_user_id:
        with use_language(person_locale(author, settings)):
            text, confirmation = blocks.submitted_message(card)
        outbox.enqueue(
            session,
            key=submitted_key(win.id),
            kind="win_author",
            channel=author.slack_user_id,
            text=text,
            blocks=confirmation,
            person_id=author.id,
        )
    log.info("win %d submitted for review", win.id)
    return win


# --- moderation --------------------------------------------------------------------------------------------


def pending_count(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Win).where(Win.status == WinStatus.PENDING)) or 0
    )


def review_queue(session: Session, *, limit: int = blocks.QUEUE_SHOWN) -> tuple[list[WinCard], int]:
    """The oldest pending wins (at most `limit`) and how many are pending in all."""
    wins = session.scalars(
        select(Win).where(Win.status == WinStatus.PENDING).order_by(Win.submitted_at, Win.id).limit(limit)
    ).all()
    return [card_of(session, w) for w in wins], pending_count(session)


def get_card(session: Session, win_id: int) -> WinCard | None:
    win = session.get(Win, win_id)
    return card_of(session, win) if win is not None else None


def decide(
    session: Session,
    *,
    win_id: int,
    approve: bool,
    reviewer_user_id: str,
    reviewer: Person | None,
    settings: Settings,
    reason: str | None = None,
    edit: WinInput | None = None,
    now: datetime | None = None,
) -> Decision | None:
    """Approve (optionally with a light `edit`) or reject (with `reason`) a pending win; None if no such win.

    Exactly one decision per win, whoever clicks: the conditional update decides. The one that does queues
    the updates of every change manager's DM, the author's DM, and (approved, public, a wins channel set)
    the channel post.
    """
    from bot import outbox

    current = session.get(Win, win_id)
    if current is None:
        return None
    if not approve:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidWin({"reason": _("Write a short note for the author.")})
        if len(reason) > REASON_MAX:
            raise InvalidWin(
                {"reason": _("Please keep it under {n} characters.").format(n=format_number(REASON_MAX))}
            )
    values: dict[str, Any] = {
        "status": WinStatus.APPROVED if approve else WinStatus.REJECTED,
        "reviewed_by": reviewer.id if reviewer is not None else None,
        "reviewer_user_id": reviewer_user_id[:32],
        "reviewed_at": now or utcnow(),
        "polish_offer": None,
    }
    if not approve:
        values["reject_reason"] = reason
    if edit is not None:
        values[("polished" if current.polished else "what")] = edit.what
        values |= {"tool": edit.tool, "hours_per_week": edit.hours, "team_id": edit.team_id}
    result = session.execute(
        update(Win).where(Win.id == win_id, Win.status == WinStatus.PENDING).values(**values),
        execution_options={"synchronize_session": False},
    )
    won = int(getattr(result, "rowcount", 0) or 0) == 1
    win = session.get(Win, win_id, populate_existing=True)
    assert win is not None
    card = card_of(session, win, edited=won and edit is not None)
    if not won:
        return Decision(card, decided_now=False)
    update_reviews(session, card, settings, suffix="decided")
    author = session.get(Person, win.author_id) if win.author_id is not None else None
    if author is not None and author.slack_user_id and author.erased_at is None:
        with use_language(person_locale(author, settings)):  # the author's language, not the reviewer's
            if approve:
                text, dm = blocks.approved_message(card, channel=settings.wins_channel)
            else:
                text, dm = blocks.rejected_message(card, command=settings.command)
        outbox.enqueue(
            session,
            key=f"win-{win.status}:{win.id}",
            kind="win_author",
            channel=author.slack_user_id,
            text=text,
            blocks=dm,
            person_id=author.id,
        )
        close_offer(session, card, settings)
    if approve and win.share in PUBLIC_SHARES and settings.wins_channel:
        with use_language(locale_of(None, None, settings)):  # a shared channel: the organisation's language
            text, post = blocks.channel_post(public_card(session, win))
        outbox.enqueue(
            session,
            key=share_key(win.id),
            kind="win_share",
            channel=settings.wins_channel,
            text=text,
            blocks=post,
            metadata={"win_id": win.id},
        )
    log.info("win %d %s", win.id, win.status)
    return Decision(card, decided_now=True)


def mark_shared(session: Session, message: OutboxMessage) -> None:
    """Outbox hook: the win's post is in the channel; record when."""
    head, _, win_id = message.key.partition(":")
    if head == "win-share" and win_id.isdigit():
        session.execute(
            update(Win).where(Win.id == int(win_id)).values(shared_at=message.sent_at or utcnow()),
            execution_options={"synchronize_session": False},
        )


# --- scheduled work (bot.wiring registers the job, and `mark_shared` as the outbox hook) ------------------


def recognition_job(ctx: JobContext) -> int:
    return post_monthly_recognition(ctx.session, ctx.settings, ctx.library, ctx.now)
