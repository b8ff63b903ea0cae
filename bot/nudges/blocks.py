"""Block Kit for nudges: the DM itself, its state after a click, the "done them all" note, progress.

Pure functions: data in, dict out. The nudge's title, body and try-it prompt come from the content
library (change managers write them in mrkdwn, checked by `adoptbot content check`); text from the AI
arrives already escaped. Layout of a nudge: header, body, "Try it" quote, context (minutes, link,
level), the four choice buttons, and the helpful / not helpful rating.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from bot.i18n import format_day, ngettext
from bot.i18n import gettext as _
from bot.models import NudgeStatus
from bot.outbox.store import FilledBlocks
from bot.slack import ids
from bot.slack.blocks import (
    Block,
    actions,
    button,
    context,
    divider,
    header,
    section,
)
from bot.slack.text import escape


def level_name(level: int) -> str:
    """ "Starter", "Practitioner" or "Advanced" (above 3: "Advanced"), in the current language."""
    names = {1: _("Starter"), 2: _("Practitioner"), 3: _("Advanced")}
    return names.get(level, names[3])


def outcome_text(status: NudgeStatus) -> str | None:
    """The confirmation that replaces the choice buttons once the person chose, or None (not chosen)."""
    if status == NudgeStatus.TRIED:
        return _("✅ *You tried this — nice!* Each one you try makes the next one easier.")
    if status == NudgeStatus.NOT_FOR_ME:
        return _("👋 *Noted — not for you.* Your next nudge will be a different one.")
    if status == NudgeStatus.LATER:
        return _("⏰ *Okay, later.* This one comes back as your next nudge.")
    return None


def rating_text(rating: str | None) -> str | None:
    """The thank-you that replaces the rating buttons once the person rated, or None (not rated)."""
    if rating == "helpful":
        return _("👍 You found this helpful — thanks for telling us.")
    if rating == "not_helpful":
        return _("👎 Not helpful — thanks, this feedback shapes the library.")
    return None


@dataclass(frozen=True)
class NudgeCard:
    """What one nudge message shows."""

    delivery_id: int
    slot: str  # local slot date, carried in button values so a click names the exact message
    title: str
    body: str
    try_it: str | None  # mrkdwn
    minutes: int | None
    link: str | None
    level: int
    personalised: bool = False  # the try-it prompt was adapted by AI to the person's role and team
    refresher: bool = False  # given again, after the whole library, because they tried it


def button_value(delivery_id: int, slot: str) -> str:
    return f"{delivery_id}:{slot}"


def parse_button_value(value: str) -> tuple[int, str] | None:
    """(delivery id, slot) from a button value, or None when it is not one of ours."""
    head, _, slot = value.partition(":")
    try:
        date.fromisoformat(slot)
    except ValueError:
        return None
    return (int(head), slot) if head.isdigit() else None


def _quote(text: str) -> str:
    return "\n".join(f">{line}" if line else ">" for line in text.strip().splitlines())


def _choice_buttons(value: str) -> Block:
    return actions(
        button(_("Tried it"), ids.NUDGE_TRIED, value=value, style="primary"),
        button(_("Not for me"), ids.NUDGE_NOT_FOR_ME, value=value),
        button(_("Remind me later"), ids.NUDGE_LATER, value=value),
        button(_("Share a win"), ids.NUDGE_SHARE_WIN, value=value),
        block_id=ids.NUDGE_ACTIONS_BLOCK,
    )


def _rating_buttons(value: str) -> Block:
    return actions(
        button(_("👍 Helpful"), ids.NUDGE_HELPFUL, value=value),
        button(_("👎 Not helpful"), ids.NUDGE_NOT_HELPFUL, value=value),
        block_id=ids.NUDGE_RATING_BLOCK,
    )


def refresher_mark() -> str:
    """The prefix of a refresher's title, in the current language."""
    return _("Refresher: ")


def try_it_label(personalised: bool = False) -> str:
    """The heading of the try-it quote (AI-adapted or not), in the current language."""
    return _("*Try it* (adapted for your role)") if personalised else _("*Try it*")


