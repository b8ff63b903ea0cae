"""What every listener gets: the app's runtime, a database session for its whole run, the acting person.

Why a scope in the listener and not a session opened in middleware: Bolt's middleware is not an onion.
`next()` only marks the request as allowed to continue; the listener runs after every middleware has
returned, and in HTTP mode (`process_before_response=False`) on another thread of Bolt's listener pool,
often after the ack has already gone back to Slack. A session opened in middleware would be closed (or
worse, shared across threads) by then. So:

- the app (`bot.slack.app.AdoptbotApp.dispatch`) puts its `Runtime` (settings, engine, content library,
  registries) into `context["adoptbot"]` for every request; nothing touches the database before the
  signature has been checked;
- global middleware `skip_duplicate_events` records each Events API `event_id` (table processed_events,
  insert-ignore) and acks a redelivery without running any listener, whether or not Slack marked it with
  `X-Slack-Retry-Num`;
- inside the listener, `with listener_scope(context) as scope:` opens ONE session for the listener's
  work, resolves the acting person (by Slack user ID; None when Adoptbot has no record of them) into
  `scope.person` and `context["person"]`, commits when the block ends (rolls back on error), then runs
  what was registered with `scope.after_commit(...)` (answers that report what was saved).
  Messages enqueued in the scope (`outbox.enqueue`) wake this process's outbox worker on commit (under
  `serve` the worker lives in the gunicorn master and finds them on its next poll, within 1.5 s).

A listener, in full (ack first; slow work after the ack runs on Bolt's pool, still inside the scope):

    def on_tried(ack, body, context):
        ack()
        with listener_scope(context) as scope:
            delivery_id = int(body["actions"][0]["value"])
            nudges.mark_tried(scope.session, person=scope.person, delivery_id=delivery_id)
            outbox.enqueue_update(scope.session, key=..., update_of=..., text=...)

Use `listener_scope(context, readonly=True)` when the listener only reads: on SQLite a write scope takes
the database's write lock up front (see bot.db), which readers should not queue for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from slack_bolt import App, BoltContext, BoltResponse
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.config import Settings
from bot.content import Library
from bot.db import insert_ignore, session_factory
from bot.models import Person, ProcessedEvent
from bot.services.permissions import acting_person, can_use

if TYPE_CHECKING:
    from bot.slack.listeners.home import HomeSections
    from bot.slack.subcommands import Registry

log = logging.getLogger(__name__)

CONTEXT_KEY = "adoptbot"
PERSON_KEY = "person"
ANSWERED_KEY = "adoptbot.answered"  # a threading.Event set once Slack's request has been answered


@dataclass
class Runtime:
    """Everything an app's listeners share; one per `build_app()`."""

    settings: Settings
    engine: Engine
    library: Library
    subcommands: Registry
    home_sections: HomeSections

    def session(self, *, readonly: bool = False) -> Session:
        return session_factory(self.engine, readonly=readonly)()

    @contextmanager
    def unit_of_work(self, *, readonly: bool = False) -> Iterator[Session]:
        """Like `bot.db.session_scope`: commit on success, roll back on any error, always close."""
        session = self.session(readonly=readonly)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


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


@dataclass
class Scope:
    """A listener's unit of work: its session, the acting person and the app's runtime."""

    session: Session
    person: Person | None
    user_id: str | None
    runtime: Runtime
    leads_a_team: bool | None = None  # known from the scope's first query; None: ask the database
    _allowed: dict[str, bool] = field(default_factory=dict, repr=False)
    _after_commit: list[Callable[[], object]] = field(default_factory=list, repr=False)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def library(self) -> Library:
        return self.runtime.library

    def can(self, audience: str) -> bool:
        """Whether the acting person belongs to `audience` ("everyone", "change_manager", "leader")."""
        allowed = self._allowed.get(audience)
        if allowed is None:  # once per audience and request: `leader` costs a query
            allowed = can_use(
                self.person, audience, self.settings, user_id=self.user_id, leads_a_team=self.leads_a_team
            )
            self._allowed[audience] = allowed
        return allowed

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run `callback` once this scope's work is committed (never if it rolls back).

        For answers that report what was saved, e.g. `scope.after_commit(lambda: respond(text="Saved."))`:
        the person is never told "done" about something the database then refused.
        """
        self._after_commit.append(callback)


@contextmanager
def listener_scope(context: BoltContext, *, readonly: bool = False) -> Iterator[Scope]:
    """One session for a listener's work, with the acting person resolved; commit at the end."""
    runtime = runtime_from(context)
    user_id = context.user_id
    with runtime.unit_of_work(readonly=readonly) as session:
        person, leads_a_team = acting_person(session, user_id)
        scope = Scope(
            session=session, person=person, user_id=user_id, runtime=runtime, leads_a_team=leads_a_team
        )
        context[PERSON_KEY] = scope.person
        yield scope
    for callback in scope._after_commit:
        callback()


def skip_duplicate_events(runtime: Runtime) -> Callable[..., Any]:
    """Global middleware: an Events API delivery whose `event_id` was seen before is acked, not processed.

    The event ID is recorded (insert-ignore, its own short transaction) before any listener runs; the
    database decides, so two instances receiving the same redelivery at once process it once. Listeners
    are idempotent too (outbox keys such as `welcome:<user>`), so an event whose listener failed after being
    recorded loses nothing that a retry would have fixed twice. Old IDs are deleted by the scheduled
    housekeeping job (bot.jobs).
    """

    def adoptbot_skip_duplicate_events(
        body: dict[str, Any], next: Callable[[], None], logger: logging.Logger
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            next()
            return None
        with runtime.unit_of_work() as session:
            fresh = insert_ignore(
                session,
                ProcessedEvent,
                [{"event_id": event_id[:64], "received_at": utcnow()}],
                conflict=["event_id"],
            )
        if not fresh:
            logger.info("event %s was delivered before; acknowledged without processing it again", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return adoptbot_skip_duplicate_events
