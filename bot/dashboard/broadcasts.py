"""`/broadcasts`: every broadcast with its live status and acknowledgements, and the composer: write,
preview, then send now or at a set time, like in Slack (the same draft, preview and send calls, so the
sender's preview DM and status DM in Slack follow along). Change managers only."""

from __future__ import annotations

import html
from typing import Any

from flask import Flask, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from bot import clock
from bot.broadcasts import service as broadcasts
from bot.broadcasts.audience import Audience, audience_label
from bot.broadcasts.blocks import ComposerValues, progress_line
from bot.broadcasts.blocks.composer import REMINDER_CHOICES
from bot.broadcasts.messages import preview_card
from bot.broadcasts.overview import ack_report, sender_names
from bot.clock import local_label
from bot.dashboard.access import change_manager, write_scope
from bot.db import session_scope
from bot.models import Broadcast, Person, Team
from bot.slack.runtime import Runtime

LISTED = 50


def plain(slack_text: str) -> str:
    """Slack's escaped text (&amp; &lt; &gt;) as the characters it stands for; the page escapes it again."""
    return html.unescape(slack_text)


def _values(form: Any) -> ComposerValues:
    reminder = form.get("reminder", "")
    return ComposerValues(
        message=form.get("message", ""),
        everyone=form.get("everyone") == "on",
        teams=tuple(form.getlist("teams")),
        roles=tuple(form.getlist("roles")),
        channel=(form.get("channel") or "").strip() or None,
        later=form.get("when") == "later",
        date=form.get("date") or None,
        time=form.get("time") or None,
        ask_ack=form.get("ask_ack") == "on",
        reminder_days=int(reminder) if reminder.isdigit() else None,
    )


def register(app: Flask, runtime: Runtime) -> None:
    settings, library = runtime.settings, runtime.library

    def listing(db: Session) -> list[dict[str, Any]]:
        """The newest broadcasts: no audience is counted here (a draft's reach shows on its own page),
        and the senders' names come in one query."""
        found = db.scalars(
            select(Broadcast).order_by(Broadcast.created_at.desc(), Broadcast.id.desc()).limit(LISTED)
        ).all()
        senders = sender_names(db, found)
        rows = []
        for b in found:
            audience = audience_label(db, Audience.from_json(b.audience), library)
            rows.append(
                {
                    "id": b.id,
                    "status": b.status,
                    "text": b.text,
                    "audience": plain(audience),
                    "when": local_label(b.scheduled_for, b.timezone) if b.scheduled_for else None,
                    "line": plain(b.status_line or ""),
                    "sender": plain(senders.get(b.id, "")) or b.sender_user or "",
                }
            )
        return rows

    def composer(db: Session, values: ComposerValues, errors: dict[str, str] | None = None) -> str:
        active = select(Team).where(Team.retired_at.is_(None)).order_by(Team.name)
        teams = [(str(t.id), t.name) for t in db.scalars(active)]
        roles = sorted(((r.id, r.name) for r in library.roles.values()), key=lambda r: r[1].casefold())
        return render_template(
            "broadcasts.html",
            broadcasts=listing(db),
            teams=teams,
            roles=roles,
            values=values,
            errors=errors or {},
            reminders=REMINDER_CHOICES,
        )

    @app.get("/broadcasts")
    def broadcasts_page() -> str:
        change_manager()
        with session_scope(runtime.engine, readonly=True) as db:
            return composer(db, ComposerValues())

    @app.post("/broadcasts")
    def compose() -> BaseResponse | tuple[str, int]:
        viewer = change_manager()
        values = _values(request.form)
        with write_scope(runtime) as db:
            sender = db.get(Person, viewer.person_id) if viewer.person_id is not None else None
            timezone = broadcasts.sender_timezone(sender, settings)
            try:
                draft = broadcasts.check_draft(
                    db, values, library=library, timezone=timezone, now=clock.utcnow()
                )
            except broadcasts.DraftInvalid as invalid:
                return composer(db, values, invalid.errors), 400
            saved = broadcasts.save_draft(
                db, draft, sender=sender, sender_user=viewer.user_id, timezone=timezone, library=library
            )
            broadcast_id = saved.id
        return redirect(url_for("broadcast_page", broadcast_id=broadcast_id))

    @app.get("/broadcasts/<int:broadcast_id>")
    def broadcast_page(broadcast_id: int) -> str:
        change_manager()
        with session_scope(runtime.engine, readonly=True) as db:
            broadcast = db.get(Broadcast, broadcast_id)
            if broadcast is None:
                abort(404)
            card = preview_card(db, broadcast, library)
            report = ack_report(db, broadcast_id)
            return render_template(
                "broadcast.html",
                broadcast=broadcast,
                card=card,
                audience=plain(card.audience),
                progress=plain(progress_line(report.progress)) if report else None,
                teams=[(plain(t.team), t.recipients, t.acked) for t in report.teams] if report else [],
                waiting=[plain(n) for n in report.waiting] if report else [],
                waiting_more=report.waiting_more if report else 0,
            )

    @app.post("/broadcasts/<int:broadcast_id>/send")
    def send_broadcast(broadcast_id: int) -> BaseResponse:
        change_manager()
        with write_scope(runtime) as db:
            sent = broadcasts.confirm(db, broadcast_id, now=clock.utcnow(), library=library)
            scheduled = sent is not None and sent.status == "scheduled"
        if sent is None:
            flash(f"Broadcast #{broadcast_id} was already sent, scheduled or cancelled: nothing changed.")
        elif scheduled:
            flash(f"Broadcast #{broadcast_id} is scheduled.")
        else:
            flash(f"Broadcast #{broadcast_id} is on its way.")
        return redirect(url_for("broadcast_page", broadcast_id=broadcast_id))

    @app.post("/broadcasts/<int:broadcast_id>/cancel")
    def cancel_broadcast(broadcast_id: int) -> BaseResponse:
        change_manager()
        with write_scope(runtime) as db:
            cancelled = broadcasts.cancel(db, broadcast_id, now=clock.utcnow(), library=library)
        flash(
            f"Broadcast #{broadcast_id} cancelled: nothing was sent."
            if cancelled
            else f"Broadcast #{broadcast_id} can no longer be cancelled."
        )
        return redirect(url_for("broadcast_page", broadcast_id=broadcast_id))
