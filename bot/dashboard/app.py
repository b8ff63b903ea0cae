"""The dashboard's Flask application: cookies, sign-in and sign-out, CSRF, and who is looking.

The session cookie is Flask's: signed with the installation's key (`bot.dashboard.secret`), HttpOnly,
SameSite=Lax, Secure when ADOPTBOT_PUBLIC_URL is https, scoped to `/dashboard`. It holds the person's
Slack user ID, when they signed in and a CSRF token; it expires 12 hours after sign-in whatever the
browser does (checked on the server, against the signed sign-in time). Rights are read from the database
on every request (`bot.dashboard.rights`). Every POST carries the CSRF token of the session in a hidden
field, compared in constant time; without it the request changes nothing (400).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import UTC, timedelta
from typing import Any

from flask import Flask, Response, abort, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from bot.clock import utcnow
from bot.dashboard import audit, broadcasts, content, exports, pages, people, pulses, signin, wins
from bot.dashboard.rights import Viewer, load_viewer
from bot.dashboard.secret import session_secret
from bot.db import session_scope
from bot.slack.runtime import Runtime

log = logging.getLogger(__name__)

SESSION_HOURS = 12
COOKIE = "adoptbot_session"


def create_app(runtime: Runtime) -> Flask:
    settings = runtime.settings
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=session_secret(runtime.engine, settings),
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings.public_url and settings.public_url.startswith("https://")),
        SESSION_COOKIE_PATH="/dashboard",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # A roster of 100,000 people is a few MB; the preview's Apply form carries it back as a field.
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        MAX_FORM_MEMORY_SIZE=64 * 1024 * 1024,
    )
    app.extensions["adoptbot"] = runtime

    @app.before_request
    def before() -> BaseResponse | None:
        g.viewer = _viewer(runtime)
        if request.method == "POST":
            sent = request.form.get("csrf", "")
            expected = session.get("csrf")
            if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
                abort(400, "This form has expired. Go back, reload the page and try again.")
        return None

    @app.context_processor
    def common() -> dict[str, Any]:
        return {"viewer": g.get("viewer"), "csrf": _csrf_token()}

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", "default-src 'self'; img-src 'self' data:")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(400)
    @app.errorhandler(403)
    @app.errorhandler(404)
    def error(failure: Any) -> tuple[str, int]:
        code = int(getattr(failure, "code", 500))
        text = {
            400: getattr(failure, "description", None) or "That request was not understood.",
            403: "You don't have access to this page. "
            "Change managers see every team; leaders the teams they lead.",
            404: "There is no such page.",
        }[code]
        return render_template("message.html", title=str(code), text=text), code

    @app.errorhandler(500)
    def broken(_failure: Any) -> tuple[str, int]:
        text = "Something went wrong on our side; it has been logged. Please try again in a moment."
        return render_template("message.html", title="Sorry", text=text), 500

    @app.get("/signin")
    def signin_page() -> str:
        return render_template("signin.html", configured=signin.configured(settings))

    @app.get("/login")
    def login() -> BaseResponse:
        if not signin.configured(settings):
            abort(404)
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        session.clear()
        session["state"] = state
        return redirect(signin.authorize_url(settings, state=state, nonce=nonce))

    @app.get("/auth/callback")
    def callback() -> BaseResponse | tuple[str, int]:
        expected = session.pop("state", None)
        state = request.args.get("state", "")
        if not isinstance(expected, str) or not hmac.compare_digest(state.encode(), expected.encode()):
            return _refused("The sign-in link has expired or was not started here. Please sign in again.")
        code = request.args.get("code")
        if not code:
            return _refused("Slack did not complete the sign-in. Please try again.")
        try:
            who = signin.exchange(settings, code)
        except signin.SignInFailed as failure:
            log.warning("dashboard sign-in failed: %s", failure)
            return _refused("Slack could not confirm who you are. Please try again.")
        with session_scope(runtime.engine, readonly=True) as db:
            viewer = load_viewer(db, settings, who.user_id)
        if viewer is None:
            return _refused(
                "You are not on Adoptbot's active roster, so there is no dashboard for you. "
                "Ask a change manager if that is wrong."
            )
        session.clear()  # a new session for the signed-in person: nothing carried over from before
        session.permanent = True
        session.update(uid=viewer.user_id, iat=_now_seconds())
        session["csrf"] = secrets.token_urlsafe(32)
        return redirect(url_for("home"))

    @app.post("/logout")
    def logout() -> BaseResponse:
        session.clear()
        return redirect(url_for("signin_page"))

    for feature in (pages, wins, pulses, broadcasts, people, content, exports, audit):
        feature.register(app, runtime)
    return app


def _now_seconds() -> int:
    """Seconds since the epoch, from the product's clock (naive UTC)."""
    return int(utcnow().replace(tzinfo=UTC).timestamp())


def _csrf_token() -> str:
    token = session.get("csrf")
    return token if isinstance(token, str) else ""


def _viewer(runtime: Runtime) -> Viewer | None:
    """The signed-in person with their rights as they are now, or None (signed out, expired, removed)."""
    user_id, issued = session.get("uid"), session.get("iat")
    if not isinstance(user_id, str) or not isinstance(issued, int):
        return None
    if _now_seconds() - issued > SESSION_HOURS * 3600:
        session.clear()
        return None
    with session_scope(runtime.engine, readonly=True) as db:
        viewer = load_viewer(db, runtime.settings, user_id)
    if viewer is None:
        session.clear()
    return viewer


def _refused(text: str) -> tuple[str, int]:
    return render_template("message.html", title="Sign-in", text=text, signin=True), 403
