"""What wins add up to, for the places that show them: a person's own on their Home, the best public ones
for a digest, and the tool behind a public win ("Try this too").

Every approved win counts, however it was shared; only approved public ones are ever shown to others,
and an anonymous one without its author.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.models import Person, Team, Win, WinStatus
from bot.wins import blocks
from bot.wins.blocks import MyWins, WinSnippet
from bot.wins.messages import PUBLIC_SHARES, card_of


def of_person(session: Session, person: Person, *, recent: int = blocks.HOME_RECENT) -> MyWins:
    """A person's own wins for their Home: approved count and hours, pending count, the latest few."""
    approved, hours = session.execute(
        select(func.count(), func.sum(Win.hours_per_week)).where(
            Win.author_id == person.id, Win.status == WinStatus.APPROVED
        )
    ).one()
    pending = session.scalar(
        select(func.count())
        .select_from(Win)
        .where(Win.author_id == person.id, Win.status == WinStatus.PENDING)
    )
    latest = session.scalars(
        select(Win)
        .where(Win.author_id == person.id)
        .order_by(Win.submitted_at.desc(), Win.id.desc())
        .limit(recent)
    ).all()
    return MyWins(
        approved=int(approved or 0),
        hours=round(float(hours or 0.0), 2),
        pending=int(pending or 0),
        recent=tuple(card_of(session, w, with_author=False) for w in latest),
    )


def tool_of(session: Session, win_id: int) -> str | None:
    """The AI tool of an approved, public win ("Try this too" starts from it)."""
    return session.scalar(
        select(Win.tool).where(
            Win.id == win_id, Win.status == WinStatus.APPROVED, Win.share.in_(PUBLIC_SHARES)
        )
    )


def shareable_wins(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    team_ids: list[int] | None = None,
    limit: int | None = 5,
) -> list[WinSnippet]:
    """Approved public wins submitted in [start, end) for a digest, most hours first; anonymous ones carry
    no author. Not-public wins never appear (they only count). Render with `bot.wins.blocks.digest_lines`."""
    return [
        snippet
        for _, _, snippet in dated_shareable_wins(
            session, start=start, end=end, team_ids=team_ids, limit=limit
        )
    ]


def dated_shareable_wins(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    team_ids: list[int] | None = None,
    limit: int | None = None,
) -> list[tuple[int | None, datetime, WinSnippet]]:
    """`shareable_wins` in the same order, each with its team id and when it was submitted (a digest of
    many audiences reads the window's once and picks each audience's)."""
    query = (
        select(
            Win.team_id,
            Win.submitted_at,
            Win.polished,
            Win.what,
            Win.hours_per_week,
            Win.share,
            Team.name,
            Person.slack_user_id,
            Person.erased_at,
        )
        .outerjoin(Team, Team.id == Win.team_id)
        .outerjoin(Person, Person.id == Win.author_id)
        .where(
            Win.status == WinStatus.APPROVED,
            Win.share.in_(PUBLIC_SHARES),
            Win.submitted_at >= start,
            Win.submitted_at < end,
        )
        .order_by(Win.hours_per_week.desc(), Win.id)
    )
    if limit is not None:
        query = query.limit(limit)
    if team_ids is not None:
        query = query.where(Win.team_id.in_(team_ids))
    rows = session.connection().execute(query)  # plain rows: thousands of wins in a digest's window
    return [
        (
            team_id,
            submitted,
            WinSnippet(
                text=polished or what,
                team=team,
                hours=hours,
                author_user_id=user_id if share == "named" and erased is None else None,
            ),
        )
        for team_id, submitted, polished, what, hours, share, team, user_id, erased in rows
    ]
