"""Block Kit for the win modals: "Share a win", a change manager's light edit and reject note, and the
short answers shown in a modal; and their values read back. Pure builders.

The modals only collect: `bot.wins.input` checks the values, and its errors come back here by
field (`field_errors`) to be shown under the input they are about. How a win will be shared is said in the
modal itself, including that the change managers reviewing an anonymous win see who sent it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot.i18n import N_
from bot.i18n import gettext as _
from bot.slack import ids
from bot.slack.blocks import Block, context, input_block, modal, plain, section, select_menu
from bot.wins.blocks.card import (
    HOURS_MAX,
    REASON_MAX,
    SHARE_LABELS,
    TOOL_MAX,
    WHAT_MAX,
    WinCard,
    mention_or,
    safe_link,
    share_for_reviewers,
    share_label,
)

_SHARE_DESCRIPTIONS: Final = {
    "named": N_("Posted in the wins channel with your name"),
    "anonymous": N_("Posted without your name; only reviewers see who sent it"),
    "private": N_("Never posted: it only counts in your team's hours saved"),
}
SHARE_HINT: Final = N_(
    "A change manager reviews every win before anything is shared. Anonymously means your name appears "
    "nowhere public: not in the wins channel, not in digests. The change managers who review it still see "
    "who sent it, so they can ask you about it."
)


@dataclass(frozen=True)
class WinPrefill:
    """What the win modal starts with (from a message shortcut, or "Try this too")."""

    what: str = ""
    tool: str | None = None
    source_link: str | None = None


@dataclass(frozen=True)
class RawWin:
    """The modal's values as typed or chosen (None when left empty)."""

    what: str | None = None
    tool: str | None = None
    hours: str | None = None
    team: str | None = None
    share: str | None = None


def _text_input(
    action_id: str,
    *,
    max_length: int,
    multiline: bool = False,
    initial: str | None = None,
    placeholder: str | None = None,
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": action_id,
        "multiline": multiline,
        "max_length": max_length,
    }
    if initial:
        element["initial_value"] = initial[:max_length]
    if placeholder:
        element["placeholder"] = plain(placeholder, 150)
    return element


def _hours_input(initial: float | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": ids.WIN_HOURS_INPUT,
        "is_decimal_allowed": True,
        "min_value": "0",
        "max_value": str(HOURS_MAX),
        "placeholder": plain(_("e.g. 1.5"), 150),
    }
    if initial is not None:
        element["initial_value"] = f"{initial:g}"
    return element


def _share_option(value: str) -> dict[str, Any]:
    return {
        "text": plain(share_label(value), 75),
        "value": value,
        "description": plain(_(_SHARE_DESCRIPTIONS[value]), 75),
    }


def _story_inputs(
    *,
    teams: Sequence[tuple[str, str]],
    current_team: str | None,
    what: str,
    tool: str | None,
    hours: float | None,
) -> list[Block]:
    blocks: list[Block] = [
        input_block(
            ids.WIN_WHAT_BLOCK,
            _("What did you do with AI?"),
            _text_input(
                ids.WIN_WHAT_INPUT,
                max_length=WHAT_MAX,
                multiline=True,
                initial=what,
                placeholder=_("e.g. I had AI draft the QBR deck from last quarter's notes, then polished it"),
            ),
        ),
        input_block(
            ids.WIN_TOOL_BLOCK,
            _("Which AI tool?"),
            _text_input(
                ids.WIN_TOOL_INPUT, max_length=TOOL_MAX, initial=tool, placeholder=_("e.g. ChatGPT, Copilot")
            ),
            optional=True,
        ),
        input_block(
            ids.WIN_HOURS_BLOCK,
            _("Hours saved per week"),
            _hours_input(hours),
            hint=_("A rough guess is fine: 0 to {most}, halves welcome (1.5).").format(most=HOURS_MAX),
        ),
    ]
    if teams:
        blocks.append(
            input_block(
                ids.WIN_TEAM_BLOCK,
                _("Team"),
                select_menu(ids.WIN_TEAM_SELECT, teams, placeholder=_("Pick the team"), initial=current_team),
                hint=_("The team whose hours saved this win counts toward."),
            )
        )
    return blocks


