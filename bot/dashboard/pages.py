"""The dashboard's reading pages. Each one checks the viewer's rights on the server before reading anything.

- `/` — the overview for the teams the viewer may see: the digest of their audience (the whole
  organisation for change managers and leaders of every team, their own teams for other leaders) with its
  headline, trend charts, barriers and suggested actions and top wins; a teams × ADKAR heat map; and the
  metrics table with the same numbers and the same suppression as `adoptbot metrics` (the same service,
  run over all teams, then filtered). People who lead nothing go to their own page.
- `/team/<id>` — one team over time: its digest as its leader gets it; 403 for a team the viewer may not
  see, whatever the URL says.
- `/me` — the viewer's own nudge progress.
`?week=YYYY-Www` picks the week (default: the last complete one, as `adoptbot metrics`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask, abort, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as BaseResponse

from bot import clock
from bot.config import Settings
from bot.dashboard import charts
from bot.dashboard.access import signed_in
from bot.dashboard.figures import SharedSource, figures_of
from bot.dashboard.rights import Viewer
from bot.db import session_scope
from bot.digest.format import headline_rows, pulse_note, stage_word
from bot.digest.service import compose
from bot.digest.types import ORGANISATION, Audience, Digest
from bot.metrics.format import COLUMNS
from bot.metrics.service import MetricsRow, last_complete_week
from bot.models import Person, Team
from bot.nudges import service as nudges
from bot.nudges.blocks import level_name
from bot.slack.runtime import Runtime

STAGES = ("awareness", "desire", "knowledge", "ability", "reinforcement")


def chosen_week(settings: Settings, raw: str | None) -> date:
    """Monday of `?week=YYYY-Www`, else of the last complete week; 404 for a malformed week."""
    if not raw:
        return last_complete_week(settings, clock.utcnow())
    try:
        return clock.parse_iso_week(raw)
    except ValueError:
        abort(404)


def _rows(runtime: Runtime, viewer: Viewer, ids: dict[str, int], monday: date) -> list[MetricsRow]:
    """The metrics rows of the teams in `ids` (by name, as `adoptbot metrics` orders them) and, for those
    who may see it, the organisation's row. The rows are computed over all teams, so suppression is
    decided over all teams, as `adoptbot metrics` does, then the viewer's are picked out."""
    if not ids:
        return []
    every = figures_of(runtime).rows(monday)
    return [row for name, row in every.items() if name in ids or (name == "*" and viewer.sees_organisation)]


def _heat(row: MetricsRow) -> list[dict[str, Any]]:
    cells = []
    for stage in STAGES:
        value = None if row.suppressed else getattr(row, stage)
        cells.append({"value": value, "level": _level(value)})
    return cells


def _level(value: float | None) -> str:
    if value is None:
        return "hidden"
    if value < 2.5:
        return "low"
    if value < 3.5:
        return "mid"
    return "high"


def _digest(db: Session, runtime: Runtime, audience: Audience, monday: date) -> Digest:
    """The digest of `audience` for the week, as its leader gets it, without the AI's words."""
    return compose(SharedSource(figures_of(runtime), db, runtime.library, week_monday=monday), audience)


def _digest_view(db: Session, digest: Digest) -> dict[str, Any]:
    """What the digest partial shows, names resolved (a named win's author; anonymous wins have none)."""
    authors = {w.author_user_id for w in digest.top_wins if w.author_user_id}
    names = (
        dict(
            db.execute(
                select(Person.slack_user_id, Person.name).where(Person.slack_user_id.in_(authors))
            ).all()
        )
        if authors
        else {}
    )
    headers, trend_rows = charts.table(digest.trend)
    return {
        "digest": digest,
        "headline": headline_rows(digest),
        "pulse_note": pulse_note(digest),
        "charts": [
            (charts.trend_svg(digest.trend, charts.RATES, label="rates"), charts.legend(charts.RATES)),
            (
                charts.trend_svg(digest.trend, charts.READINESS, label="readiness"),
                charts.legend(charts.READINESS),
            ),
        ],
        "trend_headers": headers,
        "trend_rows": trend_rows,
        "barriers": [(stage_word(b.stage), b.teams, b.action) for b in digest.barriers],
        "wins": [(w, names.get(w.author_user_id or "")) for w in digest.top_wins],
    }


def _computed(runtime: Runtime, monday: date) -> str | None:
    moment = figures_of(runtime).computed_on(monday)
    return clock.local_label(moment, runtime.settings.timezone) if moment is not None else None


def register(app: Flask, runtime: Runtime) -> None:
    settings = runtime.settings

    @app.get("/")
    def home() -> BaseResponse | str:
        viewer: Viewer | None = g.get("viewer")
        if viewer is None:
            return redirect(url_for("signin_page"))
        if not viewer.sees_teams:
            return redirect(url_for("me"))
        monday = chosen_week(settings, request.args.get("week"))
        audience = (
            ORGANISATION
            if viewer.sees_organisation
            else Audience(name=viewer.name, team_ids=viewer.team_ids, person_id=viewer.person_id)
        )
        with session_scope(runtime.engine, readonly=True) as db:
            ids = dict(db.execute(select(Team.name, Team.id).where(Team.id.in_(viewer.team_ids))).all())
            rows = _rows(runtime, viewer, ids, monday)
            view = _digest_view(db, _digest(db, runtime, audience, monday)) if ids else None
        return render_template(
            "overview.html",
            week=clock.iso_week(monday),
            headers=[header for header, _ in COLUMNS],
            table=[(ids.get(r.team), [get(r) for _, get in COLUMNS]) for r in rows],
            heat=[(r.team, ids.get(r.team), _heat(r)) for r in rows],
            stages=[stage_word(s).capitalize() for s in STAGES],
            k=settings.min_group_size,
            view=view,
            computed=_computed(runtime, monday),
        )

    @app.get("/team/<int:team_id>")
    def team(team_id: int) -> str:
        viewer = signed_in()
        if not viewer.may_see_team(team_id):
            abort(403)
        monday = chosen_week(settings, request.args.get("week"))
        with session_scope(runtime.engine, readonly=True) as db:
            found = db.get(Team, team_id)
            if found is None:
                abort(404)
            rows = [r for r in _rows(runtime, viewer, {found.name: team_id}, monday) if r.team != "*"]
            view = _digest_view(
                db, _digest(db, runtime, Audience(name=found.name, team_ids=(team_id,)), monday)
            )
        [row] = rows
        return render_template(
            "team.html",
            row=row,
            week=clock.iso_week(monday),
            team_id=team_id,
            cells=list(zip([h for h, _ in COLUMNS], [get(row) for _, get in COLUMNS], strict=True)),
            k=settings.min_group_size,
            view=view,
            computed=_computed(runtime, monday),
        )

    @app.get("/me")
    def me() -> str:
        viewer = signed_in()
        if viewer.person_id is None:
            return render_template(
                "message.html",
                title="My progress",
                text="You are not on the roster, so you get no nudges: there is no progress to show.",
            )
        with session_scope(runtime.engine, readonly=True) as db:
            person = db.get(Person, viewer.person_id)
            if person is None:
                abort(401)
            view = nudges.progress(db, person, settings, clock.utcnow(), runtime.library)
        return render_template("me.html", view=view, level=level_name(view.level))

    @app.errorhandler(401)
    def signed_out(_failure: Any) -> BaseResponse:
        return redirect(url_for("signin_page"))
