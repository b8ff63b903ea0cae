"""Web pages served beside Slack's requests on the same port (`adoptbot serve`): a registry of mounts.

A feature adds a WSGI application under a path prefix (`add_mount(app, "/dashboard", make)`, from
`bot.wiring`); `bot.server.WsgiApp` builds each one on its first request and hands it every request under
that prefix, with `SCRIPT_NAME` and `PATH_INFO` set as WSGI expects, so the mounted app's own links work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App

from bot.slack.runtime import Runtime, runtime_of

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

WsgiApplication = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]
MOUNTS = "slack.web.mounts"


def add_mount(app: App, prefix: str, make: Callable[[Runtime], WsgiApplication]) -> None:
    """Serve `make(runtime)` (built on first use) for every request under `prefix` ("/dashboard")."""
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError(f"a mount's prefix looks like '/dashboard', not {prefix!r}")
    mounts(runtime_of(app))[prefix] = make


def mounts(runtime: Runtime) -> dict[str, Callable[[Runtime], WsgiApplication]]:
    """The mounts of an app: prefix -> what builds its WSGI application."""
    found: dict[str, Any] = runtime.shared(MOUNTS, dict)
    return found
