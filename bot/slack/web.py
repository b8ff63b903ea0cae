"""Web pages served beside Slack's requests on the same port (`adoptbot serve`): a registry of mounts.

A feature adds a WSGI application under a path prefix (`add_mount(app, "/dashboard", make)`, from
`bot.wiring`); `bot.server.WsgiApp` builds each one on its first request and hands it every request under
that prefix, with `SCRIPT_NAME` and `PATH_INFO` set as WSGI expects, so the mounted app's own links work.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt import App

from bot.slack.runtime import Runtime, runtime_of

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

WsgiApplication = Callable[["WSGIEnvironment", "StartResponse"], Iterable[bytes]]
MOUNTS = "slack.web.mounts"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mount:
    make: Callable[[Runtime], WsgiApplication]  # builds the application (on its first request)
    warm: Callable[[Runtime], None] | None = None  # prepares what its first pages need, when a server starts


def add_mount(
    app: App,
    prefix: str,
    make: Callable[[Runtime], WsgiApplication],
    *,
    warm: Callable[[Runtime], None] | None = None,
) -> None:
    """Serve `make(runtime)` (built on first use) for every request under `prefix` ("/dashboard");
    `warm(runtime)` runs in the background when `adoptbot serve` starts a worker."""
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError(f"a mount's prefix looks like '/dashboard', not {prefix!r}")
    mounts(runtime_of(app))[prefix] = Mount(make, warm)


def mounts(runtime: Runtime) -> dict[str, Mount]:
    """The mounts of an app: prefix -> what builds its WSGI application."""
    found: dict[str, Any] = runtime.shared(MOUNTS, dict)
    return found


def warm(runtime: Runtime) -> list[threading.Thread]:
    """Start each mount's warm-up on a daemon thread (a failure is logged, never raised)."""

    def run(prepare: Callable[[Runtime], None], prefix: str) -> None:
        try:
            prepare(runtime)
        except Exception as error:
            log.warning("warming %s failed (%s)", prefix, type(error).__name__)

    threads = []
    for prefix, mount in mounts(runtime).items():
        if mount.warm is not None:
            thread = threading.Thread(
                target=run, args=(mount.warm, prefix), name=f"warm{prefix}", daemon=True
            )
            thread.start()
            threads.append(thread)
    return threads
