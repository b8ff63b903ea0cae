"""The email -> Slack user link for people the identity provider sends: Slack's users.lookupByEmail, best
effort (a person Slack does not know yet is linked later by `adoptbot roster sync`)."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.slack.client import make_web_client


def user_id_for(settings: Settings, email: str) -> tuple[str, str | None] | None:
    """(Slack user ID, their workspace) for this email, or None (unknown to Slack, Slack not reachable
    now, or Adoptbot not connected to Slack: neither a bot token nor an OAuth install)."""
    if not (settings.slack_bot_token or settings.oauth_install):
        return None
    try:
        found = make_web_client(settings, retry_rate_limits=False).users_lookupByEmail(email=email)
    except (SlackApiError, SlackClientError, OSError):
        return None
    user = found.get("user") or {}
    user_id = user.get("id") if isinstance(user, dict) else None
    if not isinstance(user_id, str):
        return None
    workspace = user.get("team_id")
    return user_id, workspace if isinstance(workspace, str) and workspace else None