def nudge_content(card: NudgeCard) -> list[Block]:
    """The nudge itself (title, body, try-it, facts): the same for everyone given this nudge and text."""
    title = f"{refresher_mark()}{card.title}" if card.refresher else card.title
    blocks: list[Block] = [header(title), section(card.body)]
    if card.try_it:
        blocks.append(section(f"{try_it_label(card.personalised)}\n{_quote(card.try_it)}"))
    facts: list[str] = []
    if card.minutes:
        minutes = ngettext("⏱ About {minutes} minute", "⏱ About {minutes} minutes", card.minutes)
        facts.append(minutes.format(minutes=card.minutes))
    if card.link:
        learn_more = _("Learn more")
        facts.append(f"<{card.link}|{learn_more}>")
    facts.append(_("Level {level} · {name}").format(level=card.level, name=level_name(card.level)))
    if card.refresher:
        facts.append(_("🔁 You tried this one before: a second go makes it a habit"))
    blocks.append(context(" · ".join(facts)))
    return blocks


def nudge_text(card: NudgeCard) -> str:
    """The notification / screen-reader fallback."""
    title = f"{refresher_mark()}{card.title}" if card.refresher else card.title
    return _("Your AI nudge: {title}").format(title=title)


def nudge_blocks(
    card: NudgeCard,
    *,
    status: NudgeStatus = NudgeStatus.SENT,
    rating: str | None = None,
    content: list[Block] | None = None,
) -> list[Block]:
    """The nudge message, as first sent (`status` "sent") or after the person chose something.

    `content`: `nudge_content(card)` built once for many messages (a tick sends thousands of the same).
    """
    content = content if content is not None else nudge_content(card)
    return _message_blocks(content, button_value(card.delivery_id, card.slot), status, rating)


def _message_blocks(content: list[Block], value: str, status: NudgeStatus, rating: str | None) -> list[Block]:
    blocks = list(content)
    blocks.append(divider())
    outcome = outcome_text(status)
    if outcome is not None:
        blocks.append(section(outcome, block_id=ids.NUDGE_OUTCOME_BLOCK))
        if status == NudgeStatus.TRIED:
            blocks.append(
                actions(
                    button(_("Share a win"), ids.NUDGE_SHARE_WIN, value=value),
                    block_id=ids.NUDGE_ACTIONS_BLOCK,
                )
            )
    else:
        blocks.append(_choice_buttons(value))
    thanks = rating_text(rating)
    if thanks is not None:
        blocks.append(context(thanks))
    else:
        blocks.append(context(_("Was this nudge useful?")))
        blocks.append(_rating_buttons(value))
    return blocks


_VALUE_MARK = "adoptbot:nudge-button-value"


class NudgeTemplate:
    """A nudge as first sent, built and serialized once; `render` gives one message's blocks.

    A tick sends the same nudge to thousands of people and only the buttons' value (delivery and slot)
    differs, so the blocks are a template with a mark where that value goes (see `FilledBlocks`):
    `render(id, slot).blocks() == nudge_blocks(card with that id and slot)`.
    """

    def __init__(self, content: list[Block]) -> None:
        self._json = json.dumps(_message_blocks(content, _VALUE_MARK, NudgeStatus.SENT, None))

    def render(self, delivery_id: int, slot: str) -> FilledBlocks:
        return FilledBlocks(self._json, {_VALUE_MARK: button_value(delivery_id, slot)})


@dataclass(frozen=True)
class Completion:
    """What someone who has had every nudge they may get completed, and their refresher cycle."""

    nudges: int  # distinct nudges they were given (the first time)
    tried: int  # of those, the ones they pressed *Tried it* on
    refreshed: int  # refreshers given so far
    refreshers_left: int  # refreshers still to come
    noted: bool = False  # the end-of-library message has been queued


def nudge_count(n: int) -> str:
    """ "1 nudge", "5 nudges" (in the current language)."""
    return ngettext("{n} nudge", "{n} nudges", n).format(n=n)


def exhausted_text(done: Completion) -> str:
    return ngettext(
        "You've completed the library: {n} nudge, {tried} tried. Here is how to go on.",
        "You've completed the library: {n} nudges, {tried} tried. Here is how to go on.",
        done.nudges,
    ).format(n=done.nudges, tried=done.tried)


