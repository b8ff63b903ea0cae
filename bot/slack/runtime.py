"""The app's runtime: what every listener of one Bolt app shares (settings, engine, content library,
the reply sender, and what the Slack runtime and the features keep per app: the `/adopt`
subcommands, the Home sections, caches), bound to the app by `build_app`.

The app (`bot.slack.app.AdoptbotApp.dispatch`) puts its `Runtime` into `context["adoptbot"]` for every
request; nothing touches the database before the signature has been checked. Inside a listener, reach
it through the scope (`bot.slack.scope`): `scope.runtime`. A feature that keeps something per app (a
cache, say) asks `runtime.shared(key, make)`, so the runtime names no feature.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast
from weakref import WeakKeyDictionary

from slack_bolt import App, BoltContext
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.content import Library
from bot.db import session_factory, session_scope, statement_reader

if TYPE_CHECKING:
    from bot.slack.replies import ReplySender

CONTEXT_KEY = "adoptbot"
ANSWERED_KEY = "adoptbot.answered"  # a threading.Event set once Slack's request has been answered
LANGUAGE_KEY = "adoptbot.language"  # the acting person's language, once a listener scope knows it

T = TypeVar("T")


@dataclass
class Runtime:
    """Everything an app's listeners share; one per `build_app()`."""

    settings: Settings
    engine: Engine
    library: Library
    replies: ReplySender | None = None  # sends what a request queued right after its answer
    _shared: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _shared_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @cached_property
    def reader(self) -> Engine:
        """The engine for light scopes' reads: one statement at a time, no transaction around them
        (`bot.db.statement_reader`), built once."""
        return statement_reader(self.engine)

    def shared(self, key: str, make: Callable[[], T]) -> T:
        """This app's one `make()` under `key` (made on first use): what a feature keeps per app."""
        with self._shared_lock:
            if key not in self._shared:
                self._shared[key] = make()
            return cast(T, self._shared[key])

    def session(self, *, readonly: bool = False) -> Session:
        return session_factory(self.engine, readonly=readonly)()

    @contextmanager
    def unit_of_work(self, *, readonly: bool = False) -> Iterator[Session]:
        """`bot.db.session_scope` on this app's engine: commit on success, roll back on any error."""
        with session_scope(self.engine, readonly=readonly) as session:
            yield session


_runtimes: WeakKeyDictionary[App, Runtime] = WeakKeyDictionary()


def bind_runtime(app: App, runtime: Runtime) -> None:
    _runtimes[app] = runtime


def runtime_of(app: App) -> Runtime:
    """The runtime of an app made by `bot.slack.app.build_app` (for `register(app)` functions)."""
    try:
        return _runtimes[app]
    except KeyError:
        raise RuntimeError("this Bolt app was not built by bot.slack.app.build_app") from None


def runtime_from(context: BoltContext) -> Runtime:
    """The runtime inside a listener (put there by `AdoptbotApp.dispatch`)."""
    runtime = context.get(CONTEXT_KEY)
    if not isinstance(runtime, Runtime):
        raise RuntimeError("no Adoptbot runtime in the Bolt context; was the app built by build_app?")
    return runtime
