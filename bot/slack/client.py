"""The one way to build a Slack Web API client: SLACK_API_URL honoured, retries from slack_sdk."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings
from bot.slack.install import InstalledToken


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

    def __init__(self, token: Callable[..., str | None], **kwargs: Any) -> None:
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
        check = getattr(self._installed, "installed_anywhere", None)
        return bool(check()) if check is not None else self._installed(None) is not None

    def installed_workspaces(self) -> list[str | None]:
        """What `for_workspace` takes to reach each installation (see `InstalledToken.workspaces`)."""
        listing = getattr(self._installed, "workspaces", None)
        return list(listing()) if listing is not None else [None]

    def api_call(self, *args: Any, **kwargs: Any) -> Any:
        self.token = self._installed(self.workspace)
        return super().api_call(*args, **kwargs)


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
