"""The email -> Slack user link for people the identity provider sends: Slack's users.lookupByEmail, best
effort (a person Slack does not know yet is linked later by `adoptbot roster sync`)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.slack.client import make_web_client


def user_id_for(settings: Settings, email: str) -> str | None:
    """The Slack user ID with this email, or None (unknown to Slack, or Slack not reachable now)."""
    if not settings.slack_bot_token:
        return None
    try:
        found = make_web_client(settings, retry_rate_limits=False).users_lookupByEmail(email=email)
    except (SlackApiError, SlackClientError, OSError):
        return None
    user = found.get("user") or {}
    user_id = user.get("id") if isinstance(user, dict) else None
    return user_id if isinstance(user_id, str) else None
