"""The digest's three-sentence narrative: a template from the figures, or the model's, when AI is on.

The prompt holds only aggregate figures the digest itself shows (`narrative_prompt`): no team names, no
people, nothing hidden by the anonymity rules. The answer goes through `bot.ai.complete` (redacted,
audited, time-limited); when it fails, is too long or not three sentences, the template stays.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from sqlalchemy.orm import Session

from bot import ai
from bot.config import Settings
from bot.digest.format import stage_word
from bot.digest.types import Digest, Figure
from bot.i18n import babel_locale, current_language, format_fixed, format_number, ngettext
from bot.i18n import gettext as _
from bot.pulses import comments

NARRATIVE_PURPOSE = "digest_narrative"
NARRATIVE_MAX_WORDS = 90


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _points(change: float) -> str:
    """ "up 4 points on the week before", "unchanged on the week before"."""
    points = round(change * 100)
    if points == 0:
        return _("unchanged on the week before")
    if points > 0:
        return ngettext("up {n} point on the week before", "up {n} points on the week before", points).format(
            n=points
        )
    return ngettext(
        "down {n} point on the week before", "down {n} points on the week before", -points
    ).format(n=-points)


def _score_change(change: float, run: int | None) -> str:
    """ "up 0.04 on the previous pulse (run #3)"."""
    if round(change, 2) == 0:
        return _("unchanged on the previous pulse (run #{run})").format(run=run)
    if change > 0:
        return _("up {change} on the previous pulse (run #{run})").format(
            change=format_fixed(change, 2), run=run
        )
    return _("down {change} on the previous pulse (run #{run})").format(
        change=format_fixed(-change, 2), run=run
    )


def _engagement(digest: Digest) -> str:
    h = digest.headline
    if h.engaged_rate.value is None:
        return _("No one was on the roster for these teams in week {week}.").format(week=digest.week)
    first = _("In week {week}, {n} of {total} people ({rate}) took part in the AI programme").format(
        week=digest.week,
        n=format_number(h.engaged),
        total=format_number(h.members),
        rate=_pct(h.engaged_rate.value),
    )
    change = h.engaged_rate.change
    first += f", {_points(change)}" if change is not None else ""
    if h.active_rate.value is not None:
        first += "; " + _("{rate} did in the last four weeks").format(rate=_pct(h.active_rate.value))
        if h.active_rate.change is not None:
            first += f" ({_points(h.active_rate.change)})"
    return first + "."


def _survey(digest: Digest) -> str:
    h = digest.headline
    if h.readiness.value is not None and digest.pulse is not None:
        second = _("Readiness stands at {score} out of 5").format(score=format_fixed(h.readiness.value, 2))
        if h.readiness.change is not None:
            second += f", {_score_change(h.readiness.change, digest.compared.previous_run)}"
        if h.usage_rate.value is not None:
            second += ", " + _("and {rate} of those who answered said they used AI at least once").format(
                rate=_pct(h.usage_rate.value)
            )
        if h.measured_rate.value is not None:
            second += "; " + _("the AI tools measured {rate} of licensed people active this week").format(
                rate=_pct(h.measured_rate.value)
            )
        return second + "."
    if digest.pulse is None:
        if h.measured_rate.value is not None:
            return _(
                "The AI tools measured {rate} of licensed people active this week; survey results "
                "appear once "
                "a pulse survey has closed."
            ).format(rate=_pct(h.measured_rate.value))
        return _("There are no survey results yet: they appear once a pulse survey has closed.")
    return _(
        "Survey results are hidden this time, because fewer than {k} people answered in these teams."
    ).format(k=digest.min_group_size)


def _focus(digest: Digest) -> str:
    h = digest.headline
    stuck = [line for line in digest.teams if line.stuck]
    common = max(digest.barriers, key=lambda g: len(g.teams), default=None)
    if h.wins.value:
        wins = int(h.wins.value)
        win_part = ngettext(
            "{n} approved win reported {hours} hours saved a week",
            "{n} approved wins reported {hours} hours saved a week",
            wins,
        ).format(n=format_number(wins), hours=format_number(h.hours_saved.value or 0))
    else:
        win_part = _("no new wins were approved this week")
    if stuck:
        third = ngettext(
            "{n} team is stuck at the same barrier as in the previous pulse, and {wins}.",
            "{n} teams are stuck at the same barrier as in the previous pulse, and {wins}.",
            len(stuck),
        ).format(n=format_number(len(stuck)), wins=win_part)
    elif common is not None:
        teams = ngettext("{n} team", "{n} teams", len(common.teams)).format(
            n=format_number(len(common.teams))
        )
        third = _("The most common barrier is {stage} ({teams}), and {wins}.").format(
            stage=stage_word(common.stage), teams=teams, wins=win_part
        )
    elif h.survey_teams:
        third = _("No team shows an ADKAR barrier, and {wins}.").format(wins=win_part)
    else:
        third = f"{win_part}."
    return third[0].upper() + third[1:]


def template_narrative(digest: Digest) -> str:
    """Three sentences from the headline figures (engagement, the survey, barriers and wins), in the
    current language."""
    return " ".join([_engagement(digest), _survey(digest), _focus(digest)])


NARRATIVE_SYSTEM = (
    "You write the opening of a weekly AI-adoption digest for a team leader. Write exactly three short "
    "sentences in plain {language}: how engagement moved, what the pulse survey says, and where to focus. "
    "Use only the figures given, never invent numbers, never name people or teams. No lists, no markdown."
)


def narrative_prompt(digest: Digest) -> str:
    """The figures the AI may see: aggregates that the digest itself shows (never a hidden figure)."""
    h = digest.headline
    c = digest.compared
    week = (f"change vs the week before, {c.week_before}", f"since week {c.baseline_week}, the first pulse's")
    pulse = (
        f"change vs the previous pulse run #{c.previous_run}",
        f"since the first pulse run #{c.baseline_run}",
    )

    def fig(label: str, figure: Figure, against: tuple[str, str]) -> str:
        if figure.value is None:
            return f"{label}: not available"
        text = f"{label}: {figure.value:g}"
        if figure.change is not None:
            text += f" ({against[0]}: {figure.change:+g})"
        if figure.since_baseline is not None:
            text += f" ({against[1]}: {figure.since_baseline:+g})"
        return text

    stages = ", ".join(f"{g.stage}: {len(g.teams)} teams" for g in digest.barriers) or "none"
    lines = [
        f"Week {digest.week}; {digest.teams_total} teams; {h.members} people.",
        fig("Share engaged this week (0-1)", h.engaged_rate, week),
        fig("Share engaged in the last four weeks (0-1)", h.active_rate, week),
        fig("Readiness (1-5)", h.readiness, pulse),
        fig("Share of respondents who said they used AI (0-1)", h.usage_rate, pulse),
        fig("Share of licensed people the AI tools measured active this week (0-1)", h.measured_rate, week),
        fig("Approved wins this week", h.wins, week),
        fig("Hours saved per week from those wins", h.hours_saved, week),
        f"Teams whose survey figures are hidden for anonymity: {h.hidden_teams}.",
        f"Lowest ADKAR element per team: {stages}.",
        f"Teams stuck at the same barrier as last pulse: {sum(1 for t in digest.teams if t.stuck)}.",
    ]
    return "\n".join(lines)


def narrate(
    session: Session, settings: Settings, digest: Digest, *, names: frozenset[str] = frozenset()
) -> Digest:
    """The digest with an AI narrative when OPENAI_API_KEY is set and the answer is usable; else as is."""
    if not settings.ai_enabled:
        return digest
    prompt = narrative_prompt(digest)
    language = babel_locale().english_name or "English"  # the reader's language (the current one)
    answer = ai.complete(
        session,
        settings,
        purpose=NARRATIVE_PURPOSE,
        system=NARRATIVE_SYSTEM.format(language=language),
        prompt=prompt,
        max_words=NARRATIVE_MAX_WORDS,
        cache_key="digest-narrative:"
        + hashlib.sha256(f"{current_language()}\n{prompt}".encode()).hexdigest()[:32],
        names=names,
    )
    if answer is None or not 1 <= _sentences(answer) <= 3:
        return digest
    return replace(digest, narrative=" ".join(answer.split()), narrative_by_ai=True)


def _sentences(text: str) -> int:
    return sum(1 for part in text.replace("!", ".").replace("?", ".").split(". ") if part.strip())


def polish(session: Session, settings: Settings, digest: Digest) -> Digest:
    """The AI parts (comment themes, narrative) of a digest composed without AI, when AI is on.

    For on-demand previews: composing reads only, and this runs in a short session of its own that may
    write the audit rows (bot.ai), so a slow AI answer never holds a write transaction over the reads.
    """
    if not settings.ai_enabled:
        return digest
    if digest.pulse is not None and digest.comments:
        shown = {c.team_id for c in digest.comments}  # the same parts, now with the model's themes
        found = comments.summaries(session, digest.pulse.run_id, settings, only=shown, use_ai=True)
        digest = replace(digest, comments=found)
    return narrate(session, settings, digest, names=ai.roster_name_parts(session))
