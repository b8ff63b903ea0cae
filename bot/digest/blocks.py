"""Block Kit for the leaders' digest and the leader / change-manager Home sections. Pure builders.

The digest message stays within Slack's limits for any number of teams: at most TEAMS_SHOWN team lines
(stuck teams first, then the largest movers), "and N more" pointing at the attached CSV, every section
under 3,000 characters, and about 25 blocks in all (Slack allows 50). Everything a person typed (team
names, win stories, AI tool names, comment summaries) and whatever the model wrote is escaped and shown in
`verbatim` sections (no auto-linking, no mentions); mentions of named wins' authors are built from Slack
user IDs only (`bot.wins.blocks.digest_lines`). Suggested actions are content-library mrkdwn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from bot.digest.format import (
    HIDDEN,
    WEEK_BEFORE,
    changes,
    hours,
    percent,
    points_change,
    pulse_note,
    say_do_text,
    score,
    score_change,
)
from bot.digest.measured import ToolUse
from bot.digest.types import Digest, TeamLine
from bot.slack import ids
from bot.slack.blocks import (
    MESSAGE_BLOCKS_MAX,
    SECTION_TEXT_MAX,
    Block,
    actions,
    button,
    context,
    divider,
    header,
    mrkdwn,
    section,
)
from bot.slack.text import escape, one_line, truncate
from bot.wins.blocks import digest_lines

TEAMS_SHOWN: Final = 10  # team lines in a digest message; the CSV has every team
HOME_TEAMS_SHOWN: Final = 8
COMMENT_GROUPS_SHOWN: Final = 6  # comment summaries in a digest message (one team's: `digest TEAM`)
COMMENT_SUMMARY_MAX: Final = 1400
NAMES_PER_BARRIER: Final = 6
TEAM_NAME_MAX: Final = 60
STAGE_NAMES: Final = {
    "awareness": "Awareness",
    "desire": "Desire",
    "knowledge": "Knowledge",
    "ability": "Ability",
    "reinforcement": "Reinforcement",
}

Mode = str  # "dm" (a leader's weekly DM), "channel" (org-wide post), "preview" (/adopt digest)


def team_name(name: str) -> str:
    return escape(truncate(one_line(name), TEAM_NAME_MAX))


def _verbatim(text: str) -> Block:
    """A section for escaped typed text: Slack neither links nor mentions anything in it."""
    return {
        "type": "section",
        "text": {"type": "mrkdwn", "text": truncate(text or " ", SECTION_TEXT_MAX), "verbatim": True},
    }


def _packed(lines: Sequence[str], *, title: str | None = None) -> list[Block]:
    """Lines joined into as few verbatim sections as fit in 3,000 characters each."""
    blocks: list[Block] = []
    current = title or ""
    for line in lines:
        piece = truncate(line, SECTION_TEXT_MAX)
        if current and len(current) + 1 + len(piece) > SECTION_TEXT_MAX:
            blocks.append(_verbatim(current))
            current = piece
        else:
            current = f"{current}\n{piece}" if current else piece
    if current:
        blocks.append(_verbatim(current))
    return blocks


def team_line(line: TeamLine, k: int) -> str:
    """One team in a line: people, engagement and its change, then the survey (or why it is missing).

    The changes compare engagement with the week before and readiness with the previous pulse (the
    section's title says so)."""
    parts = [
        f"*{team_name(line.name)}*",
        f"{line.members:,} {'person' if line.members == 1 else 'people'}",
        f"engaged {percent(line.engaged_rate)} ({points_change(line.engaged_change)})",
        f"active in 4 weeks {percent(line.active_rate)} ({points_change(line.active_change)})"
        if line.active_rate is not None
        else f"active in 4 weeks {HIDDEN} (under {k} people)",
    ]
    if line.survey == "hidden":
        parts.append(f"survey {HIDDEN} (fewer than {k} answers, or to protect a smaller team)")
    elif line.survey == "none":
        parts.append("no closed pulse yet")
    else:
        readiness = f"readiness {score(line.readiness)}"
        if line.readiness_change is not None:
            readiness += f" ({score_change(line.readiness_change)})"
        parts += [readiness, f"said they used AI {percent(line.usage_rate)}"]
    if line.measured_rate is not None:
        parts.append(f"active in the AI tools {percent(line.measured_rate)} (measured)")
    if line.survey == "shown" and line.barrier:
        parts.append(f"barrier *{line.barrier}*" + (" ⚠️ stuck" if line.stuck else ""))
    return " · ".join(parts)


def _headline(digest: Digest) -> Block:
    h = digest.headline

    def field(label: str, value: str, changes: str) -> dict[str, Any]:
        return mrkdwn(f"*{label}*\n{value}" + (f"\n{changes}" if changes else ""), 2000)

    engaged = f"{percent(h.engaged_rate.value)} ({h.engaged:,} of {h.members:,} people)"
    active = (
        f"{percent(h.active_rate.value)} ({h.active:,} of {h.active_members:,} people)"
        if h.active is not None
        else f"{HIDDEN} (fewer than {digest.min_group_size} people)"
    )
    if h.readiness.value is None:
        readiness = HIDDEN if digest.pulse is not None and h.hidden_teams else "–"
    else:
        readiness = f"{score(h.readiness.value)} out of 5"
    if h.usage_rate.value is None:
        usage = HIDDEN if digest.pulse is not None and h.hidden_teams else "–"
    else:
        usage = f"{percent(h.usage_rate.value)} of respondents"
    wins = int(h.wins.value or 0)
    measured = []
    if h.measured is not None:
        value = f"{percent(h.measured_rate.value)} of {h.measured.licensed:,} licensed people, measured"
        measured.append(field("Active in the AI tools", value, changes(digest, h.measured_rate, "rate")))
    return {
        "type": "section",
        "fields": [
            field("Engaged this week", engaged, changes(digest, h.engaged_rate, "rate")),
            field("Active in the last 4 weeks", active, changes(digest, h.active_rate, "rate")),
            field("Readiness", readiness, changes(digest, h.readiness, "score", survey=True)),
            field("Said they used AI", usage, changes(digest, h.usage_rate, "rate", survey=True)),
            *measured,
            field("Wins", f"{wins} approved this week", changes(digest, h.wins, "count")),
            field(
                "Hours saved", f"{hours(h.hours_saved.value)} a week", changes(digest, h.hours_saved, "hours")
            ),
        ],
    }


def _audience_line(digest: Digest) -> str:
    if digest.audience.whole:
        who = f"*Whole organisation* · {digest.teams_total:,} teams"
    elif digest.teams_total == 1 and digest.teams:
        who = f"*{team_name(digest.teams[0].name)}*"
    else:
        who = f"*Your {digest.teams_total:,} teams*"
    return f"{who} · {digest.headline.members:,} people"


def _teams(digest: Digest) -> list[Block]:
    if not digest.teams:
        return []
    shown = digest.teams[:TEAMS_SHOWN]
    lines = [team_line(t, digest.min_group_size) for t in shown]
    title = "*Teams*" + (" · stuck first, then the biggest movers" if len(digest.teams) > 1 else "")
    title += f" · changes: engagement {WEEK_BEFORE}" + (
        f", readiness on the previous pulse (#{digest.compared.previous_run})"
        if digest.compared.previous_run
        else ""
    )
    blocks = _packed(lines, title=title)
    more = len(digest.teams) - len(shown)
    if more > 0:
        blocks.append(
            context(f"…and {more:,} more team{'s' if more != 1 else ''}: every team is in the CSV.")
        )
    return blocks


def _barriers(digest: Digest) -> list[Block]:
    if not digest.barriers:
        return []
    blocks: list[Block] = [section("*Where teams are stuck, and one thing to try this week*")]
    for group in digest.barriers:
        names = [team_name(n) for n in group.teams[:NAMES_PER_BARRIER]]
        extra = len(group.teams) - len(names)
        listed = ", ".join(names) + (f" and {extra:,} more" if extra > 0 else "")
        text = f"*{STAGE_NAMES.get(group.stage, group.stage)}* · {listed}"
        if group.action:
            text += f"\n💡 {group.action}"
        blocks.append(section(text))
    return blocks


def tool_line(tool: ToolUse) -> str:
    """ "Microsoft 365 Copilot: 58 of 120 licensed people active this week (48%) · 31 of 120 licences
    unused for 4 weeks" """
    return (
        f"*{escape(tool.name)}*: {tool.active:,} of {tool.licensed:,} licensed "
        f"{'person' if tool.licensed == 1 else 'people'} active this week ({percent(tool.rate)})"
        f" · {tool.idle:,} of {tool.licensed:,} licence{'s' if tool.licensed != 1 else ''} unused for 4 weeks"
    )


def _measured(digest: Digest) -> list[Block]:
    """What the AI tools' own reports show: per tool, the say-do gap when large, and what to do."""
    if not digest.tools:
        return []
    lines = [f"• {tool_line(tool)}" for tool in digest.tools]
    if digest.idle_action:
        lines.append(f"💡 {digest.idle_action}")
    if digest.say_do is not None and digest.say_do.large:
        lines.append(f"*Said and done differ*: {say_do_text(digest.say_do)}")
        if digest.say_do.action:
            lines.append(f"💡 {digest.say_do.action}")
    title = (
        f"*What the AI tools measured* (their own usage reports, week {digest.week}; groups of at least "
        f"{digest.min_group_size} licensed people)"
    )
    return [section(truncate("\n".join([title, *lines]), SECTION_TEXT_MAX))]


def _wins(digest: Digest, command: str) -> list[Block]:
    blocks: list[Block] = []
    if digest.top_wins:
        title = "*Top wins this week*"
        if digest.wins_from_this_week == 0:
            title = "*Top wins* (none this week; the best of the last weeks)"
        elif digest.wins_from_this_week < len(digest.top_wins):
            title = "*Top wins* (this week and the weeks before)"
        listed = digest_lines(digest.top_wins, limit=SECTION_TEXT_MAX - len(title) - 1)
        blocks.append(_verbatim(f"{title}\n{listed}"))
    else:
        blocks.append(
            section(f"*Top wins*\nNo approved wins to show yet. Anyone can share one with `{command} win`.")
        )
    if digest.use_cases:
        weeks = len(digest.trend.weeks)
        lines = [
            f"• *{escape(truncate(one_line(c.tool), 80))}* · {c.wins:,} win{'s' if c.wins != 1 else ''}"
            + (f", {c.hours:g} h a week" if c.hours > 0 else "")
            + f": “{escape(c.example)}”"
            for c in digest.use_cases
        ]
        blocks += _packed(lines, title=f"*How people use AI* (tools named in wins, last {weeks} weeks)")
    return blocks


def _comments(digest: Digest, command: str) -> list[Block]:
    if not digest.comments:
        return []
    run = f" in pulse #{digest.pulse.run_id}" if digest.pulse else ""
    title = (
        f"*What people said{run}* (a summary per team with at least {digest.min_group_size} comments; "
        "single comments are never shown)"
    )
    shown = digest.comments[:COMMENT_GROUPS_SHOWN]
    lines = [
        f"*{team_name(c.group)}*"
        + (" (teams with fewer comments, together)" if c.team_id is None else "")
        + f"\n{escape(truncate(c.text, COMMENT_SUMMARY_MAX))}"
        for c in shown
    ]
    blocks = _packed(lines, title=title)
    more = len(digest.comments) - len(shown)
    if more > 0:
        blocks.append(
            context(f"…and {more:,} more team summar{'ies' if more != 1 else 'y'}: `{command} digest TEAM`.")
        )
    return blocks


def _footer(mode: Mode, command: str) -> str:
    if mode == "preview":
        return (
            "👀 Preview: only you can see this. The weekly digest arrives by DM with the 8-week trend chart "
            f"and a CSV of every team. `{command} digest TEAM` shows one team."
        )
    if mode == "channel":
        return "📎 The 8-week trend chart and a CSV of every team follow in this channel."
    return (
        "📎 The 8-week trend chart and a CSV of your teams follow below. "
        f"`{command} digest` shows the latest digest any time."
    )


def digest_message(digest: Digest, *, command: str, mode: Mode = "dm") -> tuple[str, list[Block]]:
    """(notification text, blocks) of a digest: within 50 blocks and 3,000 characters a section."""
    h = digest.headline
    text = (
        f"AI adoption digest, week {digest.week}: {percent(h.engaged_rate.value)} engaged"
        + (f", readiness {score(h.readiness.value)}" if h.readiness.value is not None else "")
        + f", {int(h.wins.value or 0)} new win{'s' if h.wins.value != 1 else ''}."
    )
    narrative = escape(digest.narrative) + (
        " _(AI summary of the figures below)_" if digest.narrative_by_ai else ""
    )
    blocks: list[Block] = [
        header(f"📊 AI adoption digest · {digest.week}"),
        context(_audience_line(digest)),
        _verbatim(narrative),
        _headline(digest),
        context(pulse_note(digest)),
    ]
    parts = (
        _teams(digest),
        _measured(digest),
        _barriers(digest),
        _wins(digest, command),
        _comments(digest, command),
    )
    for part in parts:
        if part:
            blocks.append(divider())
            blocks.extend(part)
    blocks.append(context(_footer(mode, command)))
    if len(blocks) > MESSAGE_BLOCKS_MAX:
        raise ValueError(f"the digest has {len(blocks)} blocks; Slack allows {MESSAGE_BLOCKS_MAX}")
    return text, blocks


def chart_title(digest: Digest) -> str:
    return (
        f"AI adoption trend, {digest.trend.weeks[0]} to {digest.trend.weeks[-1]}"
        if digest.trend.weeks
        else ""
    )


def chart_alt_text(digest: Digest) -> str:
    """What the chart shows, for screen readers (only figures the digest shows)."""
    t = digest.trend
    parts = []
    for label, values, render in (
        ("engaged", t.engaged_rate, percent),
        ("active in 4 weeks", t.active_rate, percent),
        ("said they used AI", t.usage_rate, percent),
        ("active in the AI tools, measured", t.measured_rate, percent),
        ("readiness", t.readiness, score),
    ):
        shown = [render(v) if v is not None else "gap" for v in values]
        parts.append(f"{label}: {', '.join(shown)}")
    weeks = f"weeks {t.weeks[0]} to {t.weeks[-1]}" if t.weeks else "no weeks"
    return truncate(f"Trend chart, {weeks}. " + "; ".join(parts) + ".", 1000)


# --- App Home sections ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LatestDigest:
    """The last digest DM a leader got: when, and where (for a link that opens it)."""

    week: str
    sent_at: datetime
    slack_channel: str | None


def leader_home_section(
    digest: Digest, latest: LatestDigest | None, *, command: str, local_sent: str | None = None
) -> list[Block]:
    """Your teams' latest figures (suppressed like the digest), and a way to open the latest digest."""
    title = "Your teams" if not digest.audience.whole else "All teams"
    blocks: list[Block] = [header(f"{title} · week {digest.week}")]
    h = digest.headline
    summary = (
        f"{percent(h.engaged_rate.value)} engaged ({points_change(h.engaged_rate.change)} {WEEK_BEFORE})"
        + f" · {percent(h.active_rate.value)} active in 4 weeks"
        + (f" · readiness {score(h.readiness.value)}" if h.readiness.value is not None else "")
        + (f" · {percent(h.usage_rate.value)} said they used AI" if h.usage_rate.value is not None else "")
        + (
            f" · {percent(h.measured_rate.value)} active in the AI tools (measured)"
            if h.measured_rate.value is not None
            else ""
        )
        + f" · {int(h.wins.value or 0)} wins, {hours(h.hours_saved.value)} a week saved"
    )
    lines = [team_line(t, digest.min_group_size) for t in digest.teams[:HOME_TEAMS_SHOWN]]
    lines += [f"• {tool_line(tool)}" for tool in digest.tools]
    blocks += _packed(lines, title=summary)
    more = len(digest.teams) - HOME_TEAMS_SHOWN
    note = pulse_note(digest)
    if more > 0:
        note += f" {more:,} more teams are in the digest's CSV."
    blocks.append(context(note))
    if latest is not None:
        when = local_sent or f"{latest.sent_at:%-d %b}"
        text = f"📊 Your latest digest: week {latest.week}, sent {when}."
        if latest.slack_channel:
            link = f"https://slack.com/app_redirect?channel={latest.slack_channel}"
            blocks.append(section(text, accessory=button("Open it", ids.DIGEST_OPEN_LATEST, url=link)))
        else:
            blocks.append(section(text))
    else:
        blocks.append(section("📊 Your weekly digest arrives by DM; the first one is on its way."))
    blocks.append(
        actions(button("Preview this week's digest", ids.DIGEST_PREVIEW), block_id=ids.DIGEST_HOME_BLOCK)
    )
    return blocks


@dataclass(frozen=True)
class ProgrammeStatus:
    """What a change manager sees at a glance in App Home."""

    pulse: str  # e.g. "#4 open until Tue 25 Nov: 45 of 120 answered"
    pending_wins: int
    scheduled_broadcasts: int
    roles: int
    nudges: int
    surveys: str  # e.g. "AI pulse (12 questions)"
    actions: int


def programme_home_section(status: ProgrammeStatus, *, command: str) -> list[Block]:
    return [
        header("Programme at a glance"),
        {
            "type": "section",
            "fields": [
                mrkdwn(f"*Pulse*\n{status.pulse}", 2000),
                mrkdwn(f"*Wins to review*\n{status.pending_wins:,}", 2000),
                mrkdwn(f"*Scheduled broadcasts*\n{status.scheduled_broadcasts:,}", 2000),
                mrkdwn(
                    f"*Content library*\n{status.roles:,} roles · {status.nudges:,} nudges · "
                    f"{status.actions:,} leader actions",
                    2000,
                ),
                mrkdwn(f"*Survey*\n{escape(status.surveys)}", 2000),
            ],
        },
        context(
            f"`{command} pulse status` for answers per team · `{command} wins` for the queue · "
            f"`{command} digest` for the org-wide digest"
        ),
    ]
