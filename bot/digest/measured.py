"""What the AI tools measured, for a digest's audience: active share, idle licences, and the say-do gap.

Built only from figures `adoptbot metrics` shows (`bot.metrics.measured` decides k and the complementary
rules): a multi-team figure adds up the teams that show it, so it reveals nothing they do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from bot.content import Library
from bot.metrics.measured import MeasuredWeek
from bot.metrics.rules import ratio, round_half_up
from bot.metrics.service import ALL_TEAMS, MetricsRow

SAY_DO_LARGE = 0.2  # a gap of 20 points or more between what people said and what the tools measured
IDLE_SHARE = 0.2  # idle licences worth an action: a fifth of the licences or more


@dataclass(frozen=True)
class Measured:
    """An audience's measured figures for one week (None: no report covers it, or hidden)."""

    licensed: int
    active: int
    idle: int

    @property
    def rate(self) -> float | None:
        return ratio(self.active, self.licensed, 3)


@dataclass(frozen=True)
class ToolUse:
    """One AI tool's licences in the audience: "31 of 120 licences unused for 4 weeks"."""

    tool: str  # the tool's id (tools.toml)
    name: str
    licensed: int
    active: int
    idle: int

    @property
    def rate(self) -> float | None:
        return ratio(self.active, self.licensed, 3)


@dataclass(frozen=True)
class SayDo:
    """What respondents said (share who used AI) against what the tools measured (share active)."""

    said: float
    measured: float
    gap: float  # said - measured
    action: str | None  # a suggested action from actions.toml, when the gap is large

    @property
    def large(self) -> bool:
        return abs(self.gap) >= SAY_DO_LARGE


def audience_measured(rows: Mapping[str, MetricsRow], names: Sequence[str], whole: bool) -> Measured | None:
    """The audience's measured figures from its rows: `*` for the organisation, else the teams showing
    them, added up (each person is in one team)."""
    if whole and ALL_TEAMS in rows:
        t = rows[ALL_TEAMS]
        if t.licensed is None or t.measured_active is None or t.idle_licences is None:
            return None
        return Measured(t.licensed, t.measured_active, t.idle_licences)
    shown = [rows[n] for n in names if n in rows and rows[n].licensed is not None]
    if not shown:
        return None
    return Measured(
        sum(r.licensed or 0 for r in shown),
        sum(r.measured_active or 0 for r in shown),
        sum(r.idle_licences or 0 for r in shown),
    )


def tools_used(week: MeasuredWeek, library: Library, team_ids: Sequence[int] | None) -> tuple[ToolUse, ...]:
    """Per tool with licences this week: the audience's figures where they may be shown, largest first."""
    found = []
    for tool in week.tools:
        if team_ids is None:
            parts = [week.figures(None, tool)]
        else:
            parts = [week.figures(team, tool) for team in team_ids]
        shown = [p for p in parts if p is not None]
        if not shown:
            continue
        known = library.tools.get(tool)
        found.append(
            ToolUse(
                tool,
                known.name if known else tool,
                sum(p.licensed for p in shown),
                sum(p.measured_active for p in shown),
                sum(p.idle_licences for p in shown),
            )
        )
    found.sort(key=lambda t: (-t.licensed, t.name.casefold()))
    return tuple(found)


def say_do(
    survey: Mapping[str, MetricsRow] | None,
    measured_rows: Mapping[str, MetricsRow],
    names: Sequence[str],
    whole: bool,
    action: str | None,
) -> SayDo | None:
    """The gap over the same people: `*` for the organisation, else the teams that show both figures
    (said: respondent-weighted; measured: active / licensed over those teams)."""
    if survey is None:
        return None
    picked = [ALL_TEAMS] if whole else list(names)
    both = [
        (survey[n], measured_rows[n])
        for n in picked
        if n in survey
        and n in measured_rows
        and not survey[n].suppressed
        and survey[n].usage_rate is not None
        and measured_rows[n].licensed is not None
    ]
    answers = sum(s.respondents or 0 for s, _ in both)
    licensed = sum(m.licensed or 0 for _, m in both)
    if not both or not answers or not licensed:
        return None
    weighted = sum((Fraction(str(s.usage_rate or 0.0)) * (s.respondents or 0) for s, _ in both), Fraction(0))
    said = round_half_up(weighted / answers, 3)
    measured = round_half_up(Fraction(sum(m.measured_active or 0 for _, m in both), licensed), 3)
    gap = round_half_up(Fraction(str(said)) - Fraction(str(measured)), 3)
    return SayDo(said, measured, gap, action if abs(gap) >= SAY_DO_LARGE else None)
