"""`/people`: search the roster; upload a roster CSV, see exactly what it would change (added, updated,
deactivated, new teams, or every bad line), then apply it. The same parser, all-or-nothing import and
prune guard as `adoptbot roster import`: the preview is that import run and rolled back, and Apply runs it
again only if it would still change exactly what the preview showed. Change managers only."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass

from flask import Flask, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from bot import audit
from bot.csv_files import decode
from bot.dashboard.access import change_manager, write_scope
from bot.db import session_scope
from bot.errors import UsageError
from bot.models import AuditAction, Person, Team
from bot.people.roster import ImportReport, RosterError, import_roster, parse_roster, scim_owns_people
from bot.slack.runtime import Runtime

SHOWN = 100
UPLOAD_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Preview:
    report: ImportReport
    refused: str | None  # why the import would stop (the prune guard), or None
    fingerprint: str  # what the import would change, signed: Apply checks it is still that


def _search(db: Session, query: str) -> tuple[list[tuple[Person, str | None]], int]:
    wanted = (
        select(Person, Team.name).outerjoin(Team, Team.id == Person.team_id).where(Person.erased_at.is_(None))
    )
    if query:
        typed = query.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{typed}%"  # what was typed, literally: % and _ are not wildcards here
        wanted = wanted.where(
            or_(
                *(
                    func.lower(column).like(like, escape="\\")
                    for column in (Person.name, Person.email, Person.slack_user_id, Team.name)
                )
            )
        )
    total = db.scalar(select(func.count()).select_from(wanted.subquery())) or 0
    rows = db.execute(wanted.order_by(func.lower(Person.name), Person.id).limit(SHOWN)).all()
    return [(person, team) for person, team in rows], int(total)


def _lines(text: str) -> str:
    """The file with one kind of line break: a browser posts the preview's copy back with CRLF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _fingerprint(report: ImportReport, text: str, prune: bool, force: bool) -> str:
    """A signature over the file, the options and every change the preview listed."""
    changes = {
        "file": hashlib.sha256(text.encode()).hexdigest(),
        "options": [prune, force],
        "added": sorted(report.added_people),
        "updated": sorted(report.updated_people),
        "deactivated": sorted(report.deactivated_people),
        "teams": sorted(report.new_teams),
    }
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, json.dumps(changes, sort_keys=True).encode(), hashlib.sha256).hexdigest()


def register(app: Flask, runtime: Runtime) -> None:
    library = runtime.library

    def parse(text: str) -> list[str] | None:
        """The file's bad lines (`line N: reason`), or None when every row is good."""
        parsed = parse_roster(text, library.roles.keys(), tools=library.tools.keys(), source="the file")
        return [f"line {line}: {reason}" for line, reason in parsed.errors] or None

    def dry_run(text: str, prune: bool, force: bool) -> Preview:
        parsed = parse_roster(text, library.roles.keys(), tools=library.tools.keys(), source="the file")
        with session_scope(runtime.engine) as db:
            try:
                report = import_roster(db, parsed, prune=prune, force=True)
            finally:
                db.rollback()
        refused = None if force else report.prune_needs_force
        return Preview(report, refused, _fingerprint(report, text, prune, force))

    def page(**extra: object) -> str:
        query = request.args.get("q", "").strip()
        with session_scope(runtime.engine, readonly=True) as db:
            people, total = _search(db, query)
        return render_template("people.html", people=people, total=total, query=query, shown=SHOWN, **extra)

    @app.get("/people")
    def people_page() -> str:
        change_manager()
        return page()

    @app.post("/people/upload")
    def upload_roster() -> str | tuple[str, int]:
        change_manager()
        if refused := scim_owns_people(runtime.settings):
            return page(problem=refused), 409
        upload = request.files.get("roster")
        prune, force = request.form.get("prune") == "on", request.form.get("force") == "on"
        if upload is None or not upload.filename:
            return page(problem="Choose a roster CSV file to upload."), 400
        data = upload.read(UPLOAD_MAX_BYTES + 1)
        if len(data) > UPLOAD_MAX_BYTES:
            return page(problem="That file is over 20 MB; split it or use adoptbot roster import."), 400
        try:
            text = _lines(decode(data, upload.filename))
            errors = parse(text)
            if errors:
                return page(problem=f"{len(errors)} bad line(s); nothing was imported.", errors=errors), 400
            preview = dry_run(text, prune, force)
        except UsageError as error:
            return page(problem=str(error)), 400
        return page(preview=preview, text=text, prune=prune, force=force, filename=upload.filename)

    @app.post("/people/apply")
    def apply_roster() -> BaseResponse | str | tuple[str, int]:
        viewer = change_manager()
        if refused := scim_owns_people(runtime.settings):
            return page(problem=refused), 409
        text = _lines(request.form.get("text", ""))
        prune, force = request.form.get("prune") == "on", request.form.get("force") == "on"
        try:
            if parse(text):
                return page(problem="That file has bad lines now; upload it again."), 400
            preview = dry_run(text, prune, force)
            if not hmac.compare_digest(preview.fingerprint, request.form.get("fingerprint", "")):
                return page(
                    problem="The roster changed since the preview, so it was not applied. Here is what it "
                    "would change now.",
                    preview=preview,
                    text=text,
                    prune=prune,
                    force=force,
                ), 409
            if preview.refused:
                return page(
                    problem=preview.refused, preview=preview, text=text, prune=prune, force=force
                ), 400
            parsed = parse_roster(text, library.roles.keys(), tools=library.tools.keys(), source="the file")
            with write_scope(runtime) as db:
                report = import_roster(db, parsed, prune=prune, force=force)
                name = request.form.get("filename", "") or "a file"
                detail = f"Roster {name} applied in the dashboard: {report.summary()}" + (
                    " (pruned)" if prune else ""
                )
                audit.record(db, actor=viewer.user_id, action=AuditAction.ROSTER_IMPORT, detail=detail)
        except (RosterError, UsageError) as error:
            return page(problem=str(error)), 400
        flash(f"Roster imported: {report.summary()}.")
        return redirect(url_for("people_page"))
