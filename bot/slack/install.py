"""Installing Adoptbot through Slack's OAuth flow (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET).

Bolt runs the flow (`/slack/install` -> Slack's authorize page -> `/slack/oauth_redirect` ->
`oauth.v2.access`) with slack_sdk's SQLAlchemy installation and state stores on Adoptbot's own database
(tables `slack_installations`, `slack_bots`, `slack_oauth_states`, created by Alembic). Requests from Slack
get their token from the installation store (Bolt's authorize, which also rotates expiring tokens); the
outbox and commands get theirs from `InstalledToken`: the newest installation's bot token, rotated with
its refresh token when it expires within two hours (token rotation on), re-read every 30 seconds (and on
every call while there is none) so that an install, a reinstall or an uninstall is seen by every
instance. `app_uninstalled` and `tokens_revoked` delete the installation (Bolt's revocation listeners);
sending then stops, nothing queued is lost (the outbox halts on Slack's `not_authed`), and `adoptbot
outbox status` says the app is not installed. The single-token mode (SLACK_BOT_TOKEN) is unchanged and
needs none of this.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, desc, select

from bot.config import DEFAULT_SLACK_API_URL, Settings
from bot.models import SLACK_BOTS

if TYPE_CHECKING:
    from slack_bolt.oauth.oauth_settings import OAuthSettings
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

log = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600
REREAD_SECONDS = 30.0
ROTATE_MINUTES = 120
# The bot scopes the app asks for when installed (manifest.yml lists the same, with why).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "im:write",
    "im:history",
    "channels:history",
    "groups:history",
    "users:read",
    "users:read.email",
    "files:write",
)


def _slack_root(settings: Settings) -> str:
    api = settings.slack_api_url
    if api == DEFAULT_SLACK_API_URL:
        return "https://slack.com/"
    return api[: -len("api/")] if api.endswith("api/") else api


def installation_store(settings: Settings, engine: Engine) -> SQLAlchemyInstallationStore:
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore

    return SQLAlchemyInstallationStore(client_id=settings.slack_client_id or "", engine=engine)


def oauth_settings(settings: Settings, engine: Engine) -> OAuthSettings:
    """Bolt's OAuth settings: the install and redirect paths, the scopes, the stores on our database."""
    from slack_bolt.oauth.oauth_settings import OAuthSettings
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    redirect = f"{settings.public_url}{REDIRECT_PATH}" if settings.public_url else None
    return OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=list(BOT_SCOPES),
        redirect_uri=redirect,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,  # /slack/install goes straight to Slack's page
        authorization_url=f"{_slack_root(settings)}oauth/v2/authorize",
        installation_store=installation_store(settings, engine),
        installation_store_bot_only=True,
        state_store=SQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine),
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=ROTATE_MINUTES,
    )


@dataclass(frozen=True)
class Installed:
    team_id: str | None
    team_name: str | None
    installed_at: datetime


def installed(engine: Engine, settings: Settings) -> Installed | None:
    """The workspace Adoptbot is installed in now (its newest bot), or None (never, or uninstalled)."""
    row = _newest_bot(engine, settings)
    if row is None:
        return None
    return Installed(row["team_id"], row["team_name"], row["installed_at"])


def _newest_bot(engine: Engine, settings: Settings) -> Any:
    query = (
        select(SLACK_BOTS)
        .where(
            SLACK_BOTS.c.client_id == (settings.slack_client_id or ""), SLACK_BOTS.c.bot_token.is_not(None)
        )
        .order_by(desc(SLACK_BOTS.c.installed_at), desc(SLACK_BOTS.c.id))
        .limit(1)
    )
    with engine.connect() as connection:
        return connection.execute(query).mappings().first()


class InstalledToken:
    """The bot token of the installation, for clients that live longer than a request (outbox, commands)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._lock = threading.Lock()
        self._token: str | None = None
        self._read_at = -REREAD_SECONDS

    def __call__(self) -> str | None:
        with self._lock:
            if self._token is None or time.monotonic() - self._read_at >= REREAD_SECONDS:
                self._token = self._current()
                self._read_at = time.monotonic()
            return self._token

    def forget(self) -> None:
        """Read the installation again on the next call (after a refusal, say)."""
        with self._lock:
            self._read_at = -REREAD_SECONDS

    def _current(self) -> str | None:
        row = _newest_bot(self.engine, self.settings)
        if row is None:
            return None
        store = installation_store(self.settings, self.engine)
        bot = store.build_bot_entity(row)
        if bot.bot_refresh_token:
            from slack_sdk import WebClient
            from slack_sdk.errors import SlackApiError, SlackClientError
            from slack_sdk.oauth.token_rotation import TokenRotator

            rotator = TokenRotator(
                client_id=self.settings.slack_client_id or "",
                client_secret=self.settings.slack_client_secret or "",
                client=WebClient(base_url=self.settings.slack_api_url, timeout=10),
            )
            try:
                fresh = rotator.perform_bot_token_rotation(bot=bot, minutes_before_expiration=ROTATE_MINUTES)
            except (SlackApiError, SlackClientError, OSError) as error:
                log.warning("slack: rotating the bot token failed (%s)", type(error).__name__)
                fresh = None
            if fresh is not None:
                store.save_bot(fresh)
                bot = fresh
        return bot.bot_token
