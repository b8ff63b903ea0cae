"""Block Kit for broadcasts: the sender's preview DM and the change managers' App Home section. Pure builders.

This is the module to import for every broadcast builder (`from bot.broadcasts import blocks`): it
re-exports those beside it, `composer` (the composer modal), `letter` (what each recipient gets, and where
a typed message is escaped) and `status` (the live status message and `/adopt broadcast status`). The
preview shows the letter built by the same code that builds each recipient's DM, so what the sender
approves is what people get.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.broadcasts.blocks.composer import (
    COMPOSER_TITLE,
    FIELD_BLOCKS,
    MESSAGE_MAX,
    REMINDER_CHOICES,
    ComposerValues,
    composer_modal,
    field_errors,
    values_from_state,
)
from bot.broadcasts.blocks.letter import (
    ACKNOWLEDGED,
    GOT_IT,
    Letter,
    body,
    channel_blocks,
    letter_blocks,
    letter_text,
    reminder_blocks,
    reminder_text,
)
from bot.broadcasts.blocks.status import (
    AckReport,
    HomeItem,
    Progress,
    TeamAcks,
    ack_report_blocks,
    count,
    excerpt,
    progress_line,
    status_blocks,
    status_list_blocks,
    status_text,
)
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.models import BroadcastStatus
from bot.slack import ids
from bot.slack.blocks import Block, actions, button, context, divider, fields, header, plain, section

__all__ = [
    "ACKNOWLEDGED",
    "COMPOSER_TITLE",
    "FIELD_BLOCKS",
    "GOT_IT",
    "MESSAGE_MAX",
    "REMINDER_CHOICES",
    "AckReport",
    "ComposerValues",
    "HomeItem",
    "Letter",
    "PreviewCard",
    "Progress",
    "TeamAcks",
    "ack_report_blocks",
    "body",
    "channel_blocks",
    "composer_modal",
    "count",
    "excerpt",
    "field_errors",
    "home_section",
    "letter_blocks",
    "letter_text",
    "preview_blocks",
    "preview_text",
    "progress_line",
    "reach_line",
    "reminder_blocks",
    "reminder_text",
    "status_blocks",
    "status_list_blocks",
    "status_text",
    "values_from_state",
]


def _people(n: int) -> str:
    return ngettext("{n} person", "{n} people", n).format(n=count(n))


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
    state: BroadcastStatus
    note: str | None = None  # what happened, e.g. "Cancelled Tue 3 Mar, 10:12"


def reach_line(reach: int, skipped: int) -> str:
    line = _("Will reach {people}").format(people=_people(reach))
    if skipped:
        line += " · " + _("{n} unreachable or inactive skipped").format(n=count(skipped))
    return line


def preview_text(card: PreviewCard) -> str:
    if card.state == BroadcastStatus.CANCELLED:
        return _("Broadcast cancelled; nothing was sent.")
    return _("Preview of your broadcast: {reach}.").format(reach=reach_line(card.reach, card.skipped))


def _confirm(title: str, text: str, yes: str, *, danger: bool = False) -> dict[str, Any]:
    confirm: dict[str, Any] = {
        "title": plain(title, 100),
        "text": plain(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain(_("Go back"), 30),
    }
    if danger:
        confirm["style"] = "danger"
    return confirm


def _button_with_confirm(element: dict[str, Any], confirm: dict[str, Any]) -> dict[str, Any]:
    return {**element, "confirm": confirm}


def _ack_summary(card: PreviewCard) -> str:
    if not card.letter.ask_ack:
        return _("Not asked")
    if card.reminder_days:
        days = card.reminder_days
        return ngettext(
            "“{got_it}” button; reminder after {n} day to those who haven't",
            "“{got_it}” button; reminder after {n} days to those who haven't",
            days,
        ).format(got_it=_(GOT_IT), n=days)
    return _("“{got_it}” button").format(got_it=_(GOT_IT))


def preview_blocks(card: PreviewCard) -> list[Block]:
    """The preview: the message exactly as recipients get it, then audience, timing and the buttons."""
    bid = str(card.letter.broadcast_id)
    blocks: list[Block] = [
        header(_("Broadcast #{id}: preview").format(id=bid)),
        context(_("This is exactly what each person will get:")),
        divider(),
        *letter_blocks(card.letter)[:2],
    ]
    if card.letter.ask_ack:
        blocks.append(context(_("_Each person gets a *{got_it}* button here._").format(got_it=_(GOT_IT))))
    blocks.append(divider())
    facts = [
        (_("Audience"), card.audience),
        (_("Reach"), reach_line(card.reach, card.skipped)),
        (_("When"), card.when or _("As soon as you press Send")),
        (_("Acknowledgement"), _ack_summary(card)),
    ]
    if card.channel:
        facts.append((_("Also posted in"), f"<#{card.channel}>"))
    blocks.append(fields(facts))
    if card.state == BroadcastStatus.DRAFT:
        if card.when:
            send_label, question = _("Schedule"), _("Schedule this broadcast?")
            send_text = _("It goes to {people} at {when}.").format(people=_people(card.reach), when=card.when)
        else:
            send_label, question = _("Send"), _("Send this broadcast?")
            send_text = _("It goes to {people} now.").format(people=_people(card.reach))
        blocks.append(
            actions(
                _button_with_confirm(
                    button(send_label, ids.BROADCAST_SEND, value=bid, style="primary"),
                    _confirm(question, send_text, send_label),
                ),
                button(_("Edit"), ids.BROADCAST_EDIT, value=bid),
                button(_("Cancel"), ids.BROADCAST_CANCEL, value=bid, style="danger"),
                block_id=ids.BROADCAST_PREVIEW_BLOCK,
            )
        )
        blocks.append(context(_("The audience is counted again when it is sent.")))
    elif card.state == BroadcastStatus.SCHEDULED:
        line = _("⏰ *Scheduled* for {when}.").format(when=card.when)
        blocks.append(section(f"{line} {card.note or ''}".strip()))
        blocks.append(
            actions(
                _button_with_confirm(
                    button(_("Cancel"), ids.BROADCAST_CANCEL, value=bid, style="danger"), _cancel()
                ),
                block_id=ids.BROADCAST_PREVIEW_BLOCK,
            )
        )
    elif card.state == BroadcastStatus.CANCELLED:
        blocks.append(section(_("✖️ *Cancelled.*") + " " + (card.note or _("Nothing was sent."))))
    else:
        blocks.append(
            section(_("📣 *Sent.*") + " " + (card.note or _("Progress is in the status message below.")))
        )
    return blocks


def _cancel() -> dict[str, Any]:
    return _confirm(_("Cancel this broadcast?"), _("Nobody will get it."), _("Cancel it"), danger=True)


# --- App Home: change managers ---------------------------------------------------------------------------


def home_section(
    scheduled: Sequence[HomeItem], recent: Sequence[HomeItem], *, more_scheduled: int, command: str
) -> list[Block]:
    """Scheduled broadcasts (each with Cancel) and the latest ones sent, with their figures."""
    blocks: list[Block] = [header(_("Broadcasts"))]
    if scheduled:
        for item in scheduled:
            by = " · " + _("by {sender}").format(sender=item.sender) if item.sender else ""
            cancel = _button_with_confirm(
                button(_("Cancel"), ids.BROADCAST_CANCEL, value=str(item.broadcast_id), style="danger"),
                _cancel(),
            )
            blocks.append(
                section(
                    f"⏰ *{item.when}*{by}\n“{item.excerpt}”\n{item.line}",
                    accessory=cancel,
                    block_id=f"{ids.BROADCAST_CANCEL}.{item.broadcast_id}",
                )
            )
        if more_scheduled:
            blocks.append(context(_("…and {n} more scheduled.").format(n=count(more_scheduled))))
    else:
        blocks.append(
            context(_("Nothing scheduled. Type `{command} broadcast` to write one.").format(command=command))
        )
    if recent:
        lines = [f"• *#{i.broadcast_id}* {i.when} “{i.excerpt}” — {i.line}" for i in recent]
        blocks.append(section(_("*Recently sent*") + "\n" + "\n".join(lines)))
    return blocks
