"""The key that signs the dashboard's session cookie: ADOPTBOT_SESSION_SECRET, else one generated once and
kept in the database, so every instance of one installation signs and checks with the same key."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine, select

from bot.config import Settings
from bot.db import insert_ignore, session_scope
from bot.models import AppState

SESSION_SECRET_KEY = "dashboard_session_secret"


def session_secret(engine: Engine, settings: Settings) -> str:
    """ADOPTBOT_SESSION_SECRET, else the installation's generated secret (created once, race-free)."""
    if settings.session_secret:
        return settings.session_secret
    with session_scope(engine) as session:
        value = session.scalar(select(AppState.value).where(AppState.key == SESSION_SECRET_KEY))
        if value is None:
            insert_ignore(
                session,
                AppState,
                [{"key": SESSION_SECRET_KEY, "value": secrets.token_urlsafe(48)}],
                conflict=["key"],
            )
            value = session.scalar(select(AppState.value).where(AppState.key == SESSION_SECRET_KEY))
    assert value is not None
    return value
