"""How digest figures read, in Slack and in the terminal: percentages, changes, a plain-text table.

Changes carry an arrow shape (▲ ▼), never only a colour, so they read for everyone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.config import DEFAULT_LOCALE
from bot.digest.measured import SayDo
from bot.digest.types import Comparison, Digest, Figure, TeamLine
from bot.i18n import N_, current_language, format_date, format_fixed, format_number, ngettext
from bot.i18n import gettext as _
from bot.people.directory import text_table

NULL = "–"
HIDDEN = N_("hidden")  # shown with `hidden()`, in the reader's language
NO_PULSE = "no pulse"


STAGE_WORDS = {  # the ADKAR stages as a sentence says them ("the most common barrier is knowledge")
    "awareness": N_("awareness"),
    "desire": N_("desire"),
    "knowledge": N_("knowledge"),
    "ability": N_("ability"),
    "reinforcement": N_("reinforcement"),
}


def stage_word(stage: str) -> str:
    """An ADKAR stage in lower case, in the current language."""
    word = STAGE_WORDS.get(stage)
    return _(word) if word is not None else stage


def hidden() -> str:
    """The word for a figure the anonymity rules hide, in the current language."""
    return _(HIDDEN)


def percent(value: float | None) -> str:
    return NULL if value is None else f"{value * 100:.0f}%"


def score(value: float | None) -> str:
    return NULL if value is None else format_fixed(value, 2)


def _arrow(change: float) -> str:
    return "▲" if change > 0 else "▼"


def points_change(change: float | None) -> str:
    """A change of a rate in percentage points: "▲ 5 pts", "▼ 1 pt", "= 0 pts"."""
    if change is None:
        return NULL
    points = round(change * 100)
    if points == 0:
        return _("= 0 pts")
    return f"{_arrow(change)} " + ngettext("{n} pt", "{n} pts", abs(points)).format(n=abs(points))


def score_change(change: float | None) -> str:
    if change is None:
        return NULL
    if round(change, 2) == 0:
        return "= " + format_fixed(0, 2)
    return f"{_arrow(change)} {format_fixed(abs(change), 2)}"


def count_change(change: float | None, unit: str = "") -> str:
    if change is None:
        return NULL
    if round(change, 1) == 0:
        return f"= 0{unit}"
    return f"{_arrow(change)} {format_number(abs(change))}{unit}"


def hours(value: float | None) -> str:
    return NULL if value is None else _("{hours} h").format(hours=format_number(value))


def hours_change(change: float | None) -> str:
    return count_change(change, " h")


_CHANGES = {"rate": points_change, "score": score_change, "count": count_change, "hours": hours_change}


def figure_changes(figure: Figure, kind: str, *, against: str, since: str) -> str:
    """ "▲ 5 pts on the week before · ▲ 12 pts since week 2026-W40 (first pulse)" (parts without a value
    are left out).

    `kind`: "rate" (percentage points), "score" (1-5), "count" or "hours".
    """
    render = _CHANGES[kind]
    parts = [(render(figure.change), against), (render(figure.since_baseline), since)]
    return " · ".join(f"{value} {label}" for value, label in parts if value != NULL)


WEEK_BEFORE = N_("on the week before")  # shown with `_()`


def activity_labels(compared: Comparison) -> tuple[str, str]:
    """What an activity figure's changes compare: week W with the week before, and with the week the
    first pulse opened in."""
    return _(WEEK_BEFORE), _("since week {week} (first pulse)").format(week=compared.baseline_week)


def survey_labels(compared: Comparison) -> tuple[str, str]:
    """What a survey figure's changes compare: the closed pulse run with the previous one, and with the
    first."""
    return (
        _("on the previous pulse (#{run})").format(run=compared.previous_run),
        _("since the first pulse (#{run})").format(run=compared.baseline_run),
    )


def changes(digest: Digest, figure: Figure, kind: str, *, survey: bool = False) -> str:
    """A headline figure's changes, each saying what it compares (`activity_labels`, `survey_labels`)."""
    against, since = (survey_labels if survey else activity_labels)(digest.compared)
    return figure_changes(figure, kind, against=against, since=since)