def _refreshers_line(done: Completion) -> str:
    if done.refreshers_left:
        return ngettext(
            "*Refreshers*: at your usual pace you'll get the {n} nudge you tried once more, the advanced "
            "ones first, each marked _Refresher_. After that we stay quiet until new nudges are added "
            "(they always come before refreshers).",
            "*Refreshers*: at your usual pace you'll get the {n} nudges you tried once more, the advanced "
            "ones first, each marked _Refresher_. After that we stay quiet until new nudges are added "
            "(they always come before refreshers).",
            done.refreshers_left,
        ).format(n=done.refreshers_left)
    if not done.tried:
        return _(
            "*No refreshers*: you didn't mark any nudge as tried, so there is nothing to refresh; we'll "
            "stay quiet until new nudges are added. You can still share a win any time."
        )
    return _(
        "*No refreshers*: the nudges you tried are no longer in the library for you, so there is nothing "
        "to refresh; we'll stay quiet until new nudges are added. You can still share a win any time."
    )


def exhausted_blocks(role_name: str, done: Completion, wins: int, *, command: str = "/adopt") -> list[Block]:
    """The one message someone gets when the library has nothing new for them: what they completed, how
    to go on, and whether refreshers follow."""
    had = ngettext(
        "You've had every nudge we have for *{role}*: {n} nudge.",
        "You've had every nudge we have for *{role}*: {n} nudges.",
        done.nudges,
    ).format(role=escape(role_name), n=done.nudges)
    if wins:
        tried = ngettext(
            "You tried {tried} of them and shared {n} win. Thank you for giving them a go!",
            "You tried {tried} of them and shared {n} wins. Thank you for giving them a go!",
            wins,
        ).format(tried=done.tried, n=wins)
    else:
        tried = _("You tried {tried} of them and shared no win yet. Thank you for giving them a go!").format(
            tried=done.tried
        )
    how = [
        _("*Share a win*: `{command} win`, one sentence is enough, and it helps colleagues most.").format(
            command=command
        ),
        _(
            "*Suggest a topic*: tell your change manager what you'd like a nudge about; new nudges come "
            "to you first."
        ),
        _refreshers_line(done),
    ]
    return [
        header(_("🎉 You've completed the library")),
        section(f"{had} {tried}"),
        section(_("*How to go on*") + "\n" + "\n".join(f"• {line}" for line in how)),
        actions(
            button(_("Share a win"), ids.NUDGE_SHARE_WIN, value="exhausted", style="primary"),
            block_id=ids.NUDGE_ACTIONS_BLOCK,
        ),
    ]


@dataclass(frozen=True)
class ProgressView:
    """A person's own nudge progress (for `/adopt me` and App Home)."""

    level: int
    received: int
    tried: int
    streak_weeks: int
    resumes_on: date | None  # paused: the day nudges come back
    away: bool
    next_nudge: (
        str | None
    )  # "Thursday 26 November, 10:00" (a nudge or refresher), or None when none is coming
    done: bool = False  # they have had every nudge they may get
    completed: Completion | None = None  # what they completed, when done


def long_date(day: date) -> str:
    """ "Tuesday 8 December" in the current language (no platform-specific strftime flags)."""
    return format_day(day)


def _progress_lines(view: ProgressView) -> str:
    level = _("Level {level} · {name}").format(level=view.level, name=level_name(view.level))
    streak = (
        _("🔥 {weeks}-week streak of trying something new").format(weeks=view.streak_weeks)
        if view.streak_weeks
        else _("No streak yet: try this week's nudge to start one")
    )
    lines = [
        f"*{level}*",
        _("Nudges received: *{received}* · tried: *{tried}*").format(
            received=view.received, tried=view.tried
        ),
        streak,
    ]
    if view.resumes_on is not None:
        lines.append(_("⏸ Nudges are paused; they resume on {day}.").format(day=long_date(view.resumes_on)))
    elif view.away:
        lines.append(_("🌴 Your Slack status says you're away, so nudges wait until you're back."))
    elif view.completed is not None:
        lines.append(_completed_line(view.completed, view.next_nudge))
    elif view.done:
        lines.append(_("You've had every nudge we have for you for now: new ones come as the library grows."))
    elif view.next_nudge:
        lines.append(_("Next nudge: {when}").format(when=view.next_nudge))
    return "\n".join(lines)


