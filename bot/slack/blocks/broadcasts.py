"""Block Kit for broadcasts: the composer modal, the preview DM, what each recipient gets (with "Got it"),
the reminder, the sender's live status message and the change manager's App Home section. Pure builders.

The message a change manager types is escaped here (`&`, `<`, `>`): Slack formatting such as *bold*,
_italic_ and bare links still works, but no `@channel`, mention or disguised link can reach a whole
organisation. Names of teams and people are escaped too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot.slack import ids
from bot.slack.blocks.common import (
    OPTION_VALUE_MAX,
    SECTION_TEXT_MAX,
    STATIC_SELECT_OPTIONS_MAX,
    Block,
    actions,
    button,
    context,
    divider,
    fields,
    header,
    input_block,
    modal,
    option,
    plain,
    section,
)
from bot.slack.text import escape, mention, one_line, truncate

MESSAGE_MAX: Final = SECTION_TEXT_MAX  # one section holds the whole message, escaped
REMINDER_CHOICES: Final = (1, 2, 3, 5, 7)  # days after sending
COMPOSER_TITLE: Final = "Broadcast"
GOT_IT: Final = "Got it"
ACKNOWLEDGED: Final = "✓ Acknowledged"
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


def count(n: int) -> str:
    """1180 -> "1,180"."""
    return f"{n:,}"


def _people(n: int) -> str:
    return f"{count(n)} {'person' if n == 1 else 'people'}"


def excerpt(text: str, limit: int = 80) -> str:
    """The first words of a message on one line, escaped, for lists and status lines."""
    return escape(truncate(one_line(text), limit))


# --- the composer --------------------------------------------------------------------------------------


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
        "placeholder": plain("What is changing, why, and what people should do", 150),
    }
    if values.message:
        message["initial_value"] = values.message[:MESSAGE_MAX]
    when_options = [
        option("Send when I press Send in the preview", _NOW),
        option("Schedule it for the date and time below", _LATER),
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
        "placeholder": plain("Pick a date", 150),
    }
    if values.date:
        date["initial_date"] = values.date
    clock: dict[str, Any] = {
        "type": "timepicker",
        "action_id": ids.BROADCAST_INPUT,
        "placeholder": plain("Pick a time", 150),
        "timezone": timezone,
    }
    if values.time:
        clock["initial_time"] = values.time
    reminder_options = [option(f"After {d} day{'s' if d > 1 else ''}", str(d)) for d in REMINDER_CHOICES]
    reminder: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.BROADCAST_INPUT,
        "placeholder": plain("No reminder", 150),
        "options": reminder_options,
    }
    chosen = next((o for o in reminder_options if o["value"] == str(values.reminder_days)), None)
    if chosen is not None:
        reminder["initial_option"] = chosen
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": ids.BROADCAST_INPUT,
        "placeholder": plain("Pick a channel", 150),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if values.channel:
        channel["initial_conversation"] = values.channel
    blocks: list[Block] = [
        input_block(
            ids.BROADCAST_MESSAGE_BLOCK,
            "Message",
            message,
            hint="Slack formatting works: *bold*, _italic_, lists and links. Up to 3,000 characters. "
            "You'll get a preview first; nothing is sent until you press Send.",
        ),
        section(
            "*Who gets it?* Everyone, or any mix of teams and roles: someone in a chosen team *or* with a "
            "chosen role gets it, once. People who are inactive or can't receive DMs are skipped and counted."
        ),
        input_block(
            ids.BROADCAST_EVERYONE_BLOCK,
            "Audience",
            _checkbox("Everyone in the organisation", values.everyone),
            optional=True,
        ),
        input_block(
            ids.BROADCAST_TEAMS_BLOCK,
            "Teams",
            _multi_select(ids.BROADCAST_TEAMS_SELECT, teams, values.teams, "Pick teams"),
            optional=True,
        ),
        input_block(
            ids.BROADCAST_ROLES_BLOCK,
            "Roles",
            _multi_select(ids.BROADCAST_INPUT, roles, values.roles, "Pick roles"),
            optional=True,
        ),
        input_block(
            ids.BROADCAST_CHANNEL_BLOCK,
            "Also post it in a channel",
            channel,
            optional=True,
            hint="Posted once, as well as the DMs. Adoptbot must be a member of a private channel.",
        ),
        input_block(ids.BROADCAST_WHEN_BLOCK, "When", when),
        input_block(ids.BROADCAST_DATE_BLOCK, "Date", date, optional=True),
        input_block(
            ids.BROADCAST_TIME_BLOCK,
            "Time",
            clock,
            optional=True,
            hint=f"Your time zone: {timezone}.",
        ),
        input_block(
            ids.BROADCAST_ACK_BLOCK,
            "Acknowledgement",
            _checkbox("Ask people to confirm with a “Got it” button", values.ask_ack),
            optional=True,
        ),
        input_block(
            ids.BROADCAST_REMINDER_BLOCK,
            "Remind those who haven't confirmed",
            reminder,
            optional=True,
        ),
    ]
    return modal(
        COMPOSER_TITLE,
        blocks,
        callback_id=ids.BROADCAST_MODAL,
        submit="Preview",
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


# --- what each recipient gets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Letter:
    """One broadcast as its recipients see it."""

    broadcast_id: int
    text: str  # as the sender typed it (escaped here)
    sender_name: str | None
    sender_user: str | None
    ask_ack: bool


def body(text: str) -> str:
    """The message as it is posted: escaped (its length is what Slack's 3,000-character limit counts)."""
    return escape(text.strip())


def _sender(letter: Letter) -> str:
    if letter.sender_name:
        return f"*{escape(letter.sender_name)}*"
    if letter.sender_user:
        try:
            return mention(letter.sender_user)
        except ValueError:
            pass
    return "your change team"


def letter_text(letter: Letter) -> str:
    """The notification text (plain fallback)."""
    who = letter.sender_name or "your change team"
    return escape(truncate(f"{who}: {one_line(letter.text)}", 300))


def _got_it(letter: Letter) -> Block:
    return actions(
        button(GOT_IT, ids.BROADCAST_GOT_IT, value=str(letter.broadcast_id), style="primary"),
        block_id=ids.BROADCAST_GOT_IT_BLOCK,
    )


def letter_blocks(letter: Letter, *, acked_on: str | None = None) -> list[Block]:
    """The DM: the message, who sent it, and (when asked for) "Got it" or, once pressed, "✓ Acknowledged"."""
    blocks: list[Block] = [section(body(letter.text)), context(f"From {_sender(letter)} via Adoptbot")]
    if letter.ask_ack:
        if acked_on is None:
            blocks.append(_got_it(letter))
        else:
            blocks.append(context(f"*{ACKNOWLEDGED}* {acked_on} — thank you."))
    return blocks


def channel_blocks(letter: Letter) -> list[Block]:
    """The optional channel post: the message and who sent it, never a button."""
    return [section(body(letter.text)), context(f"From {_sender(letter)} via Adoptbot")]


def reminder_text(letter: Letter) -> str:
    return escape(truncate(f"Reminder: please confirm you've read “{one_line(letter.text)}”", 300))


def reminder_blocks(letter: Letter, *, acked_on: str | None = None) -> list[Block]:
    blocks: list[Block] = [
        section(f"⏰ *A reminder* — {_sender(letter)} asked everyone to confirm they've read this:"),
        section(body(letter.text)),
    ]
    if acked_on is None:
        blocks.append(_got_it(letter))
    else:
        blocks.append(context(f"*{ACKNOWLEDGED}* {acked_on} — thank you."))
    return blocks


# --- the preview DM to the sender ------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewCard:
    letter: Letter
    audience: str  # e.g. "Teams: Sales, Support · Roles: Engineering" (escaped by the builder)
    reach: int  # people it will reach now
    skipped: int  # people in the audience who are inactive or can't get DMs
    when: str | None  # None: when Send is pressed; else e.g. "Tue 3 Mar 2026, 09:00 (Europe/Paris)"
    channel: str | None
    reminder_days: int | None
    state: str  # draft, scheduled, sending, sent, cancelled
    note: str | None = None  # what happened, e.g. "Cancelled Tue 3 Mar, 10:12"


def reach_line(reach: int, skipped: int) -> str:
    line = f"Will reach {_people(reach)}"
    if skipped:
        line += f" · {count(skipped)} unreachable or inactive skipped"
    return line


def preview_text(card: PreviewCard) -> str:
    if card.state == "cancelled":
        return "Broadcast cancelled; nothing was sent."
    return f"Preview of your broadcast: {reach_line(card.reach, card.skipped)}."


def _confirm(title: str, text: str, yes: str, *, danger: bool = False) -> dict[str, Any]:
    confirm: dict[str, Any] = {
        "title": plain(title, 100),
        "text": plain(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain("Go back", 30),
    }
    if danger:
        confirm["style"] = "danger"
    return confirm


def _button_with_confirm(element: dict[str, Any], confirm: dict[str, Any]) -> dict[str, Any]:
    return {**element, "confirm": confirm}


def _ack_summary(card: PreviewCard) -> str:
    if not card.letter.ask_ack:
        return "Not asked"
    if card.reminder_days:
        days = card.reminder_days
        return f"“Got it” button; reminder after {days} day{'s' if days > 1 else ''} to those who haven't"
    return "“Got it” button"


def preview_blocks(card: PreviewCard) -> list[Block]:
    """The preview: the message exactly as recipients get it, then audience, timing and the buttons."""
    bid = str(card.letter.broadcast_id)
    blocks: list[Block] = [
        header(f"Broadcast #{bid}: preview"),
        context("This is exactly what each person will get:"),
        divider(),
        *letter_blocks(card.letter)[:2],
    ]
    if card.letter.ask_ack:
        blocks.append(context(f"_Each person gets a *{GOT_IT}* button here._"))
    blocks.append(divider())
    facts = [
        ("Audience", card.audience),
        ("Reach", reach_line(card.reach, card.skipped)),
        ("When", card.when or "As soon as you press Send"),
        ("Acknowledgement", _ack_summary(card)),
    ]
    if card.channel:
        facts.append(("Also posted in", f"<#{card.channel}>"))
    blocks.append(fields(facts))
    if card.state == "draft":
        send_label = "Schedule" if card.when else "Send"
        send_text = (
            f"It goes to {_people(card.reach)} at {card.when}."
            if card.when
            else f"It goes to {_people(card.reach)} now."
        )
        blocks.append(
            actions(
                _button_with_confirm(
                    button(send_label, ids.BROADCAST_SEND, value=bid, style="primary"),
                    _confirm(f"{send_label} this broadcast?", send_text, send_label),
                ),
                button("Edit", ids.BROADCAST_EDIT, value=bid),
                button("Cancel", ids.BROADCAST_CANCEL, value=bid, style="danger"),
                block_id=ids.BROADCAST_PREVIEW_BLOCK,
            )
        )
        blocks.append(context("The audience is counted again when it is sent."))
    elif card.state == "scheduled":
        blocks.append(section(f"⏰ *Scheduled* for {card.when}. {card.note or ''}".strip()))
        blocks.append(
            actions(
                _button_with_confirm(
                    button("Cancel", ids.BROADCAST_CANCEL, value=bid, style="danger"),
                    _confirm("Cancel this broadcast?", "Nobody will get it.", "Cancel it", danger=True),
                ),
                block_id=ids.BROADCAST_PREVIEW_BLOCK,
            )
        )
    elif card.state == "cancelled":
        blocks.append(section(f"✖️ *Cancelled.* {card.note or 'Nothing was sent.'}"))
    else:
        blocks.append(section(f"📣 *Sent.* {card.note or 'Progress is in the status message below.'}"))
    return blocks


# --- the sender's live status message ---------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    broadcast_id: int
    excerpt: str  # escaped
    audience: int  # everyone the broadcast was meant for, reachable or not
    delivered: int
    unreachable: int  # skipped when sent (inactive, no DMs) plus those Slack refused
    acked: int
    ask_ack: bool
    done: bool


def progress_line(progress: Progress) -> str:
    """ "Delivered 340 of 1,200 · 3 unreachable · 85 acknowledged", or the final "Delivered to all …"."""
    if progress.done:
        parts = [f"Delivered to all {count(progress.delivered)}"]
    else:
        parts = [f"Delivered {count(progress.delivered)} of {count(progress.audience)}"]
    if progress.unreachable:
        parts.append(f"{count(progress.unreachable)} unreachable")
    if progress.ask_ack:
        parts.append(f"{count(progress.acked)} acknowledged")
    return " · ".join(parts)


def status_text(progress: Progress) -> str:
    return f"Broadcast #{progress.broadcast_id}: {progress_line(progress)}"


def status_blocks(progress: Progress, *, updated: str) -> list[Block]:
    icon = "✅" if progress.done else "📤"
    return [
        section(
            f"{icon} *Broadcast #{progress.broadcast_id}* “{progress.excerpt}”\n{progress_line(progress)}"
        ),
        context(f"Updated {updated}. Every broadcast is kept: who sent what, to whom and when."),
    ]


# --- App Home: change managers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeItem:
    broadcast_id: int
    excerpt: str  # escaped
    when: str  # scheduled time or when it was sent, in the viewer's time zone
    sender: str | None  # escaped display name
    line: str  # reach, or progress


def home_section(
    scheduled: Sequence[HomeItem], recent: Sequence[HomeItem], *, more_scheduled: int, command: str
) -> list[Block]:
    """Scheduled broadcasts (each with Cancel) and the latest ones sent, with their figures."""
    blocks: list[Block] = [header("Broadcasts")]
    if scheduled:
        for item in scheduled:
            by = f" · by {item.sender}" if item.sender else ""
            cancel = _button_with_confirm(
                button("Cancel", ids.BROADCAST_CANCEL, value=str(item.broadcast_id), style="danger"),
                _confirm("Cancel this broadcast?", "Nobody will get it.", "Cancel it", danger=True),
            )
            blocks.append(
                section(
                    f"⏰ *{item.when}*{by}\n“{item.excerpt}”\n{item.line}",
                    accessory=cancel,
                    block_id=f"{ids.BROADCAST_CANCEL}.{item.broadcast_id}",
                )
            )
        if more_scheduled:
            blocks.append(context(f"…and {count(more_scheduled)} more scheduled."))
    else:
        blocks.append(context(f"Nothing scheduled. Type `{command} broadcast` to write one."))
    if recent:
        lines = [f"• *#{i.broadcast_id}* {i.when} “{i.excerpt}” — {i.line}" for i in recent]
        blocks.append(section("*Recently sent*\n" + "\n".join(lines)))
    return blocks


# --- `/adopt broadcast status` ---------------------------------------------------------------------------


def status_list_blocks(
    scheduled: Sequence[HomeItem], recent: Sequence[HomeItem], *, command: str
) -> list[Block]:
    """The latest broadcasts and those scheduled, one line each."""
    lines = [f"• ⏰ *#{i.broadcast_id}* {i.when} “{i.excerpt}” — {i.line}" for i in scheduled]
    lines += [f"• *#{i.broadcast_id}* {i.when} “{i.excerpt}” — {i.line}" for i in recent]
    if not lines:
        return [section(f"No broadcasts yet. Type `{command} broadcast` to write one.")]
    return [
        section("*Broadcasts*\n" + "\n".join(lines)),
        context(f"`{command} broadcast status ID` shows who has acknowledged one."),
    ]


@dataclass(frozen=True)
class TeamAcks:
    team: str  # escaped
    recipients: int
    acked: int


@dataclass(frozen=True)
class AckReport:
    progress: Progress
    teams: Sequence[TeamAcks]
    waiting: Sequence[str]  # escaped names of people who got it and have not acknowledged, first ones
    waiting_more: int


def ack_report_blocks(report: AckReport) -> list[Block]:
    progress = report.progress
    blocks: list[Block] = [
        section(f"*Broadcast #{progress.broadcast_id}* “{progress.excerpt}”\n{progress_line(progress)}")
    ]
    if not progress.ask_ack:
        blocks.append(context("This broadcast did not ask for acknowledgement."))
        return blocks
    teams = [f"• {t.team}: {count(t.acked)} of {count(t.recipients)}" for t in report.teams]
    if teams:
        blocks.append(section(truncate("*Acknowledged, by team*\n" + "\n".join(teams), SECTION_TEXT_MAX)))
    if report.waiting:
        more = f", and {count(report.waiting_more)} more" if report.waiting_more else ""
        names = ", ".join(report.waiting)
        blocks.append(section(truncate(f"*Not acknowledged yet:* {names}{more}", SECTION_TEXT_MAX)))
    elif progress.delivered:
        blocks.append(section("Everyone it reached has acknowledged it. 🎉"))
    return blocks
