"""The digest as plain data: what `bot.digest.service.compose` returns and every renderer reads.

Text fields hold what people typed or the model wrote, unescaped: builders escape them for Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.digest.chart import TrendSeries
from bot.digest.measured import Measured, SayDo, ToolUse
from bot.metrics.service import MetricsRow
from bot.pulses.comments import CommentSummary
from bot.wins.blocks import WinSnippet

# --- what a digest is --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Whose digest: a leader and the teams they lead, or the whole organisation (`team_ids` None)."""

    name: str  # the leader's name, or "Whole organisation"
    team_ids: tuple[int, ...] | None
    person_id: int | None = None
    slack_user_id: str | None = None

    @property
    def whole(self) -> bool:
        return self.team_ids is None


ORGANISATION = Audience(name="Whole organisation", team_ids=None)


@dataclass(frozen=True)
class Figure:
    """A headline figure; `change` against the comparison point, `since_baseline` against the first pulse.

    Activity figures (engaged, active in 4 weeks, wins, hours) compare week W with the week before and
    with the week the first pulse opened in; survey figures (readiness, AI use) compare the closed pulse
    run with the previous closed run and with the first run (`Comparison` names them).
    """

    value: float | None
    change: float | None = None
    since_baseline: float | None = None


@dataclass(frozen=True)
class Headline:
    members: int
    engaged: int
    engaged_rate: Figure  # 0..1; change in fractions (0.05 = 5 points)
    active: int | None  # engaged at least once in the four weeks ending with W (None: hidden, under k)
    active_members: int  # the members of the teams `active` is counted over
    active_rate: Figure  # 0..1, like engaged_rate
    readiness: Figure  # 1..5
    usage_rate: Figure  # 0..1: said they used AI, of respondents
    measured: Measured | None  # the tools' own reports for week W (None: no report, or hidden)
    measured_rate: Figure  # 0..1: active in the tools, of licensed people; changes: week before, baseline
    wins: Figure
    hours_saved: Figure
    survey_teams: int  # teams whose shown figures make up readiness and AI use
    hidden_teams: int  # teams of this audience whose survey figures are hidden


@dataclass(frozen=True)
class PulseInfo:
    run_id: int
    closed_on: date  # local date (org time zone)
    respondents: int
    invited: int
    open_run: int | None  # a newer run still open: reported once it closes


@dataclass(frozen=True)
class Comparison:
    """What a digest's changes compare with, so that every change can say so."""

    week_before: str  # "2026-W46": activity figures' change compares week W with this week
    previous_run: int | None  # survey figures' change compares the closed run with this run
    baseline_week: str | None  # activity figures "since baseline": the week the first pulse opened in
    baseline_run: int | None  # survey figures "since baseline": the first pulse run


@dataclass(frozen=True)
class TeamLine:
    """One team in the per-team view (survey figures None when hidden or when there is no closed pulse)."""

    name: str
    members: int
    engaged_rate: float | None
    engaged_change: float | None  # since the week before, in fractions
    active_rate: float | None  # active in the four weeks ending with W / members
    active_change: float | None  # since the week before, in fractions
    survey: str  # "shown", "hidden" (anonymity), "none" (no closed pulse, or the team was not in it)
    readiness: float | None
    readiness_change: float | None  # since the previous pulse run (`Comparison.previous_run`)
    usage_rate: float | None  # said they used AI (the closed pulse)
    measured_rate: float | None  # active in the tools, of licensed people (week W; None: hidden or none)
    measured_change: float | None  # since the week before, in fractions
    say_do_gap: float | None  # usage_rate - measured_rate, when both are shown
    barrier: str | None
    barrier_score: float | None
    stuck: bool  # the same barrier as in the previous pulse, and it has not moved
    wins: int
    hours_saved: float

    @property
    def movement(self) -> float:
        """How much the team moved: engagement points plus readiness change (a 0.4 change counts as 10
        points), for ordering the largest movers first."""
        return abs(self.engaged_change or 0.0) + abs(self.readiness_change or 0.0) / 4


@dataclass(frozen=True)
class BarrierGroup:
    stage: str
    teams: tuple[str, ...]  # stuck ones first
    action: str | None  # a suggested action for that stage from content/actions.toml


@dataclass(frozen=True)
class UseCase:
    tool: str  # as people typed it (the most common spelling): escape before showing
    wins: int
    hours: float
    example: str  # a short piece of one win's story (unescaped)


@dataclass(frozen=True)
class Digest:
    week: str  # "2026-W47"
    week_monday: date
    audience: Audience
    teams_total: int  # teams in this audience
    headline: Headline
    teams: tuple[TeamLine, ...]  # stuck first, then the largest movers, then by name
    barriers: tuple[BarrierGroup, ...]
    top_wins: tuple[WinSnippet, ...]
    wins_from_this_week: int  # how many of top_wins were submitted in W (the rest: earlier weeks)
    use_cases: tuple[UseCase, ...]
    wins_without_tool: int
    tools: tuple[ToolUse, ...]  # measured use per AI tool (shown figures only), most licences first
    say_do: SayDo | None  # said vs measured for the same teams; its action when the gap is large
    idle_action: str | None  # a suggested action when a fifth of the licences or more sit idle
    comments: tuple[CommentSummary, ...]  # one per part of the comment partition shown (escape the text)
    narrative: str  # three sentences (plain text)
    narrative_by_ai: bool
    trend: TrendSeries
    csv_rows: tuple[MetricsRow, ...]
    pulse: PulseInfo | None
    baseline_run: int | None
    baseline_week: str | None
    min_group_size: int
    compared: Comparison
