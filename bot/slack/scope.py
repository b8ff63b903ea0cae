"""What every listener gets: a database session for its whole run, the acting person, the app's runtime.

Why a scope in the listener and not a session opened in middleware: Bolt's middleware is not an onion.
`next()` only marks the request as allowed to continue; the listener runs after every middleware has
returned, and in HTTP mode (`process_before_response=False`) on another thread of Bolt's listener pool,
often after the ack has already gone back to Slack. A session opened in middleware would be closed (or
worse, shared across threads) by then. So:

- the app (`bot.slack.app.AdoptbotApp.dispatch`) puts its `Runtime` (`bot.slack.runtime`) into
  `context["adoptbot"]` for every request; redelivered events are acked before any listener runs
  (`bot.slack.dedupe`);
- inside the listener, `with listener_scope(context) as scope:` opens ONE session for the listener's
  work, resolves the acting person (by Slack user ID; None when Adoptbot has no record of them) into
  `scope.person` and `context["person"]`, sets the acting person's language for the block
  (`bot.i18n.use_language(scope.language)`: every `_()` inside answers in it), commits when the block
  ends (rolls back on error), then runs what was registered with `scope.after_commit(...)` (answers that
  report what was saved).
  Messages enqueued in the scope (`outbox.enqueue`) are sent by this instance as soon as Slack has had
  its answer (`bot.slack.replies`), with or without a scheduler, through the outbox's normal claim.

A listener, in full (ack first; slow work after the ack runs on Bolt's pool, still inside the scope):

    def on_tried(ack, body, context):
        ack()
        with listener_scope(context) as scope:
            delivery_id = int(body["actions"][0]["value"])
            nudges.mark_tried(scope.session, person=scope.person, delivery_id=delivery_id)
            outbox.enqueue_update(scope.session, key=..., update_of=..., text=...)

Use `listener_scope(context, readonly=True)` when the listener only reads: on SQLite a write scope takes
the database's write lock up front (see bot.db), which readers should not queue for.

Light listeners: `listener_scope(context, readonly=True, person=False)` for a listener that needs no
`Person` object, only who is acting (`scope.can(...)`, `scope.principal`: role, team, rights) and a few
Core reads (`scope.connection`). Such a scope loads no ORM object and opens no ORM session: one pooled
connection, opened on first use, whose statements run without a transaction around them
(`bot.db.statement_reader`), and one light query (`bot.permissions.acting_principal`) when
rights are asked. `/adopt help` and the role modal's buttons are answered this way. `scope.session` and
`scope.person` still work in a light scope (the session is opened, and the person loaded, on first use;
the light connection is handed back first).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from slack_bolt import BoltContext
from sqlalchemy import Connection, update
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.config import Settings
from bot.content import Library
from bot.db import insert_ignore
from bot.i18n import locale_of, use_language
from bot.models import Person, ProcessedEvent
from bot.outbox import queued_in
from bot.permissions import Principal, acting_person, acting_principal
from bot.slack.runtime import ANSWERED_KEY, LANGUAGE_KEY, Runtime, runtime_from

log = logging.getLogger(__name__)

PERSON_KEY = "person"
# processed_events keys of handled modal submissions (event IDs start "Ev")
VIEW_KEY_PREFIX = "view:"


class Scope:
    """A listener's unit of work: its session, the acting person and the app's runtime.

    The session, the person and the light connection are opened or loaded when first used (a full scope,
    `person=True`, loads the person at once, so its first query also answers every `can`).
    """

    def __init__(
        self, runtime: Runtime, user_id: str | None, *, readonly: bool, context: BoltContext | None = None
    ) -> None:
        self.runtime = runtime
        self.user_id = user_id
        self.readonly = readonly
        self._context = context
        self._session: Session | None = None
        self._connection: Connection | None = None  # the light connection, while no session is open
        self._person: Person | None = None
        self._person_loaded = False
        self._leads_a_team: bool | None = None
        self._principal: Principal | None = None
        self._allowed: dict[str, bool] = {}
        self._after_commit: list[Callable[[], object]] = []

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def library(self) -> Library:
        return self.runtime.library

    @property
    def session(self) -> Session:
        """The scope's ORM session (opened on first use; committed when the scope ends)."""
        if self._session is None:
            if self._connection is not None:  # it only read: hand it back, the session takes over
                connection, self._connection = self._connection, None
                try:
                    connection.commit()
                finally:
                    connection.close()
            self._session = self.runtime.session(readonly=self.readonly)
        return self._session

    @property
    def connection(self) -> Connection:
        """A connection for Core reads: the session's once it is open, else a light one of the scope's own
        (each statement on its own, no transaction, no write lock). Writes go through `session`."""
        if self._session is not None:
            return self._session.connection()
        if self._connection is None:
            self._connection = self.runtime.reader.connect()
        return self._connection

    @property
    def person(self) -> Person | None:
        """The acting person (None for someone Adoptbot has no record of), loaded on first use."""
        if not self._person_loaded:
            person, self._leads_a_team = acting_person(self.session, self.user_id)
            self._set_person(person)
        return self._person

    @person.setter
    def person(self, person: Person | None) -> None:
        self._set_person(person)

    def _set_person(self, person: Person | None) -> None:
        self._person, self._person_loaded = person, True
        self._principal = None
        self._allowed.clear()
        if self._context is not None:
            self._context[PERSON_KEY] = person

    @property
    def leads_a_team(self) -> bool | None:
        """Whether the acting person leads a team by name (from the person's query); None: unknown."""
        if not self._person_loaded:
            self.person  # noqa: B018 - loads the person, and with it this answer
        return self._leads_a_team

    @property
    def principal(self) -> Principal:
        """Who is acting, for the permission rules: from the person once loaded, else one light query."""
        if self._principal is None:
            if self._person_loaded:
                self._principal = Principal.of(
                    self._person, user_id=self.user_id, leads_a_team=self._leads_a_team
                )
            else:
                self._principal = acting_principal(self.connection, self.user_id)
        return self._principal

    @property
    def language(self) -> str:
        """The acting person's language (roster, else Slack, else ADOPTBOT_LOCALE): what the scope's
        answers, modals and App Home are written in."""
        if self._person_loaded and self._person is not None:
            return locale_of(self._person.locale, self._person.slack_locale, self.settings)
        return locale_of(self.principal.locale, None, self.settings)

    def can(self, audience: str) -> bool:
        """Whether the acting person belongs to `audience` ("everyone", "change_manager", "leader")."""
        if audience == "everyone":
            return True
        allowed = self._allowed.get(audience)
        if allowed is None:  # once per audience and request
            allowed = self._allowed[audience] = self.principal.can(audience, self.settings)
        return allowed

    def first_submission(self, view: dict[str, Any]) -> bool:
        """Whether this is the first time a submission of `view` does its work; False for a replay.

        Call it right before the side effect (after validation: a submission answered with field errors
        keeps its view ID and may come again, corrected). The view's ID is recorded in processed_events
        in this scope's transaction, so it is kept exactly when the side effect is: a rolled-back attempt
        can be submitted again, and of two copies of one request (a replay of a signed request, on any
        instance) the database lets one through.
        """
        view_id = view.get("id")
        if not isinstance(view_id, str) or not view_id:
            return True
        key = f"{VIEW_KEY_PREFIX}{view_id}"[:64]
        return bool(
            insert_ignore(
                self.session,
                ProcessedEvent,
                [{"event_id": key, "received_at": utcnow()}],
                conflict=["event_id"],
            )
        )

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run `callback` once this scope's work is committed (never if it rolls back).

        For answers that report what was saved, e.g. `scope.after_commit(lambda: respond(text="Saved."))`:
        the person is never told "done" about something the database then refused.
        """
        self._after_commit.append(callback)

    def _commit(self) -> None:
        if self._session is not None:
            self._session.commit()
        if self._connection is not None:
            self._connection.commit()

    def _rollback(self) -> None:
        if self._session is not None:
            self._session.rollback()
        if self._connection is not None:
            self._connection.rollback()

    def _close(self) -> None:
        session, self._session = self._session, None
        connection, self._connection = self._connection, None
        try:
            if session is not None:
                session.close()
        finally:
            if connection is not None:
                connection.close()


def note_workspace(scope: Scope, workspace: str | None) -> None:
    """Remember the Slack workspace the acting person acted from (`T...`): on Enterprise Grid, installed
    workspace by workspace, their messages go with that workspace's token. Only when the person was
    loaded and it changed (once per person and workspace): one short write after the scope's own."""
    person = scope._person
    if not workspace or person is None or person.slack_workspace_id == workspace:
        return
    with scope.runtime.unit_of_work() as session:
        session.execute(
            update(Person)
            .where(Person.id == person.id, Person.erased_at.is_(None))
            .values(slack_workspace_id=workspace, updated_at=Person.updated_at),  # not a roster change
            execution_options={"synchronize_session": False},
        )


