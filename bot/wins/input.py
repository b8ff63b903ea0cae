"""Reading a win as its author typed it: the modal's values checked, and a modal prefilled from a message.

Nothing is stored here. A faulty win comes back as InvalidWin with one sentence per field, shown under
that field, so the author fixes everything in one go; a message shortcut's text is made readable (Slack's
`<url|label>` markup undone) and is escaped again wherever it is reposted.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import format_number
from bot.i18n import gettext as _
from bot.models import Team
from bot.wins import blocks
from bot.wins.blocks import HOURS_MAX, TOOL_MAX, WHAT_MAX
from bot.wins.messages import SHARES

_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


class InvalidWin(ValueError):
    """What is wrong with a submitted win, per field ("what", "tool", "hours", "team", "share", "reason")."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class WinInput:
    what: str
    tool: str | None
    hours: float
    team_id: int | None
    share: str
    source_link: str | None = None


def parse_hours(raw: str | None) -> float | None:
    """Hours saved a week from what was typed ("1.5", "1,5", "2"), or None unless a number 0..40."""
    text = (raw or "").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or not 0 <= value <= HOURS_MAX:
        return None
    return round(value, 2)


def validate(session: Session, raw: blocks.RawWin, *, source_link: str | None = None) -> WinInput:
    """A checked `WinInput`, or InvalidWin with one message per faulty field (nothing is stored)."""
    errors: dict[str, str] = {}
    what = (raw.what or "").strip()
    if not what:
        errors["what"] = _("Tell us what you did with AI, in a sentence or two.")
    elif len(what) > WHAT_MAX:
        errors["what"] = _("Please keep it under {n} characters.").format(n=format_number(WHAT_MAX))
    tool = (raw.tool or "").strip() or None
    if tool is not None and len(tool) > TOOL_MAX:
        errors["tool"] = _("Please keep the tool's name under {n} characters.").format(n=TOOL_MAX)
    hours = parse_hours(raw.hours)
    if hours is None:
        errors["hours"] = _("Enter the hours saved per week as a number from 0 to {most}, e.g. 1.5.").format(
            most=HOURS_MAX
        )
    team_id = _team_id(session, raw.team)
    if team_id is None and raw.team is not None:
        errors["team"] = _("That team no longer exists: pick another one.")
    elif team_id is None and session.scalar(select(Team.id).limit(1)) is not None:
        errors["team"] = _("Pick the team this win counts for.")
    share = raw.share or ""
    if share not in SHARES:
        errors["share"] = _("Choose how to share it.")
    if errors:
        raise InvalidWin(errors)
    assert hours is not None
    return WinInput(what, tool, hours, team_id, share, blocks.safe_link(source_link))


def _team_id(session: Session, raw: str | None) -> int | None:
    if raw is None or not raw.isdigit():
        return None
    return session.scalar(select(Team.id).where(Team.id == int(raw)))


def readable_message_text(text: str) -> str:
    """A Slack message's text as a person would type it: `<url|label>` -> "label (url)", mentions as
    "@…", entities decoded. Used to prefill the modal from a message shortcut (escaped again on repost)."""

    def plainer(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("!"):  # <!here>, <!channel>, <!subteam^S1|@team>, <!date^...|label>
            name = target[1:].split("^", 1)[0]
            return label or f"@{name}"
        if target[:1] in ("@", "#"):
            return f"{target[0]}{label.lstrip('@#')}" if label else target
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_SLACK_LINK.sub(plainer, text or "")).strip()[:WHAT_MAX]


def permalink_from(domain: str | None, channel: str | None, ts: str | None) -> str | None:
    """A message's permalink built from a shortcut payload (when chat.getPermalink is unavailable)."""
    if not domain or not channel or not ts or not re.fullmatch(r"\d+\.\d+", ts):
        return None
    return blocks.safe_link(f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}")
