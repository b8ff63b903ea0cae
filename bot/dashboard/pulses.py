"""`/pulses`: each survey's runs with their response progress per team (counts of invitations and answer
sheets only, never an answer), and the change manager's controls: open a run now, close an open one,
set the date of the next run (or go back to the survey's cadence). Change managers only, as
`/adopt pulse` in Slack."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from bot import clock
from bot.dashboard.access import change_manager, write_scope
from bot.db import session_scope
from bot.errors import UsageError
from bot.i18n import format_date
from bot.pulses import calendar
from bot.pulses import service as pulses
from bot.slack.runtime import Runtime


def register(app: Flask, runtime: Runtime) -> None:
    settings, library = runtime.settings, runtime.library

    def local(moment: datetime | None) -> str:
        return clock.local_label(moment, settings.timezone) if moment is not None else "–"

    @app.get("/pulses")
    def pulses_page() -> str:
        change_manager()
        now = clock.utcnow()
        with session_scope(runtime.engine, readonly=True) as db:
            runs = pulses.recent_runs(db, library=library, now=now)
            surveys = [
                (survey, calendar.next_run_date(db, survey, settings), calendar.scheduled_date(db, survey.id))
                for survey in library.surveys.values()
            ]
        return render_template(
            "pulses.html",
            runs=runs,
            surveys=surveys,
            local=local,
            day=lambda d: format_date(d) if d is not None else "–",
            today=clock.local_today(settings.tz).isoformat(),
        )

    @app.post("/pulses/open")
    def open_pulse() -> BaseResponse | tuple[str, int]:
        viewer = change_manager()
        survey_id = request.form.get("survey") or None
        try:
            with write_scope(runtime) as db:
                opened = pulses.open_run(
                    db,
                    library=library,
                    settings=settings,
                    now=clock.utcnow(),
                    survey_id=survey_id,
                    opened_by=viewer.user_id,
                )
        except UsageError as error:
            flash(f"Not opened: {error}")
            return redirect(url_for("pulses_page"))
        flash(f"Pulse #{opened.run_id} is open: {opened.invited} invitations are on their way.")
        return redirect(url_for("pulses_page"))

    @app.post("/pulses/<int:run_id>/close")
    def close_pulse(run_id: int) -> BaseResponse:
        change_manager()
        with write_scope(runtime) as db:
            closed = pulses.close_run(db, run_id, now=clock.utcnow())
        flash(f"Pulse #{run_id} is closed." if closed else f"Pulse #{run_id} had closed already.")
        return redirect(url_for("pulses_page"))

    @app.post("/pulses/schedule")
    def schedule_pulse() -> BaseResponse | tuple[str, int]:
        change_manager()
        survey_id = request.form.get("survey", "")
        if survey_id not in library.surveys:
            abort(404)
        raw = request.form.get("date", "").strip()
        day: date | None = None
        if raw:
            try:
                day = date.fromisoformat(raw)
            except ValueError:
                flash("Not scheduled: that date is not valid.")
                return redirect(url_for("pulses_page"))
            if day < clock.local_today(settings.tz):
                flash("Not scheduled: that date has passed. Pick today or a later day.")
                return redirect(url_for("pulses_page"))
        with write_scope(runtime) as db:
            calendar.schedule(db, survey_id, day)
        title = library.surveys[survey_id].title
        flash(
            f"The next run of “{title}” opens on {format_date(day)}."
            if day
            else f"“{title}” follows its cadence again."
        )
        return redirect(url_for("pulses_page"))