@contextmanager
def listener_scope(
    context: BoltContext,
    *,
    readonly: bool = False,
    person: bool = True,
    learn_workspace: bool = True,
    language: str | None = None,
) -> Iterator[Scope]:
    """One unit of work for a listener, with the acting person resolved; commit at the end.

    `person=False`: a light scope (see the module docstring): the person is not loaded up front, and
    `can`/`principal` come from one Core query instead. `learn_workspace=False`: the person's row is not
    written, even to remember their workspace (answering a pulse must leave no trace on it: not its
    time, nor, through the row's version, its order). `language`: the language the request itself says
    the person reads (a button that carries it), so a light scope need not read it.
    """
    scope = Scope(runtime_from(context), context.user_id, readonly=readonly, context=context)
    queued: list[str] = []
    try:
        if person:
            scope.person  # noqa: B018 - one query: the person, and whether they lead a team
        language = language or scope.language
        context[LANGUAGE_KEY] = language  # the error handler answers in it too
        with use_language(language):  # the bot's words in the acting person's language
            yield scope
        if scope._session is not None:
            queued = [q.key for q in queued_in(scope._session)]
        scope._commit()
    except BaseException:
        scope._rollback()
        raise
    finally:
        scope._close()
    if learn_workspace:
        note_workspace(scope, context.team_id)
    if queued and scope.runtime.replies is not None:
        answered = context.get(ANSWERED_KEY)
        scope.runtime.replies.send_after(queued, answered if isinstance(answered, threading.Event) else None)
    for callback in scope._after_commit:
        callback()
