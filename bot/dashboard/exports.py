"""`/exports`: the metrics of a chosen week as CSV or JSON, exactly what `adoptbot metrics --format csv|json`
writes (the same columns, the same suppression, formula-safe cells; the figures the overview shows, at
most a few minutes old), limited to the teams the viewer may see; the whole organisation's row only for
those who may see it. A team in the URL that the viewer may not see is 403, not an empty file."""

from __future__ import annotations

from flask import Flask, Response, abort, render_template, request
from sqlalchemy import select

from bot import clock
from bot.dashboard.access import sees_teams
from bot.dashboard.figures import figures_of
from bot.dashboard.pages import chosen_week
from bot.db import session_scope
from bot.metrics.format import to_csv, to_json
from bot.models import Team
from bot.slack.runtime import Runtime


def register(app: Flask, runtime: Runtime) -> None:
    settings = runtime.settings

    @app.get("/exports")
    def exports_page() -> str:
        viewer = sees_teams()
        monday = chosen_week(settings, request.args.get("week"))
        with session_scope(runtime.engine, readonly=True) as db:
            teams = [
                (t.id, t.name)
                for t in db.scalars(select(Team).where(Team.id.in_(viewer.team_ids)).order_by(Team.name))
            ]
        return render_template("exports.html", week=clock.iso_week(monday), teams=teams)

    @app.get("/exports/metrics.<fmt>")
    def export_metrics(fmt: str) -> Response:
        viewer = sees_teams()
        if fmt not in ("csv", "json"):
            abort(404)
        monday = chosen_week(settings, request.args.get("week"))
        asked = request.args.getlist("team")
        if any(not t.isdigit() or not viewer.may_see_team(int(t)) for t in asked):
            abort(403)
        wanted = [int(t) for t in asked] or list(viewer.team_ids)
        with session_scope(runtime.engine, readonly=True) as db:
            names = set(db.scalars(select(Team.name).where(Team.id.in_(wanted))))
        every = figures_of(runtime).rows(monday) if names else {}
        rows = [row for name, row in every.items() if name in names or name == "*"]
        rows = [r for r in rows if r.team != "*" or viewer.sees_organisation]
        week = clock.iso_week(monday)
        body, kind = (
            (to_csv(rows), "text/csv") if fmt == "csv" else (to_json(rows) + "\n", "application/json")
        )
        return Response(
            body,
            mimetype=kind,
            headers={"Content-Disposition": f'attachment; filename="adoptbot-metrics-{week}.{fmt}"'},
        )
