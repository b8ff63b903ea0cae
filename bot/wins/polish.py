"""The optional AI polish: a two-sentence version of a pending win, offered to its author to take or not.

Taking it never overwrites the author's words (`what`): the version is stored beside them (`polished`)
and is what gets shared. The offer is made after Slack has been answered, and only while the win waits
for review: once a change manager decides, the author's confirmation stops offering it (`close_offer`).
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot import ai
from bot.config import Settings
from bot.db import session_scope
from bot.i18n import use_language
from bot.models import OutboxMessage, Person, Team, Win, WinStatus
from bot.people.locale import person_locale
from bot.wins import blocks
from bot.wins.blocks import WHAT_MAX, WinCard
from bot.wins.messages import author_language, card_of, submitted_key, update_reviews

AI_PURPOSE: Final = "win_polish"
AI_MAX_WORDS: Final = 60
AI_TIMEOUT: Final = 8.0


_POLISH_SYSTEM = (
    "You rewrite a colleague's note about how AI helped them at work for the company's wins channel. Reply "
    f"with exactly two short sentences, at most {AI_MAX_WORDS} words in all: what they did, then what it "
    "saved or improved. Plain text: no names of people, no emoji, no hashtags, no quotes. Keep the facts; "
    "invent nothing."
)


def polish_and_offer(engine: Engine, settings: Settings, win_id: int, *, timeout: float = AI_TIMEOUT) -> bool:
    """Ask the AI for a two-sentence version of a pending win and offer it to the author; True if offered.

    Runs after Slack has been answered. No write transaction is open during the AI call (on SQLite that
    would hold the database's write lock for seconds): the win is read first, the audit row and the offer
    are written after. A timeout or error offers nothing (`bot.ai` audits it); the win stays as typed.
    """
    if not settings.ai_enabled:
        return False
    with session_scope(engine, readonly=True) as session:
        win = session.get(Win, win_id)
        if win is None or win.status != WinStatus.PENDING or win.polished or win.polish_offer:
            return False
        team = session.get(Team, win.team_id) if win.team_id is not None else None
        prompt = (
            f"Team: {team.name if team is not None else 'not given'}\nAI tool: {win.tool or 'not given'}\n"
            f"Time saved: about {win.hours_per_week:g} hours a week\nTheir note:\n{win.what}"
        )
        names = ai.roster_name_parts(session)
    with session_scope(engine) as session:
        answer = ai.complete(
            session,
            settings,
            purpose=AI_PURPOSE,
            system=_POLISH_SYSTEM,
            prompt=prompt,
            max_words=AI_MAX_WORDS,
            names=names,
            timeout=timeout,
        )
        offer = _clean_offer(answer)
        return offer is not None and offer_polish(session, win_id=win_id, text=offer, settings=settings)


def _clean_offer(answer: str | None) -> str | None:
    if not answer:
        return None
    text = " ".join(answer.split()).strip().strip("\"'“”").strip()
    return text[:WHAT_MAX] or None


def offer_polish(session: Session, *, win_id: int, text: str, settings: Settings) -> bool:
    """Record the AI version offered for a pending win and add it to the author's confirmation DM."""
    from bot import outbox

    result = session.execute(
        update(Win)
        .where(
            Win.id == win_id,
            Win.status == WinStatus.PENDING,
            Win.polished.is_(None),
            Win.polish_offer.is_(None),
        )
        .values(polish_offer=text),
        execution_options={"synchronize_session": False},
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    original = submitted_key(win_id)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == original)) is None:
        return False
    win = session.get(Win, win_id, populate_existing=True)
    assert win is not None
    with use_language(author_language(session, win_id, settings)):
        message, dm = blocks.submitted_message(card_of(session, win, with_author=False), offer=text)
    outbox.enqueue_update(session, key=f"{original}:offer", update_of=original, text=message, blocks=dm)
    return True


def choose_polish(
    session: Session, settings: Settings, *, win_id: int, author_user_id: str, use: bool
) -> str:
    """The author takes (`use`) or declines the offered version. Returns what happened: "polished",
    "kept", "decided" (already reviewed), "chosen" (already chosen), or "not_yours"."""
    from bot import outbox

    win = session.get(Win, win_id)
    author = session.get(Person, win.author_id) if win is not None and win.author_id is not None else None
    if win is None or author is None or author.slack_user_id != author_user_id:
        return "not_yours"
    values: dict[str, Any] = {"polish_offer": None}
    if use:
        values["polished"] = Win.polish_offer
    result = session.execute(
        update(Win)
        .where(
            Win.id == win_id,
            Win.status == WinStatus.PENDING,
            Win.polish_offer.is_not(None),
            Win.polished.is_(None),
        )
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        session.refresh(win)
        return "decided" if win.status != WinStatus.PENDING else "chosen"
    session.refresh(win)
    choice = "polished" if use else "kept"
    original = submitted_key(win_id)
    with use_language(person_locale(author, settings)):
        text, dm = blocks.submitted_message(card_of(session, win, with_author=False), choice=choice)
    outbox.enqueue_update(session, key=f"{original}:choice", update_of=original, text=text, blocks=dm)
    if use:
        update_reviews(session, card_of(session, win), settings, suffix="polished")
    return choice


def close_offer(session: Session, card: WinCard, settings: Settings) -> None:
    """Once decided, the author's confirmation no longer offers the polished version."""
    from bot import outbox

    original = submitted_key(card.id)
    offered = session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == f"{original}:offer"))
    chosen = session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == f"{original}:choice"))
    if offered is not None and chosen is None:
        with use_language(author_language(session, card.id, settings)):
            text, dm = blocks.submitted_message(card)
        outbox.enqueue_update(session, key=f"{original}:closed", update_of=original, text=text, blocks=dm)
