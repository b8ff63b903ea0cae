"""Block Kit for the change managers' side of wins: the review DM each of them gets, the `/adopt wins`
queue, how a decision reads, and the count of wins waiting on their Home. Pure builders.

The review DM names the author, also of an anonymous win: reviewers need to know whom to ask, and the
"Share a win" modal tells the author so. Once a win is decided, every reviewer's DM shows who decided what,
in place of the buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.models import WinStatus
from bot.slack import ids
from bot.slack.blocks import MESSAGE_BLOCKS_MAX, Block, actions, button, context, header, section
from bot.slack.text import one_line
from bot.wins.blocks.card import (
    WinCard,
    details,
    excerpt,
    hours_label,
    inert,
    mention_or,
    quote,
    safe_link,
    share_for_reviewers,
    share_label,
    team_label,
    verbatim,
)

QUEUE_SHOWN: Final = 20  # wins listed by `/adopt wins`: 2 blocks each, within a message's 50 blocks


def _review_buttons(win_id: int) -> Block:
    value = str(win_id)
    return actions(
        button(_("Approve"), ids.WIN_APPROVE, value=value, style="primary"),
        button(_("Edit"), ids.WIN_EDIT, value=value),
        button(_("Reject"), ids.WIN_REJECT, value=value, style="danger"),
        block_id=f"{ids.WIN_REVIEW_BLOCK}{win_id}",
    )


def already_decided(card: WinCard) -> str:
    """The answer to a change manager who acts on a win someone already decided."""
    who = mention_or(card.reviewer_user_id, _("another change manager"))
    if card.status == WinStatus.APPROVED:
        return _("This win was already approved by {who}. Nothing changed.").format(who=who)
    if card.status == WinStatus.REJECTED:
        return _("This win was already rejected by {who}. Nothing changed.").format(who=who)
    return _("This win was already reviewed by {who}. Nothing changed.").format(who=who)


def decision_line(card: WinCard, *, channel: str | None) -> str:
    """Who decided what, for the change managers' DMs and their "already decided" answers."""
    who = mention_or(card.reviewer_user_id, _("a change manager"))
    if card.status == WinStatus.REJECTED:
        if card.reject_reason:
            reason = inert(one_line(card.reject_reason), 600)
            return _("✖️ Rejected by {who}: _{reason}_").format(who=who, reason=reason)
        return _("✖️ Rejected by {who}").format(who=who)
    if card.status != WinStatus.APPROVED:
        return _("⏳ Waiting for review")
    decided = (
        _("✅ Edited and approved by {who}").format(who=who)
        if card.edited
        else _("✅ Approved by {who}").format(who=who)
    )
    if card.share == "private":
        where = _("counted, not posted (the author's choice)")
    elif channel:
        where = _("shared in <#{channel}>").format(channel=channel)
    else:
        where = _("no wins channel is set, so it appears in leaders' digests")
    return f"{decided} · {where}"


def review_message(card: WinCard, *, channel: str | None) -> tuple[str, list[Block]]:
    """The DM each change manager gets: the win, and Approve / Edit / Reject while it is pending.

    It names the author (change managers need to know whom to ask), also for an anonymous win: the
    modal tells the author so.
    """
    team = inert(card.team_name, 150) if card.team_name else _("no team")
    text = _("New AI win to review ({team}): {story}").format(team=team, story=excerpt(card.text))
    blocks: list[Block] = [
        section(
            _("*New AI win to review* from {author} · {team}").format(
                author=mention_or(card.author_user_id), team=team_label(card)
            )
        ),
        verbatim(quote(card.text)),
        details(card),
    ]
    notes = [_("Sharing: {how}").format(how=share_for_reviewers(card.share))]
    if card.polished:
        notes.append(
            _("The author picked an AI-polished version. Their own words: {words}").format(
                words=excerpt(card.what, 300)
            )
        )
    link = safe_link(card.source_link)
    if link:
        notes.append(_("<{link}|The original message>").format(link=link))
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": n, "verbatim": True} for n in notes]}
    )
    if card.status == WinStatus.PENDING:
        blocks.append(_review_buttons(card.id))
        blocks.append(context(_("Nothing is shared until one of you approves it.")))
    else:
        blocks.append(section(decision_line(card, channel=channel)))
    return text, blocks


def queue_message(cards: Sequence[WinCard], total: int, *, command: str) -> tuple[str, list[Block]]:
    """`/adopt wins`: the oldest pending wins with their buttons, within a message's 50 blocks."""
    if total == 0:
        return _("No wins are waiting for review."), [section(_("🎉 No wins are waiting for review."))]
    shown = list(cards[:QUEUE_SHOWN])
    blocks: list[Block] = [header(_("Wins waiting for review ({n})").format(n=total))]
    for card in shown:
        how = share_label(card.share).lower()
        tool = f" · {inert(card.tool, 120)}" if card.tool else ""
        author = mention_or(card.author_user_id)
        head = f"{author} · {team_label(card)} · {hours_label(card.hours)}{tool} · {how}"
        blocks.append(verbatim(f"{head}\n{quote(card.text, 700)}"))
        blocks.append(_review_buttons(card.id))
    if total > len(shown):
        more = _("…and {n} more. Review these, then `{command} wins` again.")
        blocks.append(context(more.format(n=total - len(shown), command=command)))
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    return ngettext("{n} win waiting for review.", "{n} wins waiting for review.", total).format(
        n=total
    ), blocks


def review_home_section(pending: int, *, command: str) -> list[Block]:
    """For change managers: how many wins wait for review (hidden when none)."""
    if pending <= 0:
        return []
    line = ngettext(
        "*{n}* win waits for your review: `{command} wins` lists them.",
        "*{n}* wins wait for your review: `{command} wins` lists them.",
        pending,
    )
    return [header(_("Wins to review")), section(line.format(n=pending, command=command))]
