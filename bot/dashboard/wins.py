"""`/wins`: the moderation queue (approve, edit and approve, reject with a note: the very service calls the
Slack buttons make, so the author, the other reviewers' DMs and the wins channel hear of it the same way)
and the gallery of approved public wins. The queue is for change managers, the gallery for them and
leaders (everyone else has their own progress page only); it shows only what the wins channel would
(named wins with their author, anonymous ones without, private ones never)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from bot.dashboard.access import change_manager, sees_teams, write_scope
from bot.db import session_scope
from bot.models import Person, Team, Win, WinStatus
from bot.slack.runtime import Runtime
from bot.wins import service as wins
from bot.wins.blocks import RawWin, WinCard
from bot.wins.messages import PUBLIC_SHARES

QUEUE_SHOWN = 50
GALLERY_SHOWN = 60


@dataclass(frozen=True)
class GalleryWin:
    text: str
    tool: str | None
    hours: float
    team: str | None
    author: str | None  # None for an anonymous win
    submitted_at: datetime


def _author_names(db: Session, win_ids: list[int]) -> dict[int, str]:
    rows = db.execute(
        select(Win.id, Person.name, Person.erased_at)
        .join(Person, Person.id == Win.author_id)
        .where(Win.id.in_(win_ids))
    )
    return {win_id: name for win_id, name, erased in rows if erased is None}


def _gallery(db: Session) -> list[GalleryWin]:
    """Approved public wins, newest first; an anonymous win's author is not even read."""
    rows = db.execute(
        select(Win, Team.name)
        .outerjoin(Team, Team.id == Win.team_id)
        .where(Win.status == WinStatus.APPROVED, Win.share.in_(PUBLIC_SHARES))
        .order_by(Win.submitted_at.desc(), Win.id.desc())
        .limit(GALLERY_SHOWN)
    ).all()
    named = _author_names(db, [win.id for win, _ in rows if win.share == "named"])
    return [
        GalleryWin(
            text=win.polished or win.what,
            tool=win.tool,
            hours=win.hours_per_week,
            team=team,
            author=named.get(win.id) if win.share == "named" else None,
            submitted_at=win.submitted_at,
        )
        for win, team in rows
    ]


def register(app: Flask, runtime: Runtime) -> None:
    settings = runtime.settings

    @app.get("/wins")
    def wins_page() -> str:
        viewer = sees_teams()
        queue: list[tuple[WinCard, str]] = []
        pending = 0
        with session_scope(runtime.engine, readonly=True) as db:
            if viewer.change_manager:
                cards, pending = wins.review_queue(db, limit=QUEUE_SHOWN)
                names = _author_names(db, [card.id for card in cards])
                queue = [(card, names.get(card.id, "someone no longer on the roster")) for card in cards]
            active = select(Team).where(Team.retired_at.is_(None)).order_by(Team.name)
            teams = [(team.id, team.name) for team in db.scalars(active)]
            gallery = _gallery(db)
        return render_template(
            "wins.html",
            queue=queue,
            pending=pending,
            teams=teams,
            gallery=gallery,
            manager=viewer.change_manager,
        )

    @app.post("/wins/<int:win_id>/approve")
    def approve_win(win_id: int) -> BaseResponse | tuple[str, int]:
        return _decide(win_id, approve=True)

    @app.post("/wins/<int:win_id>/edit")
    def edit_win(win_id: int) -> BaseResponse | tuple[str, int]:
        return _decide(win_id, approve=True, edited=True)

    @app.post("/wins/<int:win_id>/reject")
    def reject_win(win_id: int) -> BaseResponse | tuple[str, int]:
        return _decide(win_id, approve=False)

    def _decide(win_id: int, *, approve: bool, edited: bool = False) -> BaseResponse | tuple[str, int]:
        viewer = change_manager()
        form = request.form
        try:
            with write_scope(runtime) as db:
                card = wins.get_card(db, win_id)
                if card is None:
                    abort(404)
                edit = None
                if edited:
                    raw = RawWin(
                        what=form.get("what"),
                        tool=form.get("tool"),
                        hours=form.get("hours"),
                        team=form.get("team") or None,
                        share=card.share,
                    )
                    edit = wins.validate(db, raw, source_link=card.source_link)
                decision = wins.decide(
                    db,
                    win_id=win_id,
                    approve=approve,
                    reviewer_user_id=viewer.user_id,
                    reviewer=db.get(Person, viewer.person_id) if viewer.person_id is not None else None,
                    settings=settings,
                    reason=form.get("reason"),
                    edit=edit,
                )
        except wins.InvalidWin as invalid:  # nothing was saved: the unit of work rolled back
            text = " ".join(invalid.errors.values())
            return render_template(
                "message.html", title="Nothing saved", text=text, back=url_for("wins_page")
            ), 400
        if decision is None:
            abort(404)
        if not decision.decided_now:
            flash(f"Win #{win_id} had already been decided by someone else: nothing changed.")
        elif approve:
            flash(f"Win #{win_id} approved. Its author hears of it in Slack.")
        else:
            flash(f"Win #{win_id} rejected. Its author gets your note in Slack.")
        return redirect(url_for("wins_page"))
