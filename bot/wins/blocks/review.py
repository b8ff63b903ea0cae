"""Block Kit for the change managers' side of wins: the review DM each of them gets, the `/adopt wins`
queue, how a decision reads, and the count of wins waiting on their Home. Pure builders.

The review DM names the author, also of an anonymous win: reviewers need to know whom to ask, and the
"Share a win" modal tells the author so. Once a win is decided, every reviewer's DM shows who decided what,
in place of the buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot.models import WinStatus
from bot.slack import ids
from bot.slack.blocks import MESSAGE_BLOCKS_MAX, Block, actions, button, context, header, section
from bot.slack.text import one_line
from bot.wins.blocks.card import (
    SHARE_FOR_REVIEWERS,
    SHARE_LABELS,
    WinCard,
    details,
    excerpt,
    hours_label,
    inert,
    mention_or,
    quote,
    safe_link,
    team_label,
    verbatim,
)

QUEUE_SHOWN: Final = 20  # wins listed by `/adopt wins`: 2 blocks each, within a message's 50 blocks


def _review_buttons(win_id: int) -> Block:
    value = str(win_id)
    return actions(
        button("Approve", ids.WIN_APPROVE, value=value, style="primary"),
        button("Edit", ids.WIN_EDIT, value=value),
        button("Reject", ids.WIN_REJECT, value=value, style="danger"),
        block_id=f"{ids.WIN_REVIEW_BLOCK}{win_id}",
    )


def already_decided(card: WinCard) -> str:
    """The answer to a change manager who acts on a win someone already decided."""
    verb = card.status if card.status in (WinStatus.APPROVED, WinStatus.REJECTED) else "reviewed"
    who = mention_or(card.reviewer_user_id, "another change manager")
    return f"This win was already {verb} by {who}. Nothing changed."


def decision_line(card: WinCard, *, channel: str | None) -> str:
    """Who decided what, for the change managers' DMs and their "already decided" answers."""
    who = mention_or(card.reviewer_user_id, "a change manager")
    if card.status == WinStatus.REJECTED:
        reason = f": _{inert(one_line(card.reject_reason or ''), 600)}_" if card.reject_reason else ""
        return f"✖️ Rejected by {who}{reason}"
    if card.status != WinStatus.APPROVED:
        return "⏳ Waiting for review"
    verb = "Edited and approved" if card.edited else "Approved"
    if card.share == "private":
        where = "counted, not posted (the author's choice)"
    elif channel:
        where = f"shared in <#{channel}>"
    else:
        where = "no wins channel is set, so it appears in leaders' digests"
    return f"✅ {verb} by {who} · {where}"


def review_message(card: WinCard, *, channel: str | None) -> tuple[str, list[Block]]:
    """The DM each change manager gets: the win, and Approve / Edit / Reject while it is pending.

    It names the author (change managers need to know whom to ask), also for an anonymous win: the
    modal tells the author so.
    """
    team = inert(card.team_name, 150) if card.team_name else "no team"
    text = f"New AI win to review ({team}): {excerpt(card.text)}"
    blocks: list[Block] = [
        section(f"*New AI win to review* from {mention_or(card.author_user_id)} · {team_label(card)}"),
        verbatim(quote(card.text)),
        details(card),
    ]
    notes = [f"Sharing: {SHARE_FOR_REVIEWERS.get(card.share, card.share)}"]
    if card.polished:
        notes.append(f"The author picked an AI-polished version. Their own words: {excerpt(card.what, 300)}")
    link = safe_link(card.source_link)
    if link:
        notes.append(f"<{link}|The original message>")
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": n, "verbatim": True} for n in notes]}
    )
    if card.status == WinStatus.PENDING:
        blocks.append(_review_buttons(card.id))
        blocks.append(context("Nothing is shared until one of you approves it."))
    else:
        blocks.append(section(decision_line(card, channel=channel)))
    return text, blocks


def queue_message(cards: Sequence[WinCard], total: int, *, command: str) -> tuple[str, list[Block]]:
    """`/adopt wins`: the oldest pending wins with their buttons, within a message's 50 blocks."""
    if total == 0:
        return "No wins are waiting for review.", [section("🎉 No wins are waiting for review.")]
    shown = list(cards[:QUEUE_SHOWN])
    blocks: list[Block] = [header(f"Wins waiting for review ({total})")]
    for card in shown:
        how = SHARE_LABELS.get(card.share, card.share).lower()
        tool = f" · {inert(card.tool, 120)}" if card.tool else ""
        author = mention_or(card.author_user_id)
        head = f"{author} · {team_label(card)} · {hours_label(card.hours)}{tool} · {how}"
        blocks.append(verbatim(f"{head}\n{quote(card.text, 700)}"))
        blocks.append(_review_buttons(card.id))
    if total > len(shown):
        blocks.append(context(f"…and {total - len(shown)} more. Review these, then `{command} wins` again."))
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    return f"{total} win{'s' if total != 1 else ''} waiting for review.", blocks


def review_home_section(pending: int, *, command: str) -> list[Block]:
    """For change managers: how many wins wait for review (hidden when none)."""
    if pending <= 0:
        return []
    wins = "win waits" if pending == 1 else "wins wait"
    return [
        header("Wins to review"),
        section(f"*{pending}* {wins} for your review: `{command} wins` lists them."),
    ]
