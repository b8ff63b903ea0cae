"""App Home: a view made of sections, each a list of blocks. Pure builders.

The Home tab is assembled by `bot.slack.home` from registered sections (profile first, then what
each feature adds, e.g. "Your nudges", "Your wins", and for change managers "Moderation queue"). Each
section builder returns whole blocks; `home_view` joins them with dividers and leaves out any section
that would push the view past Slack's 100 blocks, so one busy feature can never break the tab.
A feature's Home section builder belongs in its own `bot/<feature>/blocks.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.people.blocks import role_button_value
from bot.people.profile import ProfileSummary
from bot.slack import ids
from bot.slack.blocks import (
    VIEW_BLOCKS_MAX,
    Block,
    actions,
    button,
    context,
    divider,
    fields,
    fit_blocks,
    header,
    section,
)
from bot.slack.text import escape

_TZ_SOURCE = {
    "roster": "set by your change manager",
    "slack": "from your Slack profile",
    "organisation": "the organisation's default",
}


def profile_section(summary: ProfileSummary, *, command: str) -> list[Block]:
    """Who you are to Adoptbot: role, team, time zone, nudges; a button to change role or team."""
    blocks: list[Block] = [header("Your profile")]
    if not summary.complete:
        blocks.append(
            section(
                "Pick your role and team, so the tips I send fit your work and your team's figures count you."
            )
        )
    team = escape(summary.team_name) if summary.team_name else "_not chosen yet_"
    blocks.append(
        fields(
            [
                ("Role", escape(summary.role_name) if summary.role_name else "_not chosen yet_"),
                ("Team", f"{team} (from the roster)" if summary.team_locked else team),
                ("Time zone", f"{summary.timezone} ({_TZ_SOURCE[summary.timezone_source]})"),
                ("Nudges", summary.nudges),
            ]
        )
    )
    if summary.deactivated:  # only the roster brings them back: nothing for them to change
        blocks.append(context(f"Type `{command} help` in any channel to see what I can do."))
        return blocks
    if summary.team_locked:
        label = "Change role"
    else:
        label = "Change role or team" if summary.complete else "Pick my role and team"
    style = None if summary.complete else "primary"
    value = role_button_value(summary.role_id, summary.team_id, team_locked=summary.team_locked)
    blocks.append(
        actions(button(label, ids.OPEN_ROLE_MODAL, value=value, style=style), block_id="home.profile")
    )
    blocks.append(context(f"Type `{command} help` in any channel to see everything I can do."))
    return blocks


def home_view(sections: Sequence[list[Block]]) -> dict[str, Any]:
    """The Home tab: the sections in order, divided, within Slack's 100 blocks."""
    return {"type": "home", "blocks": fit_blocks(sections, VIEW_BLOCKS_MAX, separator=divider())}


def home_error_view(message: str) -> dict[str, Any]:
    """A Home tab that only says something went wrong (the real one is published on the next visit)."""
    return {"type": "home", "blocks": [section(message)]}
