"""Text that goes into Slack: escaping what people typed, mentions, and Slack's length limits.

Anything a person typed (a win story, a comment, a team name, a display name) is passed through
`escape()` before the bot reposts it, in mrkdwn or plain text alike. Slack only turns `<...>` into
mentions and links, so escaping `&`, `<` and `>` makes `<!channel>`, `<@U123>`, `<!subteam^S1>` and
`<http://evil|click>` show up as the literal characters, never as a ping or a disguised link.
"""

from __future__ import annotations

import re

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_ELLIPSIS = "…"


def escape(text: str) -> str:
    """Make user-typed text inert for Slack: `&` -> `&amp;`, `<` -> `&lt;`, `>` -> `&gt;` (in that order)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def mention(user_id: str) -> str:
    """`<@U123>` for a Slack user ID; ValueError for anything else (never build a mention from typed text)."""
    if not _USER_ID.match(user_id):
        raise ValueError(f"{user_id!r} is not a Slack user ID")
    return f"<@{user_id}>"


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when it was cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + _ELLIPSIS


def one_line(text: str) -> str:
    """Collapse whitespace (newlines included) to single spaces, for places that show one line."""
    return " ".join(text.split())
