"""App Home: a view made of sections, each a list of blocks. Pure builders.

The Home tab is assembled by `bot.slack.home` from registered sections (the profile first, then what
each feature adds, e.g. "Your nudges", "Your wins", and for change managers "Moderation queue"). Each
section builder returns whole blocks; `home_view` joins them with dividers and leaves out any section
that would push the view past Slack's 100 blocks, so one busy feature can never break the tab.
A feature's Home section builder belongs in its own `bot/<feature>/blocks.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.slack.blocks import (
    VIEW_BLOCKS_MAX,
    Block,
    divider,
    fit_blocks,
    section,
)


def home_view(sections: Sequence[list[Block]]) -> dict[str, Any]:
    """The Home tab: the sections in order, divided, within Slack's 100 blocks."""
    return {"type": "home", "blocks": fit_blocks(sections, VIEW_BLOCKS_MAX, separator=divider())}


def home_error_view(message: str) -> dict[str, Any]:
    """A Home tab that only says something went wrong (the real one is published on the next visit)."""
    return {"type": "home", "blocks": [section(message)]}
