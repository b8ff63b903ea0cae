"""A win as the builders show it, and the only ways they show what people typed.

Everything a person typed (the story, the tool, a reject reason) and every team name is escaped here with
`bot.slack.text.escape`, and the sections that carry typed text are `verbatim` (Slack does no auto-linking
or mention parsing in them), so a story can never ping `@channel`, `@here`, a user or a group, nor show a
disguised link. Mentions of people are built here from Slack user IDs only (`mention_or`), never from
text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from bot.i18n import N_, format_number
from bot.i18n import gettext as _
from bot.models import WinStatus
from bot.slack.blocks import SECTION_TEXT_MAX, Block
from bot.slack.text import escape, mention, one_line, truncate

WHAT_MAX: Final = 2000  # characters a story may have (Slack's plain_text_input allows up to 3,000)
TOOL_MAX: Final = 120
REASON_MAX: Final = 500
HOURS_MAX: Final = 40

# Marked for translation; shown with `_()` (`share_label`, `share_for_reviewers`).
SHARE_LABELS: Final = {
    "named": N_("With my name"),
    "anonymous": N_("Anonymously"),
    "private": N_("Not publicly (only counted)"),
}
SHARE_FOR_REVIEWERS: Final = {
    "named": N_("With their name"),
    "anonymous": N_("Anonymously: only change managers see who sent it"),
    "private": N_("Not publicly: it only counts"),
}
_PERMALINK = re.compile(
    r"^https://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.slack\.com/archives/[A-Z0-9]+/p\d{6,}(?:\?[A-Za-z0-9_.=&%-]*)?$"
)


@dataclass(frozen=True)
class WinCard:
    """One win as the builders show it. `author_user_id` is passed only where the author may be named."""

    id: int
    what: str  # the author's own words
    tool: str | None
    hours: float
    team_name: str | None
    share: str  # named, anonymous, private
    status: WinStatus = WinStatus.PENDING
    polished: str | None = None  # the AI version the author chose instead of their own words
    author_user_id: str | None = None
    source_link: str | None = None
    reviewer_user_id: str | None = None
    reject_reason: str | None = None
    edited: bool = False  # lightly edited by the change manager who approved it
    team_id: int | None = None

    @property
    def text(self) -> str:
        """The words that are shared: the polished version when the author picked it."""
        return self.polished or self.what


def inert(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """`text` escaped for Slack and cut (never inside an `&…;` entity) so the result fits in `limit`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 0
    for char in text:
        piece = escape(char)
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + "…"


def quote(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Typed text as an escaped mrkdwn block quote (the `>` markers are ours, typed ones are escaped)."""
    lines = [line.rstrip() for line in text.strip().splitlines()] or [""]
    room = limit - 2 * len(lines)
    body = inert("\n".join(lines), max(room, 20))
    return "\n".join(f">{line}" for line in body.splitlines()) or ">"


def hours_label(hours: float) -> str:
    """`1.5` -> "1.5 h a week"; `0` -> "no hours counted"."""
    if hours <= 0:
        return _("no hours counted")
    return _("{hours} h a week").format(hours=format_number(hours))


def share_label(share: str) -> str:
    """How the author chose to share, as the author's menu says it (in the current language)."""
    label = SHARE_LABELS.get(share)
    return _(label) if label is not None else share


def share_for_reviewers(share: str) -> str:
    """How the author chose to share, as change managers read it (in the current language)."""
    label = SHARE_FOR_REVIEWERS.get(share)
    return _(label) if label is not None else share


def mention_or(user_id: str | None, fallback: str | None = None) -> str:
    """A mention built from a Slack user ID (never from typed text), or `fallback` ("a colleague" in the
    current language) without a valid one."""
    if not user_id:
        return _("a colleague") if fallback is None else fallback
    try:
        return mention(user_id)
    except ValueError:
        return _("a colleague") if fallback is None else fallback


def team_label(card: WinCard) -> str:
    """The win's team in bold (escaped), or "a team"."""
    return f"*{inert(card.team_name, 150)}*" if card.team_name else _("a team")


def safe_link(link: str | None) -> str | None:
    """A Slack message permalink we may show as a link, or None (anything else is never linked)."""
    return link if link and len(link) <= 500 and _PERMALINK.match(link) else None


def verbatim(text: str) -> Block:
    """A section for typed text: escaped by the caller, and not parsed by Slack for links or mentions."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or " ", "verbatim": True}}


def details(card: WinCard) -> Block:
    """The AI tool and the time saved, side by side."""
    tool = inert(card.tool, 500) if card.tool else _("_not given_")
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": "*" + _("AI tool") + f"*\n{tool}", "verbatim": True},
            {"type": "mrkdwn", "text": "*" + _("Time saved") + f"*\n{hours_label(card.hours)}"},
        ],
    }


def excerpt(text: str, limit: int = 120) -> str:
    """The first words of typed text on one line, escaped, for notification texts and lists."""
    return inert(truncate(one_line(text), limit), limit + 40)