def say_do_text(said: SayDo) -> str:
    """ "80% of respondents said they used AI, while the tools measured 48% of licensed people active: 32
    points more said than measured." """
    points = abs(round(said.gap * 100))
    if said.gap > 0:
        text = ngettext(
            "{said} of respondents said they used AI, while the tools measured {measured} of licensed people "
            "active: {n} point more said than measured.",
            "{said} of respondents said they used AI, while the tools measured {measured} of licensed people "
            "active: {n} points more said than measured.",
            points,
        )
    else:
        text = ngettext(
            "{said} of respondents said they used AI, while the tools measured {measured} of licensed people "
            "active: {n} point less said than measured.",
            "{said} of respondents said they used AI, while the tools measured {measured} of licensed people "
            "active: {n} points less said than measured.",
            points,
        )
    return text.format(said=percent(said.said), measured=percent(said.measured), n=points)


def survey_cell(line: TeamLine, value: str) -> str:
    if line.survey == "hidden":
        return HIDDEN
    if line.survey == "none":
        return NO_PULSE
    return value


# --- the terminal ------------------------------------------------------------------------------------


def _survey_value(digest: Digest, shown: str) -> str:
    """A headline survey figure, or `hidden` when the anonymity rules hide it (not a missing value)."""
    if shown == NULL and digest.pulse is not None and digest.headline.hidden_teams:
        return HIDDEN
    return shown


def headline_rows(digest: Digest) -> list[tuple[str, str, str]]:
    """The headline figures: (label, value, what changed and against what), as every surface shows them."""
    h = digest.headline
    rows = [
        ("Engaged", percent(h.engaged_rate.value), changes(digest, h.engaged_rate, "rate")),
        ("Active (4 weeks)", percent(h.active_rate.value), changes(digest, h.active_rate, "rate")),
        (
            "Readiness",
            _survey_value(digest, score(h.readiness.value)),
            changes(digest, h.readiness, "score", survey=True),
        ),
        (
            "Said they used AI",
            _survey_value(digest, percent(h.usage_rate.value)),
            changes(digest, h.usage_rate, "rate", survey=True),
        ),
        (
            "Active in AI tools",
            percent(h.measured_rate.value),
            changes(digest, h.measured_rate, "rate")
            + (f" (measured, of {h.measured.licensed:,} licensed)" if h.measured else ""),
        ),
        ("Wins", f"{h.wins.value or 0:g}", changes(digest, h.wins, "count")),
        ("Hours saved", hours(h.hours_saved.value), changes(digest, h.hours_saved, "hours")),
    ]
    return rows


def headline_lines(digest: Digest) -> list[str]:
    rows = headline_rows(digest)
    width = max(len(label) for label, _, _ in rows)
    return [f"  {label.ljust(width)}  {value:>6}  {changes}".rstrip() for label, value, changes in rows]


def team_table(lines: Sequence[TeamLine], compared: Comparison) -> str:
    """Every team; the changes compare engagement with the week before, readiness with the previous pulse."""
    rows = [
        [
            line.name,
            line.members,
            percent(line.engaged_rate),
            points_change(line.engaged_change),
            percent(line.active_rate),
            points_change(line.active_change),
            survey_cell(line, score(line.readiness)),
            survey_cell(line, score_change(line.readiness_change)),
            survey_cell(line, percent(line.usage_rate)),
            percent(line.measured_rate),
            survey_cell(line, (line.barrier or NULL) + (" (stuck)" if line.stuck else "")),
            line.wins,
            f"{line.hours_saved:g}",
        ]
        for line in lines
    ]
    week_before = f"vs {compared.week_before}"
    pulse_before = f"vs pulse #{compared.previous_run}" if compared.previous_run else "vs last pulse"
    headers = [
        "team",
        "members",
        "engaged",
        week_before,
        "active 4 wks",
        week_before,
        "readiness",
        pulse_before,
    ]
    return text_table([*headers, "said used AI", "in AI tools", "barrier", "wins", "hours/wk"], rows)


