"""The dashboard's pages. Each one checks the viewer's rights on the server before reading anything.

- `/` — the overview: the metrics table of the teams the viewer may see, with the same numbers and the
  same suppression as `adoptbot metrics` (computed by the same service over all teams, then filtered), and
  a teams × ADKAR heat map whose hidden cells say why. People who lead nothing go to their own page.
- `/team/<id>` — one team's row; 403 for a team the viewer may not see (whatever the URL says).
- `/me` — the viewer's own nudge progress.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask, abort, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from bot import clock
from bot.config import Settings
from bot.dashboard.access import signed_in
from bot.dashboard.rights import Viewer
from bot.db import session_scope
from bot.metrics.format import COLUMNS
from bot.metrics.service import MetricsRow, compute_metrics
from bot.models import Person, Team
from bot.nudges import service as nudges
from bot.nudges.blocks import level_name
from bot.slack.runtime import Runtime

STAGES = (
    ("awareness", "Awareness"),
    ("desire", "Desire"),
    ("knowledge", "Knowledge"),
    ("ability", "Ability"),
    ("reinforcement", "Reinforcement"),
)


def last_complete_week(settings: Settings) -> date:
    """Monday of the last ISO week that has fully ended in the organisation's time zone (as `metrics`)."""
    today = clock.local_today(settings.tz)
    return today - timedelta(days=today.weekday() + 7)


def _rows(
    runtime: Runtime, viewer: Viewer, team_ids: tuple[int, ...], monday: date
) -> tuple[list[MetricsRow], dict[str, int]]:
    """The metrics rows of `team_ids` and, for change managers and leaders of every team, the
    organisation's row, with each team's ID by name; suppression is decided as `adoptbot metrics` does."""
    settings = runtime.settings
    with session_scope(runtime.engine, readonly=True) as db:
        ids = {name: id_ for id_, name in db.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))}
        if not ids:
            return [], {}
        rows = compute_metrics(
            db, week_monday=monday, settings=settings, team_names=sorted(ids), now=clock.utcnow()
        )
    return [r for r in rows if r.team != "*" or viewer.sees_organisation], ids


def _heat(row: MetricsRow) -> list[dict[str, Any]]:
    cells = []
    for key, label in STAGES:
        value = None if row.suppressed else getattr(row, key)
        cells.append({"stage": label, "value": value, "level": _level(value)})
    return cells


def _level(value: float | None) -> str:
    if value is None:
        return "hidden"
    if value < 2.5:
        return "low"
    if value < 3.5:
        return "mid"
    return "high"


def chosen_week(settings: Settings, raw: str | None) -> date:
    """Monday of `?week=YYYY-Www`, else of the last complete week; 404 for a malformed week."""
    if not raw:
        return last_complete_week(settings)
    try:
        return clock.parse_iso_week(raw)
    except ValueError:
        abort(404)


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
        rows, ids = _rows(runtime, viewer, viewer.team_ids, monday)
        return render_template(
            "overview.html",
            week=clock.iso_week(monday),
            headers=[header for header, _ in COLUMNS],
            table=[(ids.get(r.team), [get(r) for _, get in COLUMNS]) for r in rows],
            heat=[(r.team, ids.get(r.team), _heat(r)) for r in rows],
            stages=[label for _, label in STAGES],
            k=settings.min_group_size,
        )

    @app.get("/team/<int:team_id>")
    def team(team_id: int) -> str:
        viewer = signed_in()
        if not viewer.may_see_team(team_id):
            abort(403)
        monday = chosen_week(settings, request.args.get("week"))
        rows = [r for r in _rows(runtime, viewer, (team_id,), monday)[0] if r.team != "*"]
        if not rows:
            abort(404)
        [row] = rows
        return render_template(
            "team.html",
            row=row,
            cells=list(zip([h for h, _ in COLUMNS], [get(row) for _, get in COLUMNS], strict=True)),
            heat=_heat(row),
            k=settings.min_group_size,
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
