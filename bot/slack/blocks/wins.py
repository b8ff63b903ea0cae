"""Block Kit for wins: the "Share a win" modal, the moderation DM and queue, the channel post, the author's
DMs, the Home sections and the monthly recognition. Pure builders: data in, dict out.

Everything a person typed (the story, the tool, a reject reason) and every team name is escaped here with
`bot.slack.text.escape`, and the sections that carry typed text are `verbatim` (Slack does no auto-linking
or mention parsing in them), so a story can never ping `@channel`, `@here`, a user or a group, nor show a
disguised link. Mentions of people are built here from Slack user IDs only (`mention()`), never from text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from bot.slack import ids
from bot.slack.blocks.common import (
    MESSAGE_BLOCKS_MAX,
    SECTION_TEXT_MAX,
    Block,
    actions,
    button,
    context,
    header,
    input_block,
    modal,
    plain,
    section,
    select_menu,
)
from bot.slack.text import escape, mention, one_line, truncate

WHAT_MAX: Final = 2000  # characters a story may have (Slack's plain_text_input allows up to 3,000)
TOOL_MAX: Final = 120
REASON_MAX: Final = 500
HOURS_MAX: Final = 40
QUEUE_SHOWN: Final = 20  # wins listed by `/adopt wins`: 2 blocks each, within a message's 50 blocks
HOME_RECENT: Final = 5

SHARE_LABELS: Final = {
    "named": "With my name",
    "anonymous": "Anonymously",
    "private": "Not publicly (only counted)",
}
_SHARE_DESCRIPTIONS: Final = {
    "named": "Posted in the wins channel with your name",
    "anonymous": "Posted without your name; only reviewers see who sent it",
    "private": "Never posted: it only counts in your team's hours saved",
}
SHARE_HINT: Final = (
    "A change manager reviews every win before anything is shared. Anonymously means your name appears "
    "nowhere public: not in the wins channel, not in digests. The change managers who review it still see "
    "who sent it, so they can ask you about it."
)
_SHARE_FOR_REVIEWERS: Final = {
    "named": "With their name",
    "anonymous": "Anonymously: only change managers see who sent it",
    "private": "Not publicly: it only counts",
}
_STATUS_FOR_AUTHOR: Final = {
    "pending": "⏳ waiting for review",
    "rejected": "✖️ not shared",
}
_PERMALINK = re.compile(
    r"^https://[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.slack\.com/archives/[A-Z0-9]+/p\d{6,}(?:\?[A-Za-z0-9_.=&%-]*)?$"
)


@dataclass(frozen=True)
class WinCard:
    """One win as the builders show it. `author_user_id` is passed only where the author may be named."""

    id: int
    what: str  # the author's own words
    tool: str | None
    hours: float
    team_name: str | None
    share: str  # named, anonymous, private
    status: str = "pending"  # pending, approved, rejected
    polished: str | None = None  # the AI version the author chose instead of their own words
    author_user_id: str | None = None
    source_link: str | None = None
    reviewer_user_id: str | None = None
    reject_reason: str | None = None
    edited: bool = False  # lightly edited by the change manager who approved it
    team_id: int | None = None

    @property
    def text(self) -> str:
        """The words that are shared: the polished version when the author picked it."""
        return self.polished or self.what


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


# --- text helpers ---------------------------------------------------------------------------------------


def inert(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """`text` escaped for Slack and cut (never inside an `&…;` entity) so the result fits in `limit`."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 0
    for char in text:
        piece = escape(char)
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out).rstrip() + "…"


def quote(text: str, limit: int = SECTION_TEXT_MAX) -> str:
    """Typed text as an escaped mrkdwn block quote (the `>` markers are ours, typed ones are escaped)."""
    lines = [line.rstrip() for line in text.strip().splitlines()] or [""]
    room = limit - 2 * len(lines)
    body = inert("\n".join(lines), max(room, 20))
    return "\n".join(f">{line}" for line in body.splitlines()) or ">"


def hours_label(hours: float) -> str:
    """`1.5` -> "1.5 h a week"; `0` -> "no hours counted"."""
    if hours <= 0:
        return "no hours counted"
    return f"{hours:g} h a week"


def _who(user_id: str | None, fallback: str = "a colleague") -> str:
    if not user_id:
        return fallback
    try:
        return mention(user_id)
    except ValueError:
        return fallback


def _team(card: WinCard) -> str:
    return f"*{inert(card.team_name, 150)}*" if card.team_name else "a team"


