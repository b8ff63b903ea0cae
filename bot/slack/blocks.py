"""Small Block Kit pieces every feature's builders share, each kept within Slack's documented limits.

Builders are pure: data in, dict out. They never escape on the caller's behalf: text a person typed must
go through `bot.slack.text.escape()` before it reaches `mrkdwn()`/`section()`; `plain()` texts are not
parsed for mentions by Slack, so they need no escaping. Over-long texts are cut with an ellipsis
(`truncate`) rather than rejected, so one long team name can never make a whole view fail.

Feature builders live in `bot/<feature>/blocks.py` and import from here, e.g.

    from bot.slack.blocks import Block, actions, button, section
    def nudge_blocks(nudge: Nudge) -> list[Block]:
        return [section(nudge.body), actions(button("I tried it", ids.NUDGE_TRIED, value=nudge.id))]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

from bot.i18n import gettext as _
from bot.slack.text import truncate

Block = dict[str, Any]


# Slack's limits (docs.slack.dev/reference/block-kit).
MESSAGE_BLOCKS_MAX: Final = 50
VIEW_BLOCKS_MAX: Final = 100  # a modal or the App Home
SECTION_TEXT_MAX: Final = 3000
SECTION_FIELDS_MAX: Final = 10
FIELD_TEXT_MAX: Final = 2000
HEADER_TEXT_MAX: Final = 150
CONTEXT_ELEMENTS_MAX: Final = 10
ACTIONS_ELEMENTS_MAX: Final = 25
BUTTON_TEXT_MAX: Final = 75
BUTTON_VALUE_MAX: Final = 2000
OPTION_TEXT_MAX: Final = 75
OPTION_VALUE_MAX: Final = 150
STATIC_SELECT_OPTIONS_MAX: Final = 100
PLACEHOLDER_MAX: Final = 150
INPUT_LABEL_MAX: Final = 2000
INPUT_HINT_MAX: Final = 2000
MODAL_TITLE_MAX: Final = 24
MODAL_BUTTON_MAX: Final = 24
PRIVATE_METADATA_MAX: Final = 3000
ID_MAX: Final = 255  # action_id, block_id, callback_id


def plain(text: str, limit: int = SECTION_TEXT_MAX, *, emoji: bool = True) -> dict[str, Any]:
    """A plain_text object (Slack shows it as typed: no formatting, no mentions)."""
    return {"type": "plain_text", "text": truncate(text or " ", limit), "emoji": emoji}


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    """A mrkdwn text object. Escape user-typed parts with `escape()` before passing them in."""
    return {"type": "mrkdwn", "text": truncate(text or " ", limit)}


def _checked_id(value: str) -> str:
    if not value or len(value) > ID_MAX:
        raise ValueError(f"Block Kit IDs must be 1..{ID_MAX} characters, not {len(value)}")
    return value


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_TEXT_MAX)}


def section(text: str, *, accessory: dict[str, Any] | None = None, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    if block_id is not None:
        block["block_id"] = _checked_id(block_id)
    return block


def fields(pairs: Iterable[tuple[str, str]]) -> Block:
    """A section of up to ten `*label*\\nvalue` fields (the rest are dropped)."""
    items = [mrkdwn(f"*{label}*\n{value}", FIELD_TEXT_MAX) for label, value in pairs]
    return {"type": "section", "fields": items[:SECTION_FIELDS_MAX]}


def context(*texts: str) -> Block:
    """Small grey text under a message; at most ten elements."""
    return {"type": "context", "elements": [mrkdwn(t) for t in texts[:CONTEXT_ELEMENTS_MAX]]}


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str,
    action_id: str,
    *,
    value: str | None = None,
    style: str | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """A button element; `style` is "primary" or "danger" (or None for the default look)."""
    if style not in (None, "primary", "danger"):
        raise ValueError(f"button style must be primary or danger, not {style!r}")
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": _checked_id(action_id),
    }
    if value is not None:
        if len(value) > BUTTON_VALUE_MAX:
            raise ValueError(f"button value longer than {BUTTON_VALUE_MAX} characters")
        element["value"] = value
    if style is not None:
        element["style"] = style
    if url is not None:
        element["url"] = url
    return element


def actions(*elements: dict[str, Any], block_id: str | None = None) -> Block:
    if not 1 <= len(elements) <= ACTIONS_ELEMENTS_MAX:
        raise ValueError(f"an actions block holds 1..{ACTIONS_ELEMENTS_MAX} elements, not {len(elements)}")
    block: Block = {"type": "actions", "elements": list(elements)}
    if block_id is not None:
        block["block_id"] = _checked_id(block_id)
    return block


def option(text: str, value: str) -> dict[str, Any]:
    if not value or len(value) > OPTION_VALUE_MAX:
        raise ValueError(f"option values must be 1..{OPTION_VALUE_MAX} characters")
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


def select_menu(
    action_id: str,
    choices: Sequence[tuple[str, str]],
    *,
    placeholder: str,
    initial: str | None = None,
) -> dict[str, Any]:
    """A menu of (value, label) choices: a static_select up to Slack's 100 options, an external_select
    (options served by the app as you type, see the `block_suggestion` listener) beyond that."""
    initial_option = next((option(label, value) for value, label in choices if value == initial), None)
    element: dict[str, Any] = {
        "action_id": _checked_id(action_id),
        "placeholder": plain(placeholder, PLACEHOLDER_MAX),
    }
    if len(choices) <= STATIC_SELECT_OPTIONS_MAX:
        element["type"] = "static_select"
        element["options"] = [option(label, value) for value, label in choices]
    else:
        element["type"] = "external_select"
        element["min_query_length"] = 1
    if initial_option is not None:
        element["initial_option"] = initial_option
    return element


def matching_options(choices: Sequence[tuple[str, str]], query: str) -> list[dict[str, Any]]:
    """Options for an external_select: the choices whose label contains `query`, at most 100."""
    wanted = query.strip().casefold()
    found = [option(label, value) for value, label in choices if wanted in label.casefold()]
    return found[:STATIC_SELECT_OPTIONS_MAX]


def input_block(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": _checked_id(block_id),
        "label": plain(label, INPUT_LABEL_MAX),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, INPUT_HINT_MAX)
    return block


def modal(
    title: str,
    blocks: list[Block],
    *,
    callback_id: str,
    submit: str | None = None,
    close: str | None = None,
    private_metadata: str = "",
) -> dict[str, Any]:
    """A modal view; `submit=None` makes an information-only modal (just a close button, "Cancel" in the
    current language unless `close` names it)."""
    if len(blocks) > VIEW_BLOCKS_MAX:
        raise ValueError(f"a modal holds at most {VIEW_BLOCKS_MAX} blocks, not {len(blocks)}")
    if len(private_metadata) > PRIVATE_METADATA_MAX:
        raise ValueError(f"private_metadata longer than {PRIVATE_METADATA_MAX} characters")
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": _checked_id(callback_id),
        "title": plain(title, MODAL_TITLE_MAX),
        "close": plain(_("Cancel") if close is None else close, MODAL_BUTTON_MAX),
        "blocks": blocks,
    }
    if submit is not None:
        view["submit"] = plain(submit, MODAL_BUTTON_MAX)
    if private_metadata:
        view["private_metadata"] = private_metadata
    return view


def fit_blocks(sections: Iterable[list[Block]], limit: int, *, separator: Block | None = None) -> list[Block]:
    """Join whole sections (with `separator` between them) while they fit in `limit` blocks; a section that
    would overflow is left out entirely, so nothing is ever cut mid-way."""
    joined: list[Block] = []
    for blocks in sections:
        if not blocks:
            continue
        extra = ([separator] if separator is not None and joined else []) + blocks
        if len(joined) + len(extra) > limit:
            continue
        joined.extend(extra)
    return joined