def win_modal(
    *,
    teams: Sequence[tuple[str, str]],
    current_team: str | None,
    prefill: WinPrefill | None = None,
) -> dict[str, Any]:
    """ "Share a win": what, tool, hours saved a week, team (preselected) and how to share it."""
    prefill = prefill or WinPrefill()
    link = safe_link(prefill.source_link)
    blocks: list[Block] = []
    if link:
        blocks.append(
            context(
                _("From <{link}|this message>. The link is kept with your win for reviewers.").format(
                    link=link
                )
            )
        )
    blocks += _story_inputs(
        teams=teams, current_team=current_team, what=prefill.what, tool=prefill.tool, hours=None
    )
    blocks.append(
        input_block(
            ids.WIN_SHARE_BLOCK,
            _("How should we share it?"),
            {
                "type": "radio_buttons",
                "action_id": ids.WIN_SHARE_INPUT,
                "options": [_share_option(v) for v in SHARE_LABELS],
                "initial_option": _share_option("named"),
            },
            hint=_(SHARE_HINT),
        )
    )
    metadata = json.dumps({"link": link}) if link else ""
    return modal(
        _("Share a win"), blocks, callback_id=ids.WIN_MODAL, submit=_("Submit"), private_metadata=metadata
    )


def modal_link(private_metadata: str | None) -> str | None:
    """The source message link a win modal carries, if any."""
    try:
        data = json.loads(private_metadata or "{}")
    except ValueError:
        return None
    return safe_link(data.get("link")) if isinstance(data, dict) else None


def edit_modal(
    card: WinCard, *, teams: Sequence[tuple[str, str]], current_team: str | None
) -> dict[str, Any]:
    """A change manager's light edit; saving it approves the win."""
    how = share_for_reviewers(card.share)
    blocks: list[Block] = [
        context(
            _("From {author} · to be shared: {how}. Saving approves it.").format(
                author=mention_or(card.author_user_id), how=how
            )
        ),
        *_story_inputs(
            teams=teams, current_team=current_team, what=card.text, tool=card.tool, hours=card.hours
        ),
    ]
    return modal(
        _("Edit this win"),
        blocks,
        callback_id=ids.WIN_EDIT_MODAL,
        submit=_("Save and approve"),
        private_metadata=str(card.id),
    )


def reject_modal(win_id: int) -> dict[str, Any]:
    blocks: list[Block] = [
        section(_("The author gets your note in a DM from me, so keep it kind and useful.")),
        input_block(
            ids.WIN_REASON_BLOCK,
            _("Why isn't it shared?"),
            _text_input(
                ids.WIN_REASON_INPUT,
                max_length=REASON_MAX,
                multiline=True,
                placeholder=_("e.g. It names a customer: could you share it again without the name?"),
            ),
        ),
    ]
    return modal(
        _("Reject this win"),
        blocks,
        callback_id=ids.WIN_REJECT_MODAL,
        submit=_("Reject"),
        private_metadata=str(win_id),
    )


def info_modal(title: str, text: str) -> dict[str, Any]:
    return modal(title, [section(text)], callback_id=ids.WIN_INFO_MODAL, submit=None, close=_("Close"))


def _state(values: Mapping[str, Any], block_id: str, action_id: str) -> dict[str, Any]:
    state = (values.get(block_id) or {}).get(action_id) or {}
    return state if isinstance(state, dict) else {}


def _typed(values: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    value = _state(values, block_id, action_id).get("value")
    return str(value) if value is not None else None


def _chosen(values: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    option = _state(values, block_id, action_id).get("selected_option") or {}
    value = option.get("value") if isinstance(option, dict) else None
    return str(value) if value else None


def raw_from_state(values: Mapping[str, Any]) -> RawWin:
    """The win modal's (or edit modal's) values from `view.state.values`."""
    return RawWin(
        what=_typed(values, ids.WIN_WHAT_BLOCK, ids.WIN_WHAT_INPUT),
        tool=_typed(values, ids.WIN_TOOL_BLOCK, ids.WIN_TOOL_INPUT),
        hours=_typed(values, ids.WIN_HOURS_BLOCK, ids.WIN_HOURS_INPUT),
        team=_chosen(values, ids.WIN_TEAM_BLOCK, ids.WIN_TEAM_SELECT),
        share=_chosen(values, ids.WIN_SHARE_BLOCK, ids.WIN_SHARE_INPUT),
    )


def reason_from_state(values: Mapping[str, Any]) -> str | None:
    return _typed(values, ids.WIN_REASON_BLOCK, ids.WIN_REASON_INPUT)


_FIELD_BLOCKS: Final = {
    "what": ids.WIN_WHAT_BLOCK,
    "tool": ids.WIN_TOOL_BLOCK,
    "hours": ids.WIN_HOURS_BLOCK,
    "team": ids.WIN_TEAM_BLOCK,
    "share": ids.WIN_SHARE_BLOCK,
    "reason": ids.WIN_REASON_BLOCK,
}


def field_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """{field: message} -> {block_id: message}, for `response_action: errors`."""
    return {_FIELD_BLOCKS[name]: message for name, message in errors.items() if name in _FIELD_BLOCKS}
