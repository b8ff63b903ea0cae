"""What every step of a win shares: who may see it, the outbox keys of its messages, the card the
builders get, and the in-place update of the change managers' review DMs.

`card_of(..., with_author=False)`, and `public_card` for anything public, leave the author of an anonymous
win out of the card itself, so no builder of a public surface can name them by mistake.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.i18n import locale_of, use_language
from bot.models import OutboxMessage, Person, Team, Win
from bot.slack.blocks import Block
from bot.wins import blocks
from bot.wins.blocks import WinCard

SHARES: Final = ("named", "anonymous", "private")
PUBLIC_SHARES: Final = ("named", "anonymous")


def review_key(win_id: int, user_id: str) -> str:
    return f"win-review:{win_id}:{user_id}"


def submitted_key(win_id: int) -> str:
    return f"win-submitted:{win_id}"


def share_key(win_id: int) -> str:
    return f"win-share:{win_id}"


def recognition_key(month: date) -> str:
    return f"win-recognition:{month:%Y-%m}"


def language_of(session: Session, user_id: str | None, settings: Settings) -> str:
    """The language to write to this Slack user in (roster, else Slack, else ADOPTBOT_LOCALE)."""
    row = None
    if user_id:
        row = session.execute(
            select(Person.locale, Person.slack_locale).where(Person.slack_user_id == user_id)
        ).first()
    return locale_of(row[0], row[1], settings) if row is not None else locale_of(None, None, settings)


def author_language(session: Session, win_id: int, settings: Settings) -> str:
    """The language of a win's author (for the DMs about their win)."""
    row = session.execute(
        select(Person.locale, Person.slack_locale)
        .join(Win, Win.author_id == Person.id)
        .where(Win.id == win_id)
    ).first()
    return locale_of(row[0], row[1], settings) if row is not None else locale_of(None, None, settings)


def card_of(session: Session, win: Win, *, with_author: bool = True, edited: bool = False) -> WinCard:
    """The win for a builder; `with_author=False` leaves the author out (public surfaces, anonymous)."""
    team = session.get(Team, win.team_id) if win.team_id is not None else None
    author_id = None
    if with_author and win.author_id is not None:
        author = session.get(Person, win.author_id)
        author_id = author.slack_user_id if author is not None and author.erased_at is None else None
    return WinCard(
        id=win.id,
        team_id=win.team_id,
        what=win.what,
        tool=win.tool,
        hours=win.hours_per_week,
        team_name=team.name if team is not None else None,
        share=win.share,
        status=win.status,
        polished=win.polished,
        author_user_id=author_id,
        source_link=win.source_link,
        reviewer_user_id=win.reviewer_user_id,
        reject_reason=win.reject_reason,
        edited=edited,
    )


def public_card(session: Session, win: Win) -> WinCard:
    return card_of(session, win, with_author=win.share == "named")


def update_reviews(session: Session, card: WinCard, settings: Settings, *, suffix: str) -> None:
    """Queue the same update of every change manager's DM about this win (in place, via chat.update)."""
    from bot import outbox

    keys = session.scalars(
        select(OutboxMessage.key).where(
            OutboxMessage.key.like(f"win-review:{card.id}:%"), OutboxMessage.update_of.is_(None)
        )
    ).all()
    built: dict[str, tuple[str, list[Block]]] = {}
    for key in keys:
        lang = language_of(session, key.rsplit(":", 1)[-1], settings)  # each reviewer's own language
        if lang not in built:
            with use_language(lang):
                built[lang] = blocks.review_message(card, channel=settings.wins_channel)
        text, review = built[lang]
        outbox.enqueue_update(session, key=f"{key}:{suffix}", update_of=key, text=text, blocks=review)
