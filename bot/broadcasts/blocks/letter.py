"""Block Kit for what each recipient of a broadcast gets: the DM (with "Got it"), the optional channel post
and the reminder. Pure builders.

The message a change manager types is escaped here (`&`, `<`, `>`): Slack formatting such as *bold*,
_italic_ and bare links still works, but no `@channel`, mention or disguised link can reach a whole
organisation. The sender's name is escaped too; without one, the sender is mentioned by Slack ID only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.i18n import N_
from bot.i18n import gettext as _
from bot.slack import ids
from bot.slack.blocks import Block, actions, button, context, section
from bot.slack.text import escape, mention, one_line, truncate

GOT_IT: Final = N_("Got it")
ACKNOWLEDGED: Final = N_("✓ Acknowledged")


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
    return _("your change team")


def letter_text(letter: Letter) -> str:
    """The notification text (plain fallback)."""
    who = letter.sender_name or _("your change team")
    return escape(truncate(f"{who}: {one_line(letter.text)}", 300))


def _got_it(letter: Letter) -> Block:
    return actions(
        button(_(GOT_IT), ids.BROADCAST_GOT_IT, value=str(letter.broadcast_id), style="primary"),
        block_id=ids.BROADCAST_GOT_IT_BLOCK,
    )


def letter_blocks(letter: Letter, *, acked_on: str | None = None) -> list[Block]:
    """The DM: the message, who sent it, and (when asked for) "Got it" or, once pressed, "✓ Acknowledged"."""
    blocks: list[Block] = [section(body(letter.text)), _from(letter)]
    if letter.ask_ack:
        if acked_on is None:
            blocks.append(_got_it(letter))
        else:
            blocks.append(_acknowledged(acked_on))
    return blocks


def _from(letter: Letter) -> Block:
    return context(_("From {sender} via Adoptbot").format(sender=_sender(letter)))


def _acknowledged(acked_on: str) -> Block:
    return context(
        _("*{acknowledged}* {when} — thank you.").format(acknowledged=_(ACKNOWLEDGED), when=acked_on)
    )


def channel_blocks(letter: Letter) -> list[Block]:
    """The optional channel post: the message and who sent it, never a button."""
    return [section(body(letter.text)), _from(letter)]


def reminder_text(letter: Letter) -> str:
    return escape(
        truncate(_("Reminder: please confirm you've read “{text}”").format(text=one_line(letter.text)), 300)
    )


def reminder_blocks(letter: Letter, *, acked_on: str | None = None) -> list[Block]:
    blocks: list[Block] = [
        section(
            _("⏰ *A reminder* — {sender} asked everyone to confirm they've read this:").format(
                sender=_sender(letter)
            )
        ),
        section(body(letter.text)),
    ]
    if acked_on is None:
        blocks.append(_got_it(letter))
    else:
        blocks.append(_acknowledged(acked_on))
    return blocks
