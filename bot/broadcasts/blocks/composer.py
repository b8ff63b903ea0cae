"""Block Kit for the broadcast composer: the modal a change manager writes a broadcast in, and its values
read back. Pure builders.

The composer only collects: its values are checked by `bot.broadcasts.compose`, whose errors come
back here by field (`field_errors`) to be shown under the input they are about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot.broadcasts.blocks.letter import GOT_IT
from bot.i18n import N_, format_number, ngettext
from bot.i18n import gettext as _
from bot.slack import ids
from bot.slack.blocks import (
    OPTION_VALUE_MAX,
    SECTION_TEXT_MAX,
    STATIC_SELECT_OPTIONS_MAX,
    Block,
    input_block,
    modal,
    option,
    plain,
    section,
)

MESSAGE_MAX: Final = SECTION_TEXT_MAX  # one section holds the whole message, escaped
REMINDER_CHOICES: Final = (1, 2, 3, 5, 7)  # days after sending
COMPOSER_TITLE: Final = N_("Broadcast")
_NOW, _LATER = "now", "later"
_YES = "yes"


# Which input block shows a service error about a field (`response_action: errors`).
FIELD_BLOCKS: Final[Mapping[str, str]] = {
    "message": ids.BROADCAST_MESSAGE_BLOCK,
    "audience": ids.BROADCAST_EVERYONE_BLOCK,
    "teams": ids.BROADCAST_TEAMS_BLOCK,
    "roles": ids.BROADCAST_ROLES_BLOCK,
    "channel": ids.BROADCAST_CHANNEL_BLOCK,
    "date": ids.BROADCAST_DATE_BLOCK,
    "time": ids.BROADCAST_TIME_BLOCK,
    "reminder": ids.BROADCAST_REMINDER_BLOCK,
}


@dataclass(frozen=True)
class ComposerValues:
    """What the composer holds: parsed from a submission, or used to prefill it (Edit)."""

    message: str = ""
    everyone: bool = False
    teams: tuple[str, ...] = ()  # team ids, as text
    roles: tuple[str, ...] = ()  # role ids from the content library
    channel: str | None = None
    later: bool = False
    date: str | None = None  # YYYY-MM-DD, in the sender's time zone
    time: str | None = None  # HH:MM, in the sender's time zone
    ask_ack: bool = False
    reminder_days: int | None = None


def _multi_select(
    action_id: str, choices: Sequence[tuple[str, str]], chosen: Sequence[str], placeholder: str
) -> dict[str, Any]:
    """A multi-select of (value, label) choices: static up to 100 options, served as you type beyond."""
    usable = [(value, label) for value, label in choices if 0 < len(value) <= OPTION_VALUE_MAX]
    initial = [option(label, value) for value, label in usable if value in set(chosen)]
    element: dict[str, Any] = {"action_id": action_id, "placeholder": plain(placeholder, 150)}
    if len(usable) <= STATIC_SELECT_OPTIONS_MAX:
        element["type"] = "multi_static_select"
        element["options"] = [option(label, value) for value, label in usable]
    else:
        element["type"] = "multi_external_select"
        element["min_query_length"] = 1
    if initial:
        element["initial_options"] = initial
    return element


def _checkbox(label: str, checked: bool) -> dict[str, Any]:
    choice = option(label, _YES)
    element: dict[str, Any] = {"type": "checkboxes", "action_id": ids.BROADCAST_INPUT, "options": [choice]}
    if checked:
        element["initial_options"] = [choice]
    return element


def composer_modal(
    values: ComposerValues,
    *,
    teams: Sequence[tuple[str, str]],
    roles: Sequence[tuple[str, str]],
    timezone: str,
    private_metadata: str,
) -> dict[str, Any]:
    """The composer. `teams`/`roles` are (value, label) choices; times are asked in `timezone`."""
    message: dict[str, Any] = {
        "type": "plain_text_input",
        "action_id": ids.BROADCAST_INPUT,
        "multiline": True,
        "max_length": MESSAGE_MAX,
        "placeholder": plain(_("What is changing, why, and what people should do"), 150),
    }
    if values.message:
        message["initial_value"] = values.message[:MESSAGE_MAX]
    when_options = [
        option(_("Send when I press Send in the preview"), _NOW),
        option(_("Schedule it for the date and time below"), _LATER),
    ]
    when: dict[str, Any] = {
        "type": "radio_buttons",
        "action_id": ids.BROADCAST_INPUT,
        "options": when_options,
        "initial_option": when_options[1 if values.later else 0],
    }
    date: dict[str, Any] = {
        "type": "datepicker",
        "action_id": ids.BROADCAST_INPUT,
        "placeholder": plain(_("Pick a date"), 150),
    }
    if values.date:
        date["initial_date"] = values.date
    clock: dict[str, Any] = {
        "type": "timepicker",
        "action_id": ids.BROADCAST_INPUT,
        "placeholder": plain(_("Pick a time"), 150),
        "timezone": timezone,
    }
    if values.time:
        clock["initial_time"] = values.time
    reminder_options = [
        option(ngettext("After {n} day", "After {n} days", d).format(n=d), str(d)) for d in REMINDER_CHOICES
    ]
    reminder: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.BROADCAST_INPUT,
        "placeholder": plain(_("No reminder"), 150),
        "options": reminder_options,
    }
    chosen = next((o for o in reminder_options if o["value"] == str(values.reminder_days)), None)
    if chosen is not None:
        reminder["initial_option"] = chosen
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": ids.BROADCAST_INPUT,
        "placeholder": plain(_("Pick a channel"), 150),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if values.channel:
        channel["initial_conversation"] = values.channel
    blocks: list[Block] = [
        input_block(
            ids.BROADCAST_MESSAGE_BLOCK,
            _("Message"),
            message,
            hint=_(
                "Slack formatting works: *bold*, _italic_, lists and links. Up to {most} characters. "
                "You'll get a preview first; nothing is sent until you press Send."
            ).format(most=format_number(MESSAGE_MAX)),
        ),
        section(
            _(
                "*Who gets it?* Everyone, or any mix of teams and roles: someone in a chosen team "
                "*or* with a "
                "chosen role gets it, once. People who are inactive or can't receive DMs are skipped and "
                "counted."
            )
        ),
        input_block(
            ids.BROADCAST_EVERYONE_BLOCK,
            _("Audience"),
            _checkbox(_("Everyone in the organisation"), values.everyone),
            optional=True,
        ),
        input_block(
            ids.BROADCAST_TEAMS_BLOCK,
            _("Teams"),
            _multi_select(ids.BROADCAST_TEAMS_SELECT, teams, values.teams, _("Pick teams")),
            optional=True,
        ),
        input_block(
            ids.BROADCAST_ROLES_BLOCK,
            _("Roles"),
            _multi_select(ids.BROADCAST_INPUT, roles, values.roles, _("Pick roles")),
            optional=True,
        ),
        input_block(
            ids.BROADCAST_CHANNEL_BLOCK,
            _("Also post it in a channel"),
            channel,
            optional=True,
            hint=_("Posted once, as well as the DMs. Adoptbot must be a member of a private channel."),
        ),
        input_block(ids.BROADCAST_WHEN_BLOCK, _("When"), when),
        input_block(ids.BROADCAST_DATE_BLOCK, _("Date"), date, optional=True),
        input_block(
            ids.BROADCAST_TIME_BLOCK,
            _("Time"),
            clock,
            optional=True,
            hint=_("Your time zone: {zone}.").format(zone=timezone),
        ),
        input_block(
            ids.BROADCAST_ACK_BLOCK,
            _("Acknowledgement"),
            _checkbox(
                _("Ask people to confirm with a “{got_it}” button").format(got_it=_(GOT_IT)), values.ask_ack
            ),
            optional=True,
        ),
        input_block(
            ids.BROADCAST_REMINDER_BLOCK,
            _("Remind those who haven't confirmed"),
            reminder,
            optional=True,
        ),
    ]
    return modal(
        _(COMPOSER_TITLE),
        blocks,
        callback_id=ids.BROADCAST_MODAL,
        submit=_("Preview"),
        private_metadata=private_metadata,
    )


def _state(values: Mapping[str, Mapping[str, Mapping[str, Any]]], block_id: str) -> Mapping[str, Any]:
    elements = values.get(block_id) or {}
    return elements.get(ids.BROADCAST_INPUT) or elements.get(ids.BROADCAST_TEAMS_SELECT) or {}


def _options(state: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(o.get("value")) for o in state.get("selected_options") or [] if o.get("value"))


def _optional_str(value: Any) -> str | None:
    return str(value) if value else None


def values_from_state(values: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> ComposerValues:
    """The composer's fields from `view.state.values`."""
    reminder = (_state(values, ids.BROADCAST_REMINDER_BLOCK).get("selected_option") or {}).get("value")
    when = (_state(values, ids.BROADCAST_WHEN_BLOCK).get("selected_option") or {}).get("value")
    return ComposerValues(
        message=str(_state(values, ids.BROADCAST_MESSAGE_BLOCK).get("value") or ""),
        everyone=bool(_options(_state(values, ids.BROADCAST_EVERYONE_BLOCK))),
        teams=_options(_state(values, ids.BROADCAST_TEAMS_BLOCK)),
        roles=_options(_state(values, ids.BROADCAST_ROLES_BLOCK)),
        channel=_optional_str(_state(values, ids.BROADCAST_CHANNEL_BLOCK).get("selected_conversation")),
        later=when == _LATER,
        date=_optional_str(_state(values, ids.BROADCAST_DATE_BLOCK).get("selected_date")),
        time=_optional_str(_state(values, ids.BROADCAST_TIME_BLOCK).get("selected_time")),
        ask_ack=bool(_options(_state(values, ids.BROADCAST_ACK_BLOCK))),
        reminder_days=int(reminder) if isinstance(reminder, str) and reminder.isdigit() else None,
    )


def field_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """Service errors by field -> `response_action: errors` keyed by input block."""
    return {FIELD_BLOCKS[name]: message for name, message in errors.items() if name in FIELD_BLOCKS}