def _completed_line(done: Completion, next_refresher: str | None) -> str:
    n = done.nudges
    if done.refreshers_left and next_refresher:
        return ngettext(
            "🎉 You've completed the library ({n} nudge). Refreshers of the nudges you tried come at your "
            "usual pace: {left} to go, the next on {when}.",
            "🎉 You've completed the library ({n} nudges). Refreshers of the nudges you tried come at your "
            "usual pace: {left} to go, the next on {when}.",
            n,
        ).format(n=n, left=done.refreshers_left, when=next_refresher)
    if done.refreshed:
        return ngettext(
            "🎉 You've completed the library ({n} nudge) and its refreshers: new nudges come as the "
            "library grows.",
            "🎉 You've completed the library ({n} nudges) and its refreshers: new nudges come as the "
            "library grows.",
            n,
        ).format(n=n)
    if not done.tried:
        return ngettext(
            "🎉 You've completed the library ({n} nudge). You marked none as tried, so no refreshers: "
            "new nudges come as the library grows.",
            "🎉 You've completed the library ({n} nudges). You marked none as tried, so no refreshers: "
            "new nudges come as the library grows.",
            n,
        ).format(n=n)
    return ngettext(
        "🎉 You've completed the library ({n} nudge): new nudges come as the library grows.",
        "🎉 You've completed the library ({n} nudges): new nudges come as the library grows.",
        n,
    ).format(n=n)


def progress_blocks(view: ProgressView, *, command: str = "/adopt") -> list[Block]:
    """`/adopt me`: the person's progress, ephemeral."""
    return [
        section(_("*Your AI nudges*") + "\n" + _progress_lines(view)),
        context(
            _("`{command} pause 2` takes a two-week break · `{command} resume` ends it").format(
                command=command
            )
        ),
    ]


def progress_text(view: ProgressView) -> str:
    return _("Level {level}: {tried} of {received} nudges tried, {weeks}-week streak.").format(
        level=view.level, tried=view.tried, received=view.received, weeks=view.streak_weeks
    )


@dataclass(frozen=True)
class TargetingView:
    """What chooses a person's own nudges, for their App Home only (tool names, never anyone else's)."""

    role: str  # the role's name
    usage_targeting: bool  # ADOPTBOT_USAGE_TARGETING
    idle: tuple[str, ...] = ()  # tools they hold a licence for, with no measured use in the window
    active: tuple[str, ...] = ()  # tools with measured use in the window
    first_steps_left: bool = False  # a starter nudge about an idle tool is still to come
    above_starter_left: bool = False  # a nudge above the starter level is still to come
    roster_tools: tuple[str, ...] = ()  # the roster's tools for them, used where no usage facts measure them


def _listed(names: tuple[str, ...]) -> str:
    """ "A", "A and B", "A, B and C" (escaped; in the current language)."""
    escaped = [escape(name) for name in names]
    if len(escaped) == 1:
        return escaped[0]
    return _("{first} and {last}").format(first=", ".join(escaped[:-1]), last=escaped[-1])


def _idle_clause(view: TargetingView, weeks: int, *, one: bool) -> str:
    """Why the idle tools' first steps come (or came): a clause of the usage sentence."""
    if one:
        if view.first_steps_left:
            return _(
                "you have a licence and haven't used it in the last {weeks} weeks, so you get first steps"
            ).format(weeks=weeks)
        return _(
            "you have a licence and haven't used it in the last {weeks} weeks, and you've had the first "
            "steps for it"
        ).format(weeks=weeks)
    n, tools = len(view.idle), _listed(view.idle)
    if view.first_steps_left:
        return ngettext(
            "you have a licence for {tools} and haven't used it in the last {weeks} weeks, so you get "
            "first steps for it",
            "you have a licence for {tools} and haven't used them in the last {weeks} weeks, so you get "
            "first steps for them",
            n,
        ).format(tools=tools, weeks=weeks)
    return ngettext(
        "you have a licence for {tools} and haven't used it in the last {weeks} weeks, and you've had the "
        "first steps for it",
        "you have a licence for {tools} and haven't used them in the last {weeks} weeks, and you've had "
        "the first steps for them",
        n,
    ).format(tools=tools, weeks=weeks)


