"""Where SCIM is served: `/scim/v2` on `adoptbot serve`'s port (`bot.wiring` calls `register`)."""

from __future__ import annotations

from slack_bolt import App

from bot.slack import web
from bot.slack.runtime import Runtime

PREFIX = "/scim/v2"


def _make(runtime: Runtime) -> web.WsgiApplication:
    from bot.scim.app import create_app  # Flask and the SCIM modules load on the first SCIM request

    return create_app(runtime)


def register(app: App) -> None:
    web.add_mount(app, PREFIX, _make)
