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
    changes,
    hidden,
    hours,
    percent,
    points_change,
    pulse_note,
    say_do_text,
    score,
    score_change,
    stage_word,
)
from bot.digest.measured import ToolUse
from bot.digest.types import Digest, TeamLine
from bot.i18n import N_, format_number, ngettext
from bot.i18n import gettext as _
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
STAGE_NAMES: Final = {  # shown with `stage_name`, in the reader's language
    "awareness": N_("Awareness"),
    "desire": N_("Desire"),
    "knowledge": N_("Knowledge"),
    "ability": N_("Ability"),
    "reinforcement": N_("Reinforcement"),
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


def _people(n: int) -> str:
    return ngettext("{n} person", "{n} people", n).format(n=format_number(n))


def team_line(line: TeamLine, k: int) -> str:
    """One team in a line: people, engagement and its change, then the survey (or why it is missing).

    The changes compare engagement with the week before and readiness with the previous pulse (the
    section's title says so)."""
    parts = [
        f"*{team_name(line.name)}*",
        _people(line.members),
        _("engaged {rate} ({change})").format(
            rate=percent(line.engaged_rate), change=points_change(line.engaged_change)
        ),
        _("active in 4 weeks {rate} ({change})").format(
            rate=percent(line.active_rate), change=points_change(line.active_change)
        )
        if line.active_rate is not None
        else _("active in 4 weeks {hidden} (under {k} people)").format(hidden=hidden(), k=k),
    ]
    if line.survey == "hidden":
        parts.append(
            _("survey {hidden} (fewer than {k} answers, or to protect a smaller team)").format(
                hidden=hidden(), k=k
            )
        )
    elif line.survey == "none":
        parts.append(_("no closed pulse yet"))
    else:
        readiness = _("readiness {score}").format(score=score(line.readiness))
        if line.readiness_change is not None:
            readiness += f" ({score_change(line.readiness_change)})"
        parts += [readiness, _("said they used AI {rate}").format(rate=percent(line.usage_rate))]
    if line.measured_rate is not None:
        parts.append(_("active in the AI tools {rate} (measured)").format(rate=percent(line.measured_rate)))
    if line.survey == "shown" and line.barrier:
        barrier = stage_word(line.barrier)
        parts.append(
            _("barrier *{stage}* ⚠️ stuck").format(stage=barrier)
            if line.stuck
            else _("barrier *{stage}*").format(stage=barrier)
        )
    return " · ".join(parts)


def stage_name(stage: str) -> str:
    """An ADKAR stage's name in the current language ("Awareness", "Bewusstsein")."""
    name = STAGE_NAMES.get(stage)
    return _(name) if name is not None else stage


def _headline(digest: Digest) -> Block:
    h = digest.headline

    def field(label: str, value: str, changes: str) -> dict[str, Any]:
        return mrkdwn(f"*{label}*\n{value}" + (f"\n{changes}" if changes else ""), 2000)

    engaged = _("{rate} ({n} of {total} people)").format(
        rate=percent(h.engaged_rate.value), n=format_number(h.engaged), total=format_number(h.members)
    )
    active = (
        _("{rate} ({n} of {total} people)").format(
            rate=percent(h.active_rate.value),
            n=format_number(h.active),
            total=format_number(h.active_members),
        )
        if h.active is not None
        else _("{hidden} (fewer than {k} people)").format(hidden=hidden(), k=digest.min_group_size)
    )
    if h.readiness.value is None:
        readiness = hidden() if digest.pulse is not None and h.hidden_teams else "–"
    else:
        readiness = _("{score} out of 5").format(score=score(h.readiness.value))
    if h.usage_rate.value is None:
        usage = hidden() if digest.pulse is not None and h.hidden_teams else "–"
    else:
        usage = _("{rate} of respondents").format(rate=percent(h.usage_rate.value))
    wins = int(h.wins.value or 0)
    measured = []
    if h.measured is not None:
        value = _("{rate} of {n} licensed people, measured").format(
            rate=percent(h.measured_rate.value), n=format_number(h.measured.licensed)
        )
        measured.append(field(_("Active in the AI tools"), value, changes(digest, h.measured_rate, "rate")))
    return {
        "type": "section",
        "fields": [
            field(_("Engaged this week"), engaged, changes(digest, h.engaged_rate, "rate")),
            field(_("Active in the last 4 weeks"), active, changes(digest, h.active_rate, "rate")),
            field(_("Readiness"), readiness, changes(digest, h.readiness, "score", survey=True)),
            field(_("Said they used AI"), usage, changes(digest, h.usage_rate, "rate", survey=True)),
            *measured,
            field(
                _("Wins"),
                _("{n} approved this week").format(n=format_number(wins)),
                changes(digest, h.wins, "count"),
            ),
            field(
                _("Hours saved"),
                _("{hours} a week").format(hours=hours(h.hours_saved.value)),
                changes(digest, h.hours_saved, "hours"),
            ),
        ],
    }


def _audience_line(digest: Digest) -> str:
    if digest.audience.whole:
        who = _("*Whole organisation* · {n} teams").format(n=format_number(digest.teams_total))
    elif digest.teams_total == 1 and digest.teams:
        who = f"*{team_name(digest.teams[0].name)}*"
    else:
        who = _("*Your {n} teams*").format(n=format_number(digest.teams_total))
    return f"{who} · {_people(digest.headline.members)}"


def _teams(digest: Digest) -> list[Block]:
    if not digest.teams:
        return []
    shown = digest.teams[:TEAMS_SHOWN]
    lines = [team_line(t, digest.min_group_size) for t in shown]
    title = _("*Teams*")
    if len(digest.teams) > 1:
        title += " · " + _("stuck first, then the biggest movers")
    if digest.compared.previous_run:
        title += " · " + _(
            "changes: engagement on the week before, readiness on the previous pulse (#{run})"
        ).format(run=digest.compared.previous_run)
    else:
        title += " · " + _("changes: engagement on the week before")
    blocks = _packed(lines, title=title)
    more = len(digest.teams) - len(shown)
    if more > 0:
        blocks.append(
            context(
                ngettext(
                    "…and {n} more team: every team is in the CSV.",
                    "…and {n} more teams: every team is in the CSV.",
                    more,
                ).format(n=format_number(more))
            )
        )
    return blocks


def _barriers(digest: Digest) -> list[Block]:
    if not digest.barriers:
        return []
    blocks: list[Block] = [section(_("*Where teams are stuck, and one thing to try this week*"))]
    for group in digest.barriers:
        names = [team_name(n) for n in group.teams[:NAMES_PER_BARRIER]]
        extra = len(group.teams) - len(names)
        listed = ", ".join(names)
        if extra > 0:
            listed = _("{names} and {n} more").format(names=listed, n=format_number(extra))
        text = f"*{stage_name(group.stage)}* · {listed}"
        if group.action:
            text += f"\n💡 {group.action}"
        blocks.append(section(text))
    return blocks


def tool_line(tool: ToolUse) -> str:
    """ "Microsoft 365 Copilot: 58 of 120 licensed people active this week (48%) · 31 of 120 licences
    unused for 4 weeks" """
    active = ngettext(
        "{n} of {total} licensed person active this week ({rate})",
        "{n} of {total} licensed people active this week ({rate})",
        tool.licensed,
    ).format(n=format_number(tool.active), total=format_number(tool.licensed), rate=percent(tool.rate))
    idle = ngettext(
        "{n} of {total} licence unused for 4 weeks",
        "{n} of {total} licences unused for 4 weeks",
        tool.licensed,
    ).format(n=format_number(tool.idle), total=format_number(tool.licensed))
    return f"*{escape(tool.name)}*: {active} · {idle}"


def _measured(digest: Digest) -> list[Block]:
    """What the AI tools' own reports show: per tool, the say-do gap when large, and what to do."""
    if not digest.tools:
        return []
    lines = [f"• {tool_line(tool)}" for tool in digest.tools]
    if digest.idle_action:
        lines.append(f"💡 {digest.idle_action}")
    if digest.say_do is not None and digest.say_do.large:
        lines.append(_("*Said and done differ*: {text}").format(text=say_do_text(digest.say_do)))
        if digest.say_do.action:
            lines.append(f"💡 {digest.say_do.action}")
    title = _(
        "*What the AI tools measured* (their own usage reports, week {week}; groups of at least {k} licensed "
        "people)"
    ).format(week=digest.week, k=digest.min_group_size)
    return [section(truncate("\n".join([title, *lines]), SECTION_TEXT_MAX))]


def _wins(digest: Digest, command: str) -> list[Block]:
    blocks: list[Block] = []
    if digest.top_wins:
        title = _("*Top wins this week*")
        if digest.wins_from_this_week == 0:
            title = _("*Top wins* (none this week; the best of the last weeks)")
        elif digest.wins_from_this_week < len(digest.top_wins):
            title = _("*Top wins* (this week and the weeks before)")
        listed = digest_lines(digest.top_wins, limit=SECTION_TEXT_MAX - len(title) - 1)
        blocks.append(_verbatim(f"{title}\n{listed}"))
    else:
        blocks.append(
            section(
                _("*Top wins*")
                + "\n"
                + _("No approved wins to show yet. Anyone can share one with `{command} win`.").format(
                    command=command
                )
            )
        )
    if digest.use_cases:
        weeks = len(digest.trend.weeks)
        lines = []
        for c in digest.use_cases:
            count = ngettext("{n} win", "{n} wins", c.wins).format(n=format_number(c.wins))
            if c.hours > 0:
                count += ", " + _("{hours} h a week").format(hours=format_number(c.hours))
            lines.append(f"• *{escape(truncate(one_line(c.tool), 80))}* · {count}: “{escape(c.example)}”")
        title = _("*How people use AI* (tools named in wins, last {weeks} weeks)").format(weeks=weeks)
        blocks += _packed(lines, title=title)
    return blocks


def _comments(digest: Digest, command: str) -> list[Block]:
    if not digest.comments:
        return []
    if digest.pulse:
        title = _(
            "*What people said in pulse #{run}* (a summary per team with at least {k} comments; "
            "single comments "
            "are never shown)"
        ).format(run=digest.pulse.run_id, k=digest.min_group_size)
    else:
        title = _(
            "*What people said* (a summary per team with at least {k} comments; single comments are "
            "never shown)"
        ).format(k=digest.min_group_size)
    shown = digest.comments[:COMMENT_GROUPS_SHOWN]
    lines = [
        f"*{team_name(c.group)}*"
        + ((" " + _("(teams with fewer comments, together)")) if c.team_id is None else "")
        + f"\n{escape(truncate(c.text, COMMENT_SUMMARY_MAX))}"
        for c in shown
    ]
    blocks = _packed(lines, title=title)
    more = len(digest.comments) - len(shown)
    if more > 0:
        blocks.append(
            context(
                ngettext(
                    "…and {n} more team summary: `{command} digest TEAM`.",
                    "…and {n} more team summaries: `{command} digest TEAM`.",
                    more,
                ).format(n=format_number(more), command=command)
            )
        )
    return blocks


def _footer(mode: Mode, command: str) -> str:
    if mode == "preview":
        return _(
            "👀 Preview: only you can see this. The weekly digest arrives by DM with the 8-week trend chart "
            "and a CSV of every team. `{command} digest TEAM` shows one team."
        ).format(command=command)
    if mode == "channel":
        return _("📎 The 8-week trend chart and a CSV of every team follow in this channel.")
    return _(
        "📎 The 8-week trend chart and a CSV of your teams follow below. "
        "`{command} digest` shows the latest digest any time."
    ).format(command=command)


def digest_message(digest: Digest, *, command: str, mode: Mode = "dm") -> tuple[str, list[Block]]:
    """(notification text, blocks) of a digest: within 50 blocks and 3,000 characters a section."""
    h = digest.headline
    wins = int(h.wins.value or 0)
    engaged = percent(h.engaged_rate.value)
    if h.readiness.value is not None:
        text = ngettext(
            "AI adoption digest, week {week}: {engaged} engaged, readiness {readiness}, {n} new win.",
            "AI adoption digest, week {week}: {engaged} engaged, readiness {readiness}, {n} new wins.",
            wins,
        ).format(week=digest.week, engaged=engaged, readiness=score(h.readiness.value), n=wins)
    else:
        text = ngettext(
            "AI adoption digest, week {week}: {engaged} engaged, {n} new win.",
            "AI adoption digest, week {week}: {engaged} engaged, {n} new wins.",
            wins,
        ).format(week=digest.week, engaged=engaged, n=wins)
    narrative = escape(digest.narrative) + (
        " " + _("_(AI summary of the figures below)_") if digest.narrative_by_ai else ""
    )
    blocks: list[Block] = [
        header(_("📊 AI adoption digest · {week}").format(week=digest.week)),
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
    if not digest.trend.weeks:
        return ""
    return _("AI adoption trend, {first} to {last}").format(
        first=digest.trend.weeks[0], last=digest.trend.weeks[-1]
    )


def chart_alt_text(digest: Digest) -> str:
    """What the chart shows, for screen readers (only figures the digest shows)."""
    t = digest.trend
    parts = []
    for label, values, render in (
        (_("engaged"), t.engaged_rate, percent),
        (_("active in 4 weeks"), t.active_rate, percent),
        (_("said they used AI"), t.usage_rate, percent),
        (_("active in the AI tools, measured"), t.measured_rate, percent),
        (_("readiness"), t.readiness, score),
    ):
        shown = [render(v) if v is not None else _("gap") for v in values]
        parts.append(f"{label}: {', '.join(shown)}")
    if t.weeks:
        weeks = _("Trend chart, weeks {first} to {last}.").format(first=t.weeks[0], last=t.weeks[-1])
    else:
        weeks = _("Trend chart, no weeks.")
    return truncate(f"{weeks} " + "; ".join(parts) + ".", 1000)


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
    title = _("Your teams · week {week}") if not digest.audience.whole else _("All teams · week {week}")
    blocks: list[Block] = [header(title.format(week=digest.week))]
    h = digest.headline
    parts = [
        _("{rate} engaged ({change} on the week before)").format(
            rate=percent(h.engaged_rate.value), change=points_change(h.engaged_rate.change)
        ),
        _("{rate} active in 4 weeks").format(rate=percent(h.active_rate.value)),
    ]
    if h.readiness.value is not None:
        parts.append(_("readiness {score}").format(score=score(h.readiness.value)))
    if h.usage_rate.value is not None:
        parts.append(_("{rate} said they used AI").format(rate=percent(h.usage_rate.value)))
    if h.measured_rate.value is not None:
        parts.append(
            _("{rate} active in the AI tools (measured)").format(rate=percent(h.measured_rate.value))
        )
    parts.append(
        _("{n} wins, {hours} a week saved").format(n=int(h.wins.value or 0), hours=hours(h.hours_saved.value))
    )
    summary = " · ".join(parts)
    lines = [team_line(t, digest.min_group_size) for t in digest.teams[:HOME_TEAMS_SHOWN]]
    lines += [f"• {tool_line(tool)}" for tool in digest.tools]
    blocks += _packed(lines, title=summary)
    more = len(digest.teams) - HOME_TEAMS_SHOWN
    note = pulse_note(digest)
    if more > 0:
        note += " " + _("{n} more teams are in the digest's CSV.").format(n=format_number(more))
    blocks.append(context(note))
    if latest is not None:
        when = local_sent or f"{latest.sent_at:%-d %b}"
        text = _("📊 Your latest digest: week {week}, sent {when}.").format(week=latest.week, when=when)
        if latest.slack_channel:
            link = f"https://slack.com/app_redirect?channel={latest.slack_channel}"
            blocks.append(section(text, accessory=button(_("Open it"), ids.DIGEST_OPEN_LATEST, url=link)))
        else:
            blocks.append(section(text))
    else:
        blocks.append(section(_("📊 Your weekly digest arrives by DM; the first one is on its way.")))
    blocks.append(
        actions(button(_("Preview this week's digest"), ids.DIGEST_PREVIEW), block_id=ids.DIGEST_HOME_BLOCK)
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
    library = _("{roles} roles · {nudges} nudges · {actions} leader actions").format(
        roles=format_number(status.roles),
        nudges=format_number(status.nudges),
        actions=format_number(status.actions),
    )
    return [
        header(_("Programme at a glance")),
        {
            "type": "section",
            "fields": [
                mrkdwn("*" + _("Pulse") + f"*\n{status.pulse}", 2000),
                mrkdwn("*" + _("Wins to review") + f"*\n{format_number(status.pending_wins)}", 2000),
                mrkdwn(
                    "*" + _("Scheduled broadcasts") + f"*\n{format_number(status.scheduled_broadcasts)}", 2000
                ),
                mrkdwn("*" + _("Content library") + f"*\n{library}", 2000),
                mrkdwn("*" + _("Survey") + f"*\n{escape(status.surveys)}", 2000),
            ],
        },
        context(
            _(
                "`{command} pulse status` for answers per team · `{command} wins` for the queue · "
                "`{command} digest` for the org-wide digest"
            ).format(command=command)
        ),
    ]
