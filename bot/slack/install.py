"""Installing Adoptbot through Slack's OAuth flow (SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_STATE_SECRET).

Bolt runs the flow (`/slack/install` -> Slack's authorize page -> `/slack/oauth_redirect` ->
`oauth.v2.access`) with slack_sdk's SQLAlchemy installation and state stores on Adoptbot's own database
(tables `slack_installations`, `slack_bots`, `slack_oauth_states`, created by Alembic). Requests from Slack
get their token from the installation store (Bolt's authorize, which also rotates expiring tokens, and
finds an org-wide installation for a request from any workspace of an Enterprise Grid organisation); the
outbox and commands get theirs from `InstalledToken`: for a person's workspace, that workspace's own
installation, else the organisation's org-wide one (`_bot_for`), rotated with its refresh token when it
expires within two hours (token rotation on), re-read every 30 seconds (and on every call while there is
none) so that an install, a reinstall or an uninstall is seen by every instance. `app_uninstalled` and
`tokens_revoked` delete the installation (Bolt's revocation listeners); sending then stops (for the people
of that workspace only, when other workspaces stay installed), nothing queued is lost (the outbox holds
what has no token, and halts on Slack's `not_authed`), and `adoptbot outbox status` says where the app is
installed, or that it is not. The single-token mode (SLACK_BOT_TOKEN) is unchanged and needs none of this.
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
class Workspace:
    team_id: str
    team_name: str | None


@dataclass(frozen=True)
class Installed:
    """Where Adoptbot is installed now: one workspace, several workspaces of a Grid organisation (each
    installed on its own), or a whole Grid organisation at once (`org_wide`)."""

    workspaces: tuple[Workspace, ...]
    enterprise_id: str | None
    enterprise_name: str | None
    org_wide: bool
    installed_at: datetime

    @property
    def team_id(self) -> str | None:
        return self.workspaces[0].team_id if len(self.workspaces) == 1 else None

    def describe(self) -> str:
        since = f"{self.installed_at:%Y-%m-%d}"
        org = self.enterprise_name or self.enterprise_id
        if self.org_wide:
            return f"Installed org-wide in Slack organisation {org} (all its workspaces) since {since}."
        names = ", ".join(w.team_name or w.team_id for w in self.workspaces)
        if len(self.workspaces) == 1:
            return f"Installed in Slack workspace {names} since {since}."
        where = f" of organisation {org}" if org else ""
        return f"Installed in {len(self.workspaces)} Slack workspaces{where} ({names}) since {since}."


def installed(engine: Engine, settings: Settings) -> Installed | None:
    """Where Adoptbot is installed now (the current bot of each installation), or None (never, or
    uninstalled everywhere)."""
    rows = _current_bots(engine, settings)
    if not rows:
        return None
    org_wide = [row for row in rows if row["is_enterprise_install"]]
    chosen = org_wide or rows
    workspaces = tuple(
        Workspace(row["team_id"], row["team_name"]) for row in rows if row["team_id"] and not org_wide
    )
    first = chosen[0]
    return Installed(
        workspaces=workspaces,
        enterprise_id=first["enterprise_id"],
        enterprise_name=first["enterprise_name"],
        org_wide=bool(org_wide),
        installed_at=min(row["installed_at"] for row in chosen),
    )


def _current_bots(engine: Engine, settings: Settings) -> list[Any]:
    """The newest bot row of each installation (an organisation, or a workspace), newest first."""
    query = (
        select(SLACK_BOTS)
        .where(
            SLACK_BOTS.c.client_id == (settings.slack_client_id or ""), SLACK_BOTS.c.bot_token.is_not(None)
        )
        .order_by(desc(SLACK_BOTS.c.installed_at), desc(SLACK_BOTS.c.id))
    )
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    seen: set[tuple[Any, ...]] = set()
    current = []
    for row in rows:
        key = (row["enterprise_id"], None if row["is_enterprise_install"] else row["team_id"])
        if key not in seen:
            seen.add(key)
            current.append(row)
    return current


def _bot_for(rows: list[Any], workspace: str | None) -> Any:
    """The installation whose token reaches `workspace`: its own install, else the organisation's
    org-wide install. With no workspace known, or an app that is not on Grid (no organisation), the
    newest; None when the workspace is in a Grid organisation where it is not installed."""
    if not rows:
        return None
    if workspace is not None:
        for row in rows:
            if row["team_id"] == workspace and not row["is_enterprise_install"]:
                return row
    for row in rows:
        if row["is_enterprise_install"]:
            return row
    if workspace is not None and any(row["enterprise_id"] for row in rows):
        return None
    return rows[0]


class InstalledToken:
    """The bot token of the installation, for clients that live longer than a request (outbox, commands).

    Called with a workspace (`T...`), it gives the token that reaches people there: that workspace's own
    installation, else the organisation's org-wide one (see `_bot_for`)."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self._lock = threading.Lock()
        self._tokens: dict[str | None, tuple[str | None, float]] = {}
        # channel or person -> (the installed workspace that reaches it, or None, until: time.monotonic())
        self._channel_homes: dict[str, tuple[str | None, float]] = {}
        self._workspaces: tuple[list[str | None] | None, float] = (None, 0.0)

    def __call__(self, workspace: str | None = None) -> str | None:
        with self._lock:
            token, read_at = self._tokens.get(workspace, (None, -REREAD_SECONDS))
            if token is None or time.monotonic() - read_at >= REREAD_SECONDS:
                token = self._current(workspace)
                self._tokens[workspace] = (token, time.monotonic())
            return token

    def forget(self) -> None:
        """Read the installations again on the next call (after a refusal, say)."""
        with self._lock:
            self._tokens.clear()
            self._channel_homes.clear()
            self._workspaces = (None, 0.0)

    def channel_home(self, channel: str) -> tuple[bool, str | None]:
        """(whether it is known, the installed workspace whose token sees `channel`, None for none), as
        `keep_channel_home` was told, for as long as it was told."""
        with self._lock:
            home, until = self._channel_homes.get(channel, (None, 0.0))
        return (time.monotonic() < until, home)

    def keep_channel_home(self, channel: str, home: str | None, seconds: float) -> None:
        with self._lock:
            if len(self._channel_homes) > 200_000:
                self._channel_homes.clear()
            self._channel_homes[channel] = (home, time.monotonic() + seconds)

    def installed_anywhere(self) -> bool:
        return bool(_current_bots(self.engine, self.settings))

    def workspaces(self) -> list[str | None]:
        """One key a token is asked for by, per installation: None for an org-wide install (its token
        acts in every approved workspace), else each installed workspace, newest install first. Re-read
        every 30 seconds, like the tokens."""
        with self._lock:
            listed, read_at = self._workspaces
        if listed is None or time.monotonic() - read_at >= REREAD_SECONDS:
            rows = _current_bots(self.engine, self.settings)
            if any(row["is_enterprise_install"] for row in rows):
                listed = [None]
            else:
                listed = [row["team_id"] for row in rows if row["team_id"]]
            with self._lock:
                self._workspaces = (listed, time.monotonic())
        return list(listed)

    def _current(self, workspace: str | None) -> str | None:
        row = _bot_for(_current_bots(self.engine, self.settings), workspace)
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