def to_text(digest: Digest) -> str:
    """The digest for a terminal: who it is for, the headline, every team, barriers, wins, narrative."""
    teams = (
        "all teams"
        if digest.audience.whole
        else f"{digest.teams_total} team" + ("s" if digest.teams_total != 1 else "")
    )
    title = f"{digest.audience.name} ({teams}), week {digest.week}"
    parts = [title, "-" * len(title), digest.narrative, "", *headline_lines(digest), ""]
    parts.append(pulse_note(digest))
    parts += ["", team_table(digest.teams, digest.compared)]
    for group in digest.barriers:
        action = f": {group.action}" if group.action else ""
        parts.append(f"\nBarrier {group.stage} ({', '.join(group.teams)}){action}")
    if digest.tools:
        parts.append(f"\nWhat the AI tools measured (their own usage reports, week {digest.week}):")
        parts += [
            f"  • {t.name}: {t.active:,} of {t.licensed:,} licensed people active ({percent(t.rate)}); "
            f"{t.idle:,} of {t.licensed:,} licences unused for 4 weeks"
            for t in digest.tools
        ]
        if digest.idle_action:
            parts.append(f"  Idle licences: {digest.idle_action}")
        said = digest.say_do
        if said is not None and said.large:
            parts.append(f"  Said and done differ: {say_do_text(said)}")
            if said.action:
                parts.append(f"  What to try: {said.action}")
    if digest.top_wins:
        parts.append("\nTop wins:")
        parts += [f"  • {w.text} ({w.team or 'no team'}, {w.hours:g} h a week)" for w in digest.top_wins]
    if digest.use_cases:
        tools = ", ".join(f"{c.tool} ({c.wins})" for c in digest.use_cases)
        parts.append(f"\nAI tools in wins, last {len(digest.trend.weeks)} weeks: {tools}")
    if digest.comments:
        parts.append("\nComments (a summary per team with enough comments; single comments are never shown):")
        parts += [f"  • {c.group}: {c.text}" for c in digest.comments]
    return "\n".join(parts) + "\n"


def _closed_day(day: date) -> str:
    """ "1 Dec 2026" in English (as the digest always said it), the language's medium date otherwise."""
    return f"{day:%-d %b %Y}" if current_language() == DEFAULT_LOCALE else format_date(day, "medium")


def pulse_note(digest: Digest) -> str:
    """Which pulse the survey figures describe, the baseline, and what is hidden."""
    k = digest.min_group_size
    if digest.pulse is None:
        note = _("Survey: no pulse has closed yet.")
    else:
        p = digest.pulse
        note = _("Survey: pulse #{run}, closed {day}, {answered} of {invited} answered.").format(
            run=p.run_id,
            day=_closed_day(p.closed_on),
            answered=format_number(p.respondents),
            invited=format_number(p.invited),
        )
        if digest.baseline_run is not None and digest.baseline_run != p.run_id:
            note += " " + _("Baseline: pulse #{run} (week {week}).").format(
                run=digest.baseline_run, week=digest.baseline_week
            )
        if p.open_run is not None:
            note += " " + _("Pulse #{run} is still open; its results appear once it closes.").format(
                run=p.open_run
            )
    hidden_teams = digest.headline.hidden_teams
    if hidden_teams:
        note += " " + ngettext(
            "{n} team is hidden: fewer than {k} answers, or hidden so that no small group can be worked out "
            "from the others.",
            "{n} teams are hidden: fewer than {k} answers, or hidden so that no small group can be "
            "worked out "
            "from the others.",
            hidden_teams,
        ).format(n=hidden_teams, k=k)
    return note
