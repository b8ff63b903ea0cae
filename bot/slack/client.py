"""The one way to build a Slack Web API client: SLACK_API_URL honoured, retries from slack_sdk."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.config import Settings


def make_web_client(settings: Settings, *, retry_rate_limits: bool = True, timeout: int = 30) -> WebClient:
    """A WebClient for the bot token at `settings.slack_api_url`.

    Interactive calls (views.open, views.publish) retry connection errors, 5xx and 429 (honouring
    Retry-After) inside slack_sdk. The outbox passes `retry_rate_limits=False`: it reschedules a
    rate-limited message itself, so one 429 never stalls the other messages behind it.
    """
    handlers = [ConnectionErrorRetryHandler(max_retry_count=2), ServerErrorRetryHandler(max_retry_count=2)]
    if retry_rate_limits:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=handlers,
    )
