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
from bot.digest.types import Digest, Figure
from bot.pulses import comments

NARRATIVE_PURPOSE = "digest_narrative"
NARRATIVE_MAX_WORDS = 90


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _points(change: float, on: str) -> str:
    """ "up 4 points on the week before", "unchanged on the week before"."""
    points = round(change * 100)
    if points == 0:
        return f"unchanged {on}"
    return f"{'up' if points > 0 else 'down'} {abs(points)} point{'s' if abs(points) != 1 else ''} {on}"


def _score_change(change: float, on: str) -> str:
    """ "up 0.04 on the previous pulse (run #3)"."""
    if round(change, 2) == 0:
        return f"unchanged {on}"
    return f"{'up' if change > 0 else 'down'} {abs(change):.2f} {on}"


def template_narrative(digest: Digest) -> str:
    """Three sentences from the headline figures: engagement, the survey, barriers and wins."""
    h = digest.headline
    if h.engaged_rate.value is None:
        first = f"No one was on the roster for these teams in week {digest.week}."
    else:
        first = (
            f"In week {digest.week}, {h.engaged:,} of {h.members:,} people ({_pct(h.engaged_rate.value)}) "
            "took part in the AI programme"
        )
        change = h.engaged_rate.change
        first += f", {_points(change, 'on the week before')}" if change is not None else ""
        if h.active_rate.value is not None:
            first += f"; {_pct(h.active_rate.value)} did in the last four weeks"
            if h.active_rate.change is not None:
                first += f" ({_points(h.active_rate.change, 'on the week before')})"
        first += "."
    previous = f"on the previous pulse (run #{digest.compared.previous_run})"
    if h.readiness.value is not None and digest.pulse is not None:
        second = f"Readiness stands at {h.readiness.value:.2f} out of 5"
        if h.readiness.change is not None:
            second += f", {_score_change(h.readiness.change, previous)}"
        if h.usage_rate.value is not None:
            second += (
                f", and {_pct(h.usage_rate.value)} of those who answered said they used AI at least once"
            )
        if h.measured_rate.value is not None:
            second += (
                f"; the AI tools measured {_pct(h.measured_rate.value)} of licensed people active this week"
            )
        second += "."
    elif digest.pulse is None:
        second = "There are no survey results yet: they appear once a pulse survey has closed."
        if h.measured_rate.value is not None:
            second = (
                f"The AI tools measured {_pct(h.measured_rate.value)} of licensed people active this week; "
                "survey results appear once a pulse survey has closed."
            )
    else:
        second = (
            f"Survey results are hidden this time, because fewer than {digest.min_group_size} people "
            "answered in these teams."
        )
    stuck = [line for line in digest.teams if line.stuck]
    common = max(digest.barriers, key=lambda g: len(g.teams), default=None)
    if h.wins.value:
        hours = h.hours_saved.value or 0
        win_part = f"{_count(int(h.wins.value), 'approved win')} reported {hours:g} hours saved a week"
    else:
        win_part = "no new wins were approved this week"
    if stuck:
        verb = "team is" if len(stuck) == 1 else "teams are"
        third = f"{len(stuck):,} {verb} stuck at the same barrier as in the previous pulse, and {win_part}."
    elif common is not None:
        teams = _count(len(common.teams), "team")
        third = f"The most common barrier is {common.stage} ({teams}), and {win_part}."
    elif h.survey_teams:
        third = f"No team shows an ADKAR barrier, and {win_part}."
    else:
        third = f"{win_part}."
    return " ".join([first, second, third[0].upper() + third[1:]])


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


NARRATIVE_SYSTEM = (
    "You write the opening of a weekly AI-adoption digest for a team leader. Write exactly three short "
    "sentences in plain English: how engagement moved, what the pulse survey says, and where to focus. Use "
    "only the figures given, never invent numbers, never name people or teams. No lists, no markdown."
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
    answer = ai.complete(
        session,
        settings,
        purpose=NARRATIVE_PURPOSE,
        system=NARRATIVE_SYSTEM,
        prompt=prompt,
        max_words=NARRATIVE_MAX_WORDS,
        cache_key="digest-narrative:" + hashlib.sha256(prompt.encode()).hexdigest()[:32],
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
