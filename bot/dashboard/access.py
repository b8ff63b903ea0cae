"""What every dashboard page starts with: who is signed in, whether they may act, and a unit of work whose
queued Slack messages go out right after it commits (as a click in Slack does) and after which the shared
figures are recomputed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import abort, g
from sqlalchemy.orm import Session

from bot.dashboard.rights import Viewer
from bot.db import session_scope
from bot.outbox import queued_in
from bot.slack.runtime import Runtime


def signed_in() -> Viewer:
    """The signed-in viewer; a signed-out request goes to the sign-in page (the 401 handler)."""
    viewer: Viewer | None = g.get("viewer")
    if viewer is None:
        abort(401)
    return viewer


def change_manager() -> Viewer:
    """The signed-in viewer if they are a change manager now; 403 for anyone else."""
    viewer = signed_in()
    if not viewer.change_manager:
        abort(403)
    return viewer


def sees_teams() -> Viewer:
    """The signed-in viewer if they are a change manager or lead a team now; 403 for anyone else."""
    viewer = signed_in()
    if not viewer.sees_teams:
        abort(403)
    return viewer


@contextmanager
def write_scope(runtime: Runtime) -> Iterator[Session]:
    """One unit of work; once committed, the messages it queued are sent at once by this instance (through
    the outbox's normal claim, so never twice), with or without a scheduler."""
    from bot.dashboard.figures import figures_of

    queued: list[str] = []
    with session_scope(runtime.engine) as session:
        yield session
        session.flush()
        queued = [q.key for q in queued_in(session)]
    figures_of(runtime).stale()  # the pages' shared figures are recomputed (served meanwhile)
    if queued and runtime.replies is not None:
        runtime.replies.send_after(queued, None)
