"""The one way to build a Slack Web API client: SLACK_API_URL honoured, retries from slack_sdk."""

from __future__ import annotations

import copy
import logging
import threading
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings
from bot.errors import loggable
from bot.slack.install import InstalledToken

log = logging.getLogger(__name__)


def make_web_client(settings: Settings, *, retry_rate_limits: bool = True, timeout: int = 30) -> WebClient:
    """A WebClient for the bot token at `settings.slack_api_url`.

    Interactive calls (views.open, views.publish) retry connection errors, 5xx and 429 (honouring
    Retry-After) inside slack_sdk. The outbox passes `retry_rate_limits=False`: it reschedules a
    rate-limited message itself, so one 429 never stalls the other messages behind it.
    """
    handlers = [ConnectionErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=2)]
    if retry_rate_limits:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    if settings.oauth_install and not settings.slack_bot_token:
        return InstalledClient(
            installed_token(settings),
            base_url=settings.slack_api_url,
            timeout=timeout,
            retry_handlers=handlers,
        )
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=handlers,
    )


class InstalledClient(WebClient):
    """A WebClient whose bot token is the OAuth installation's as it is now (rotated, reinstalled, or none
    once uninstalled: Slack then answers `not_authed`, and the outbox stops without losing anything).

    `for_workspace(T...)` is the same client with the token that reaches that workspace's people (its own
    installation, or the Grid organisation's org-wide one)."""

    def __init__(self, token: InstalledToken, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._installed = token
        self.workspace: str | None = None

    def for_workspace(self, workspace: str | None) -> InstalledClient:
        if workspace == self.workspace:
            return self
        other = copy.copy(self)
        other.workspace = workspace
        return other

    def has_token(self) -> bool:
        return self._installed(self.workspace) is not None

    def installed_anywhere(self) -> bool:
        return self._installed.installed_anywhere()

    def installed_workspaces(self) -> list[str | None]:
        """What `for_workspace` takes to reach each installation (see `InstalledToken.workspaces`)."""
        return self._installed.workspaces()

    def api_call(self, *args: Any, **kwargs: Any) -> Any:
        self.token = self._installed(self.workspace)
        return super().api_call(*args, **kwargs)

    def for_channel(self, channel: str) -> InstalledClient | None:
        """The client whose token reaches `channel`: a channel (C..., G...) or a person (U..., W...) whose
        workspace is not known; None when Slack could not say just now (ask again a little later).

        Installed workspace by workspace on Enterprise Grid, a workspace's token reaches only its own
        workspace's channels and members (Slack answers `channel_not_found` for the others), so where they
        are is asked of Slack, newest install first, and kept for an hour: a channel with
        `conversations.history` for one message (which `channels:history` / `groups:history` already
        allow), a person with `users.info` (the workspaces they are in). An org-wide install, or a single
        one, reaches everything with its one token and asks nothing. What no installed workspace reaches
        gets the newest token, and so Slack's own error."""
        if self.workspace is not None or channel[:1] not in ("C", "G", "U", "W"):
            return self
        known, home = self._installed.channel_home(channel)
        if known and (home is None or self.for_workspace(home).has_token()):
            return self if home is None else self.for_workspace(home)
        installed = self.installed_workspaces()
        workspaces = [workspace for workspace in installed if workspace is not None]
        if len(workspaces) < 2 or len(workspaces) < len(installed):
            return self  # one token reaches everything there is to reach
        try:
            home = self._ask_home(channel, workspaces)
        except (SlackApiError, SlackClientError, OSError) as error:
            log.warning("outbox: Slack could not say which workspace %s is in: %s", channel, loggable(error))
            return None
        keep = CHANNEL_HOME_SECONDS if home is not None else CHANNEL_NOWHERE_SECONDS
        self._installed.keep_channel_home(channel, home, keep)
        return self if home is None else self.for_workspace(home)

    def _ask_home(self, channel: str, workspaces: list[str]) -> str | None:
        """The first of `workspaces` whose token reaches `channel` (a channel or a person), else None;
        raises when Slack could not answer (rate limited, unavailable, unreachable)."""
        for workspace in workspaces:
            client = self.for_workspace(workspace)
            try:
                if channel[:1] in ("U", "W"):
                    user = client.users_info(user=channel).get("user") or {}
                    teams = (user.get("enterprise_user") or {}).get("teams") or [user.get("team_id")]
                    return next((w for w in workspaces if w in teams), workspace)
                client.conversations_history(channel=channel, limit=1)
            except SlackApiError as error:
                if error.response.status_code == 429 or error.response.status_code >= 500:
                    raise
                if error.response.get("error") in _NOT_HERE:
                    continue
                return workspace  # Slack knows the channel there (not_in_channel, say): its error is the one
            return workspace
        return None


# How long where a channel or a person is kept (see `InstalledClient.for_channel`); what no installed
# workspace reaches is asked about again sooner, as a new install may reach it.
CHANNEL_HOME_SECONDS = 3600.0
CHANNEL_NOWHERE_SECONDS = 300.0
# Slack's answers to a token that does not reach a channel or a person (or no longer works).
_NOT_HERE = frozenset({"channel_not_found", "user_not_found", "not_authed", "token_revoked"})


def for_workspace(client: WebClient, workspace: str | None) -> WebClient:
    """`client` as it should call Slack for people of `workspace`: a single bot token reaches only its own
    workspace anyway, so only an installed client changes."""
    return client.for_workspace(workspace) if isinstance(client, InstalledClient) else client


_tokens: dict[str, InstalledToken] = {}
_tokens_lock = threading.Lock()


def installed_token(settings: Settings) -> InstalledToken:
    """The process's one `InstalledToken` for this installation's database."""
    from bot.db import get_engine

    with _tokens_lock:
        key = f"{settings.database_url}|{settings.slack_client_id}|{settings.slack_api_url}"
        found = _tokens.get(key)
        if found is None:
            found = _tokens[key] = InstalledToken(settings, get_engine(settings.database_url))
        return found
