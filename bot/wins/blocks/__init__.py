"""Block Kit for wins: what authors and everyone else see (the channel post, the author's DMs, "Your wins"
on Home, the monthly recognition, digest lines), and the one module to import for every win builder. Pure
builders: data in, dict out.

It re-exports the builders beside it (`from bot.wins import blocks`, then `blocks.win_modal`,
`blocks.review_message`, ...): `modals` (the modals and their values), `review` (the change managers'
DMs, queue and Home count) and `card` (the card every builder shows, and the escaping that keeps typed
text from pinging or linking anyone).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from bot.i18n import N_, format_number, ngettext
from bot.i18n import gettext as _
from bot.models import WinStatus
from bot.slack import ids
from bot.slack.blocks import SECTION_TEXT_MAX, Block, actions, button, context, header, section
from bot.wins.blocks.card import (
    HOURS_MAX,
    REASON_MAX,
    SHARE_LABELS,
    TOOL_MAX,
    WHAT_MAX,
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
from bot.wins.blocks.modals import (
    SHARE_HINT,
    RawWin,
    WinPrefill,
    edit_modal,
    field_errors,
    info_modal,
    modal_link,
    raw_from_state,
    reason_from_state,
    reject_modal,
    win_modal,
)
from bot.wins.blocks.review import (
    QUEUE_SHOWN,
    already_decided,
    decision_line,
    queue_message,
    review_home_section,
    review_message,
)

__all__ = [
    "HOME_RECENT",
    "HOURS_MAX",
    "QUEUE_SHOWN",
    "REASON_MAX",
    "SHARE_HINT",
    "SHARE_LABELS",
    "TOOL_MAX",
    "WHAT_MAX",
    "MyWins",
    "RawWin",
    "TeamWins",
    "WinCard",
    "WinPrefill",
    "WinSnippet",
    "already_decided",
    "approved_message",
    "channel_post",
    "decision_line",
    "digest_lines",
    "edit_modal",
    "field_errors",
    "home_section",
    "hours_label",
    "inert",
    "info_modal",
    "modal_link",
    "queue_message",
    "quote",
    "raw_from_state",
    "reason_from_state",
    "recognition_message",
    "reject_modal",
    "rejected_message",
    "review_home_section",
    "review_message",
    "safe_link",
    "submitted_message",
    "win_modal",
]

HOME_RECENT: Final = 5

_STATUS_FOR_AUTHOR: Final = {
    WinStatus.PENDING: N_("⏳ waiting for review"),
    WinStatus.REJECTED: N_("✖️ not shared"),
}


@dataclass(frozen=True)
class MyWins:
    """A person's own wins, for their Home tab."""

    approved: int = 0
    hours: float = 0.0  # weekly hours the approved ones report
    pending: int = 0
    recent: tuple[WinCard, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class TeamWins:
    team: str
    wins: int
    hours: float


@dataclass(frozen=True)
class WinSnippet:
    """An approved, public win for a digest: `author_user_id` is None for anonymous wins."""

    text: str
    team: str | None
    hours: float
    author_user_id: str | None = None


# --- the wins channel -----------------------------------------------------------------------------------


def channel_post(card: WinCard) -> tuple[str, list[Block]]:
    """An approved win in the wins channel: named (a mention built from the author's ID) or anonymous."""
    team = inert(card.team_name, 150) if card.team_name else _("a team")
    by = (
        _("Shared anonymously")
        if card.share != "named"
        else _("Shared by {who}").format(who=mention_or(card.author_user_id))
    )
    blocks: list[Block] = [
        section(_("🎉 *A new AI win from {team}*").format(team=team_label(card))),
        verbatim(quote(card.text)),
        details(card),
        context(by),
        actions(
            button(_("Try this too"), ids.WIN_TRY_THIS, value=str(card.id), style="primary"),
            block_id="wins.try",
        ),
    ]
    return _("🎉 A new AI win from {team}: {story}").format(team=team, story=excerpt(card.text)), blocks


# --- the author's DMs -----------------------------------------------------------------------------------


def _quoted(lead: str, typed: str) -> Block:
    """Our `lead` line, then `typed` as a block quote, within a section's 3,000 characters."""
    return verbatim(f"{lead}\n{quote(typed, SECTION_TEXT_MAX - len(lead) - 1)}")


def _share_sentence(share: str) -> str:
    if share == "named":
        return _("Once approved, it is shared in the wins channel with your name.")
    if share == "anonymous":
        return _("Once approved, it is shared without your name.")
    return _("As you chose, it won't be posted anywhere: it only counts toward your team's hours saved.")


def submitted_message(
    card: WinCard, *, offer: str | None = None, choice: str | None = None
) -> tuple[str, list[Block]]:
    """The author's confirmation; with `offer`, the AI-polished version and the buttons to pick it."""
    blocks: list[Block] = [
        section(
            _(
                "🙌 *Thanks for sharing your win!* A change manager takes a quick look before "
                "anything is shared."
            )
            + " "
            + _share_sentence(card.share)
        ),
        verbatim(quote(card.what)),
    ]
    if offer and choice is None:
        blocks.append(_quoted(_("✨ *Want a polished version?* Here it is in two sentences:"), offer))
        blocks.append(
            actions(
                button(
                    _("Use the polished version"), ids.WIN_USE_POLISHED, value=str(card.id), style="primary"
                ),
                button(_("Keep mine"), ids.WIN_KEEP_MINE, value=str(card.id)),
                block_id=ids.WIN_POLISH_BLOCK,
            )
        )
        blocks.append(context(_("Either way, nothing is shared before a change manager approves it.")))
    elif choice == "polished":
        blocks.append(_quoted(_("✨ You picked the polished version:"), card.polished or offer or ""))
    elif choice == "kept":
        blocks.append(context(_("You kept your own words.")))
    return _("Thanks for sharing your win! A change manager will review it."), blocks


def approved_message(card: WinCard, *, channel: str | None) -> tuple[str, list[Block]]:
    anonymous = card.share == "anonymous"
    if card.share == "private":
        line = _(
            "🎉 *Your win is approved* and counts toward your team's hours saved. As you chose, it "
            "isn't posted."
        )
    elif channel and anonymous:
        line = _(
            "🎉 *Your win is approved* and shared in <#{channel}> without your name. "
            "Thank you for showing what works!"
        ).format(channel=channel)
    elif channel:
        line = _(
            "🎉 *Your win is approved* and shared in <#{channel}>. Thank you for showing what works!"
        ).format(channel=channel)
    elif anonymous:
        line = _("🎉 *Your win is approved.* It appears in the leaders' weekly digest, without your name.")
    else:
        line = _("🎉 *Your win is approved.* It appears in the leaders' weekly digest.")
    blocks: list[Block] = [section(line), verbatim(quote(card.text))]
    if card.edited:
        who = mention_or(card.reviewer_user_id, _("A change manager"))
        blocks.append(context(_("{who} lightly edited it first.").format(who=who)))
    return _("Your win is approved!"), blocks


def rejected_message(card: WinCard, *, command: str) -> tuple[str, list[Block]]:
    who = mention_or(card.reviewer_user_id, _("A change manager"))
    blocks: list[Block] = [
        section(_("Your win wasn't shared this time. {who} left you a note:").format(who=who)),
        verbatim(quote(card.reject_reason or _("(no note)"), 1200)),
        context(_("Your story, for reference: {story}").format(story=excerpt(card.what, 300))),
        context(_("You can share it again, changed, with `{command} win`.").format(command=command)),
    ]
    return _("Your win wasn't shared this time."), blocks


# --- App Home -------------------------------------------------------------------------------------------


def _author_status(card: WinCard) -> str:
    if card.status == WinStatus.APPROVED:
        return _("✅ counted") if card.share == "private" else _("✅ shared")
    shown = _STATUS_FOR_AUTHOR.get(card.status)
    return _(shown) if shown is not None else str(card.status)


def home_section(mine: MyWins) -> list[Block]:
    """ "Your wins": totals, the latest few with their status, and a button to share one."""
    share = actions(button(_("Share a win"), ids.WIN_OPEN_MODAL, style="primary"), block_id="wins.home")
    if not mine.recent:
        return [
            header(_("Your wins")),
            section(_("Saved time with AI? Share it in a few seconds: colleagues copy what works.")),
            share,
        ]
    summary = _("*{approved}* approved · *{hours}* saved").format(
        approved=mine.approved, hours=hours_label(mine.hours)
    )
    if mine.pending:
        summary += " · " + _("{n} waiting for review").format(n=mine.pending)
    lines = [
        f"• {_author_status(c)}: {excerpt(c.text, 90)} ({hours_label(c.hours)})"
        for c in mine.recent[:HOME_RECENT]
    ]
    return [header(_("Your wins")), section(summary), verbatim("\n".join(lines)), share]


# --- the monthly recognition and digests ----------------------------------------------------------------


def recognition_message(month: str, teams: Sequence[TeamWins], *, command: str) -> tuple[str, list[Block]]:
    """A congratulation to the teams that shared the most wins in `month` (never a ranking of people)."""
    lines = [
        f"• *{inert(t.team, 150)}*: "
        + (
            ngettext(
                "{n} win, about {hours} hours a week saved",
                "{n} wins, about {hours} hours a week saved",
                t.wins,
            ).format(n=t.wins, hours=format_number(t.hours))
            if t.hours > 0
            else ngettext("{n} win", "{n} wins", t.wins).format(n=t.wins)
        )
        for t in teams
    ]
    blocks: list[Block] = [
        section(
            _("🎉 *Congratulations!* These teams shared the most AI wins in {month}:").format(month=month)
        ),
        section("\n".join(lines)),
        context(
            _(
                "Every win counts: thank you to everyone who shared one. Share yours with `{command} win`."
            ).format(command=command)
        ),
    ]
    names = ", ".join(inert(t.team, 150) for t in teams)
    text = _("Congratulations to the teams that shared the most AI wins in {month}: {names}")
    return text.format(month=month, names=names), blocks


def digest_lines(snippets: Sequence[WinSnippet], *, limit: int = SECTION_TEXT_MAX) -> str:
    """Escaped mrkdwn lines for a digest: one per win, anonymous ones without a name, within `limit`."""
    lines: list[str] = []
    used = 0
    for snippet in snippets:
        by = f" ({mention_or(snippet.author_user_id)})" if snippet.author_user_id else ""
        team = f"*{inert(snippet.team, 150)}*: " if snippet.team else ""
        line = f"• {team}{excerpt(snippet.text, 200)} · {hours_label(snippet.hours)}{by}"
        if used + len(line) + 1 > limit:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)
