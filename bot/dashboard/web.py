"""Where the dashboard is served: `/dashboard` on `adoptbot serve`'s port (`bot.wiring` calls `register`)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack import web
from bot.slack.runtime import Runtime

PREFIX = "/dashboard"


def _make(runtime: Runtime) -> web.WsgiApplication:
    from bot.dashboard.app import create_app  # Flask is imported when the dashboard is first opened

    return create_app(runtime)


def _warm(runtime: Runtime) -> None:
    """Compute the figures the overview of the last complete week needs, before anyone asks (only where
    people can sign in)."""
    from bot.dashboard import signin
    from bot.dashboard.figures import warm

    if signin.configured(runtime.settings):
        warm(runtime)


def register(app: App) -> None:
    web.add_mount(app, PREFIX, _make, warm=_warm)