def safe_link(link: str | None) -> str | None:
    """A Slack message permalink we may show as a link, or None (anything else is never linked)."""
    return link if link and len(link) <= 500 and _PERMALINK.match(link) else None


def _verbatim(text: str) -> Block:
    """A section for typed text: escaped by the caller, and not parsed by Slack for links or mentions."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or " ", "verbatim": True}}


def _quoted(lead: str, typed: str) -> Block:
    """Our `lead` line, then `typed` as a block quote, within a section's 3,000 characters."""
    return _verbatim(f"{lead}\n{quote(typed, SECTION_TEXT_MAX - len(lead) - 1)}")


def _details(card: WinCard) -> Block:
    tool = inert(card.tool, 500) if card.tool else "_not given_"
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": f"*AI tool*\n{tool}", "verbatim": True},
            {"type": "mrkdwn", "text": f"*Time saved*\n{hours_label(card.hours)}"},
        ],
    }


def _snippet(text: str, limit: int = 120) -> str:
    return inert(truncate(one_line(text), limit), limit + 40)


# --- the modals -----------------------------------------------------------------------------------------


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
        "placeholder": plain("e.g. 1.5", 150),
    }
    if initial is not None:
        element["initial_value"] = f"{initial:g}"
    return element


def _share_option(value: str) -> dict[str, Any]:
    return {
        "text": plain(SHARE_LABELS[value], 75),
        "value": value,
        "description": plain(_SHARE_DESCRIPTIONS[value], 75),
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
            "What did you do with AI?",
            _text_input(
                ids.WIN_WHAT_INPUT,
                max_length=WHAT_MAX,
                multiline=True,
                initial=what,
                placeholder="e.g. I had AI draft the QBR deck from last quarter's notes, then polished it",
            ),
        ),
        input_block(
            ids.WIN_TOOL_BLOCK,
            "Which AI tool?",
            _text_input(
                ids.WIN_TOOL_INPUT, max_length=TOOL_MAX, initial=tool, placeholder="e.g. ChatGPT, Copilot"
            ),
            optional=True,
        ),
        input_block(
            ids.WIN_HOURS_BLOCK,
            "Hours saved per week",
            _hours_input(hours),
            hint=f"A rough guess is fine: 0 to {HOURS_MAX}, halves welcome (1.5).",
        ),
    ]
    if teams:
        blocks.append(
            input_block(
                ids.WIN_TEAM_BLOCK,
                "Team",
                select_menu(ids.WIN_TEAM_SELECT, teams, placeholder="Pick the team", initial=current_team),
                hint="The team whose hours saved this win counts toward.",
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
        blocks.append(context(f"From <{link}|this message>. The link is kept with your win for reviewers."))
    blocks += _story_inputs(
        teams=teams, current_team=current_team, what=prefill.what, tool=prefill.tool, hours=None
    )
    blocks.append(
        input_block(
            ids.WIN_SHARE_BLOCK,
            "How should we share it?",
            {
                "type": "radio_buttons",
                "action_id": ids.WIN_SHARE_INPUT,
                "options": [_share_option(v) for v in SHARE_LABELS],
                "initial_option": _share_option("named"),
            },
            hint=SHARE_HINT,
        )
    )
    metadata = json.dumps({"link": link}) if link else ""
    return modal("Share a win", blocks, callback_id=ids.WIN_MODAL, submit="Submit", private_metadata=metadata)


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
    how = _SHARE_FOR_REVIEWERS.get(card.share, card.share)
    blocks: list[Block] = [
        context(f"From {_who(card.author_user_id)} · to be shared: {how}. Saving approves it."),
        *_story_inputs(
            teams=teams, current_team=current_team, what=card.text, tool=card.tool, hours=card.hours
        ),
    ]
    return modal(
        "Edit this win",
        blocks,
        callback_id=ids.WIN_EDIT_MODAL,
        submit="Save and approve",
        private_metadata=str(card.id),
    )


def reject_modal(win_id: int) -> dict[str, Any]:
    blocks: list[Block] = [
        section("The author gets your note in a DM from me, so keep it kind and useful."),
        input_block(
            ids.WIN_REASON_BLOCK,
            "Why isn't it shared?",
            _text_input(
                ids.WIN_REASON_INPUT,
                max_length=REASON_MAX,
                multiline=True,
                placeholder="e.g. It names a customer: could you share it again without the name?",
            ),
        ),
    ]
    return modal(
        "Reject this win",
        blocks,
        callback_id=ids.WIN_REJECT_MODAL,
        submit="Reject",
        private_metadata=str(win_id),
    )


def info_modal(title: str, text: str) -> dict[str, Any]:
    return modal(title, [section(text)], callback_id=ids.WIN_INFO_MODAL, submit=None, close="Close")


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


# --- change managers: the review DM and the queue -------------------------------------------------------


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
    verb = {"approved": "approved", "rejected": "rejected"}.get(card.status, "reviewed")
    who = _who(card.reviewer_user_id, "another change manager")
    return f"This win was already {verb} by {who}. Nothing changed."


def decision_line(card: WinCard, *, channel: str | None) -> str:
    """Who decided what, for the change managers' DMs and their "already decided" answers."""
    who = _who(card.reviewer_user_id, "a change manager")
    if card.status == "rejected":
        reason = f": _{inert(one_line(card.reject_reason or ''), 600)}_" if card.reject_reason else ""
        return f"✖️ Rejected by {who}{reason}"
    if card.status != "approved":
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
    text = f"New AI win to review ({team}): {_snippet(card.text)}"
    blocks: list[Block] = [
        section(f"*New AI win to review* from {_who(card.author_user_id)} · {_team(card)}"),
        _verbatim(quote(card.text)),
        _details(card),
    ]
    notes = [f"Sharing: {_SHARE_FOR_REVIEWERS.get(card.share, card.share)}"]
    if card.polished:
        notes.append(f"The author picked an AI-polished version. Their own words: {_snippet(card.what, 300)}")
    link = safe_link(card.source_link)
    if link:
        notes.append(f"<{link}|The original message>")
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": n, "verbatim": True} for n in notes]}
    )
    if card.status == "pending":
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
        head = f"{_who(card.author_user_id)} · {_team(card)} · {hours_label(card.hours)}{tool} · {how}"
        blocks.append(_verbatim(f"{head}\n{quote(card.text, 700)}"))
        blocks.append(_review_buttons(card.id))
    if total > len(shown):
        blocks.append(context(f"…and {total - len(shown)} more. Review these, then `{command} wins` again."))
    assert len(blocks) <= MESSAGE_BLOCKS_MAX
    return f"{total} win{'s' if total != 1 else ''} waiting for review.", blocks


# --- the wins channel -----------------------------------------------------------------------------------


def channel_post(card: WinCard) -> tuple[str, list[Block]]:
    """An approved win in the wins channel: named (a mention built from the author's ID) or anonymous."""
    team = inert(card.team_name, 150) if card.team_name else "a team"
    by = "Shared anonymously" if card.share != "named" else f"Shared by {_who(card.author_user_id)}"
    blocks: list[Block] = [
        section(f"🎉 *A new AI win from {_team(card)}*"),
        _verbatim(quote(card.text)),
        _details(card),
        context(by),
        actions(
            button("Try this too", ids.WIN_TRY_THIS, value=str(card.id), style="primary"),
            block_id="wins.try",
        ),
    ]
    return f"🎉 A new AI win from {team}: {_snippet(card.text)}", blocks


# --- the author's DMs -----------------------------------------------------------------------------------


def _share_sentence(share: str) -> str:
    if share == "named":
        return "Once approved, it is shared in the wins channel with your name."
    if share == "anonymous":
        return "Once approved, it is shared without your name."
    return "As you chose, it won't be posted anywhere: it only counts toward your team's hours saved."


def submitted_message(
    card: WinCard, *, offer: str | None = None, choice: str | None = None
) -> tuple[str, list[Block]]:
    """The author's confirmation; with `offer`, the AI-polished version and the buttons to pick it."""
    blocks: list[Block] = [
        section(
            "🙌 *Thanks for sharing your win!* A change manager takes a quick look before anything is "
            f"shared. {_share_sentence(card.share)}"
        ),
        _verbatim(quote(card.what)),
    ]
    if offer and choice is None:
        blocks.append(_quoted("✨ *Want a polished version?* Here it is in two sentences:", offer))
        blocks.append(
            actions(
                button("Use the polished version", ids.WIN_USE_POLISHED, value=str(card.id), style="primary"),
                button("Keep mine", ids.WIN_KEEP_MINE, value=str(card.id)),
                block_id=ids.WIN_POLISH_BLOCK,
            )
        )
        blocks.append(context("Either way, nothing is shared before a change manager approves it."))
    elif choice == "polished":
        blocks.append(_quoted("✨ You picked the polished version:", card.polished or offer or ""))
    elif choice == "kept":
        blocks.append(context("You kept your own words."))
    return "Thanks for sharing your win! A change manager will review it.", blocks


def approved_message(card: WinCard, *, channel: str | None) -> tuple[str, list[Block]]:
    if card.share == "private":
        line = (
            "🎉 *Your win is approved* and counts toward your team's hours saved. "
            "As you chose, it isn't posted."
        )
    elif channel:
        anonymous = " without your name" if card.share == "anonymous" else ""
        line = (
            f"🎉 *Your win is approved* and shared in <#{channel}>{anonymous}. "
            "Thank you for showing what works!"
        )
    else:
        anonymous = ", without your name" if card.share == "anonymous" else ""
        line = f"🎉 *Your win is approved.* It appears in the leaders' weekly digest{anonymous}."
    blocks: list[Block] = [section(line), _verbatim(quote(card.text))]
    if card.edited:
        blocks.append(context(f"{_who(card.reviewer_user_id, 'A change manager')} lightly edited it first."))
    return "Your win is approved!", blocks


def rejected_message(card: WinCard, *, command: str) -> tuple[str, list[Block]]:
    who = _who(card.reviewer_user_id, "A change manager")
    blocks: list[Block] = [
        section(f"Your win wasn't shared this time. {who} left you a note:"),
        _verbatim(quote(card.reject_reason or "(no note)", 1200)),
        context(f"Your story, for reference: {_snippet(card.what, 300)}"),
        context(f"You can share it again, changed, with `{command} win`."),
    ]
    return "Your win wasn't shared this time.", blocks


# --- App Home -------------------------------------------------------------------------------------------


def _author_status(card: WinCard) -> str:
    if card.status == "approved":
        return "✅ counted" if card.share == "private" else "✅ shared"
    return _STATUS_FOR_AUTHOR.get(card.status, card.status)


def home_section(mine: MyWins) -> list[Block]:
    """ "Your wins": totals, the latest few with their status, and a button to share one."""
    share = actions(button("Share a win", ids.WIN_OPEN_MODAL, style="primary"), block_id="wins.home")
    if not mine.recent:
        return [
            header("Your wins"),
            section("Saved time with AI? Share it in a few seconds: colleagues copy what works."),
            share,
        ]
    summary = f"*{mine.approved}* approved · *{hours_label(mine.hours)}* saved"
    if mine.pending:
        summary += f" · {mine.pending} waiting for review"
    lines = [
        f"• {_author_status(c)}: {_snippet(c.text, 90)} ({hours_label(c.hours)})"
        for c in mine.recent[:HOME_RECENT]
    ]
    return [header("Your wins"), section(summary), _verbatim("\n".join(lines)), share]


def review_home_section(pending: int, *, command: str) -> list[Block]:
    """For change managers: how many wins wait for review (hidden when none)."""
    if pending <= 0:
        return []
    wins = "win waits" if pending == 1 else "wins wait"
    return [
        header("Wins to review"),
        section(f"*{pending}* {wins} for your review: `{command} wins` lists them."),
    ]


# --- the monthly recognition and digests ----------------------------------------------------------------


def recognition_message(month: str, teams: Sequence[TeamWins], *, command: str) -> tuple[str, list[Block]]:
    """A congratulation to the teams that shared the most wins in `month` (never a ranking of people)."""
    lines = [
        f"• *{inert(t.team, 150)}*: {t.wins} win{'s' if t.wins != 1 else ''}"
        + (f", about {t.hours:g} hours a week saved" if t.hours > 0 else "")
        for t in teams
    ]
    blocks: list[Block] = [
        section(f"🎉 *Congratulations!* These teams shared the most AI wins in {month}:"),
        section("\n".join(lines)),
        context(f"Every win counts: thank you to everyone who shared one. Share yours with `{command} win`."),
    ]
    names = ", ".join(inert(t.team, 150) for t in teams)
    return f"Congratulations to the teams that shared the most AI wins in {month}: {names}", blocks


def digest_lines(snippets: Sequence[WinSnippet], *, limit: int = SECTION_TEXT_MAX) -> str:
    """Escaped mrkdwn lines for a digest: one per win, anonymous ones without a name, within `limit`."""
    lines: list[str] = []
    used = 0
    for snippet in snippets:
        by = f" ({_who(snippet.author_user_id)})" if snippet.author_user_id else ""
        team = f"*{inert(snippet.team, 150)}*: " if snippet.team else ""
        line = f"• {team}{_snippet(snippet.text, 200)} · {hours_label(snippet.hours)}{by}"
        if used + len(line) + 1 > limit:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)