def _active_clause(view: TargetingView, weeks: int, *, one: bool) -> str:
    """Why the starter level is skipped (or was): a clause of the usage sentence."""
    if one:
        if view.above_starter_left:
            return _(
                "it shows you using it in the last {weeks} weeks, so your nudges skip the starter level"
            ).format(weeks=weeks)
        return _(
            "it shows you using it in the last {weeks} weeks, and you've had every nudge above the "
            "starter level"
        ).format(weeks=weeks)
    if view.above_starter_left:
        return _(
            "they show you using {tools} in the last {weeks} weeks, so your nudges skip the starter level"
        ).format(tools=_listed(view.active), weeks=weeks)
    return _(
        "they show you using {tools} in the last {weeks} weeks, and you've had every nudge above the "
        "starter level"
    ).format(tools=_listed(view.active), weeks=weeks)


def targeting_text(view: TargetingView, weeks: int) -> str:
    """One plain paragraph: the signals that choose the person's nudges (`weeks`: the usage window)."""
    text = _(
        "Your nudges are chosen by your role ({role}), your level and your team's anonymous pulse results."
    ).format(role=escape(view.role))
    n_roster = len(view.roster_tools)
    roster = _listed(view.roster_tools) if view.roster_tools else ""
    if not view.usage_targeting:
        if roster:
            return (
                text
                + " "
                + ngettext(
                    "Your organisation's AI usage reports are not used; the roster lists {tools} for you, so "
                    "you also get nudges about it.",
                    "Your organisation's AI usage reports are not used; the roster lists {tools} for you, so "
                    "you also get nudges about them.",
                    n_roster,
                ).format(tools=roster)
            )
        return text + " " + _("Your organisation's AI usage reports are not used.")
    tools = tuple(sorted(set(view.idle) | set(view.active)))
    if not tools:
        if roster:
            then = ngettext(
                "Adoptbot also uses your organisation's AI usage reports: they show no licence for you in "
                "the last {weeks} weeks, so your tool nudges follow the roster, which lists {tools} for you "
                "(how much you use it is not measured).",
                "Adoptbot also uses your organisation's AI usage reports: they show no licence for you in "
                "the last {weeks} weeks, so your tool nudges follow the roster, which lists {tools} for you "
                "(how much you use them is not measured).",
                n_roster,
            ).format(weeks=weeks, tools=roster)
        else:
            then = _(
                "Adoptbot also uses your organisation's AI usage reports: they show no licence for you in "
                "the last {weeks} weeks, so you get nudges that suit any AI tool."
            ).format(weeks=weeks)
        return f"{text} {then}"
    one = len(tools) == 1
    parts: list[str] = []
    if view.idle:
        parts.append(_idle_clause(view, weeks, one=one))
    if view.active:
        parts.append(_active_clause(view, weeks, one=one))
    reports = ngettext(
        "Adoptbot also uses your organisation's {tools} usage report: {why}.",
        "Adoptbot also uses your organisation's {tools} usage reports: {why}.",
        len(tools),
    ).format(tools=_listed(tools), why="; ".join(parts))
    return f"{text} {reports}"


def home_blocks(view: ProgressView, targeting: TargetingView | None = None, *, weeks: int = 4) -> list[Block]:
    """The App Home section: progress, what chooses the nudges, and a pause / resume button."""
    control = (
        button(_("Resume nudges"), ids.NUDGE_RESUME, value="resume", style="primary")
        if view.resumes_on is not None
        else button(_("Pause for 2 weeks"), ids.NUDGE_PAUSE, value="2")
    )
    shown = [header(_("Your AI nudges")), section(_progress_lines(view))]
    if targeting is not None:
        shown.append(context(targeting_text(targeting, weeks) + " " + _("Only you see this.")))
    return [*shown, actions(control, block_id=ids.NUDGE_HOME_BLOCK)]
