"""The leaders' weekly digest, composed as plain data (Slack-free): what a leader reads in a minute.

A digest describes ISO week W for an audience (a leader's teams, one team, or the whole organisation):
headline figures with their changes, teams stuck-first, barriers with suggested actions, top wins, AI
tools, comment summaries, a trend and a narrative. Every figure is defined in docs/metrics.md; renderers
are `bot.digest.blocks` (Block Kit), `bot.digest.format` (terminal), `bot.digest.chart` and the CSV.

The key rule: figures come from `compute_metrics` rows, already suppressed; nothing here reads a pulse
answer. Survey figures are those of the latest run that is closed (the rows of the week it opened), and
what this module derives (a multi-team mean weighted by respondents, a change over the teams shown in
both runs) uses shown figures only, so it reveals nothing they do not (docs/privacy.md).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, timedelta
from typing import Any

from bot import clock
from bot.content import ADKAR_STAGES, Library
from bot.digest.chart import TrendSeries
from bot.digest.measured import IDLE_SHARE, SayDo, audience_measured, say_do, tools_used
from bot.digest.narrative import narrate, polish, template_narrative
from bot.digest.source import DigestSource, PublicWin
from bot.digest.types import (
    ORGANISATION,
    Audience,
    BarrierGroup,
    Comparison,
    Digest,
    Figure,
    Headline,
    PulseInfo,
    TeamLine,
    UseCase,
)
from bot.heap import bulk_work
from bot.metrics.measured import say_do_gap
from bot.metrics.service import ALL_TEAMS, MetricsRow
from bot.pulses import comments
from bot.wins.blocks import WinSnippet

__all__ = [
    "ORGANISATION",
    "Audience",
    "BarrierGroup",
    "Comparison",
    "Digest",
    "DigestSource",
    "Figure",
    "Headline",
    "PulseInfo",
    "TeamLine",
    "UseCase",
    "compose",
    "compose_many",
    "narrate",
    "polish",
]

TOP_WINS = 3
TOP_TOOLS = 5
STUCK_GAIN = 0.1  # a barrier element that rose less than this since the previous pulse has not moved
EXAMPLE_CHARS = 90

# The MetricsRow fields that describe a pulse run: taken from the closed run's rows (module docstring).
SURVEY_FIELDS = (
    "pulse",
    "invited",
    "respondents",
    "response_rate",
    "suppressed",
    *ADKAR_STAGES,
    "readiness",
    "barrier",
    "usage_rate",
    "readiness_change",
)


# --- composing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Survey:
    """An audience's survey figures for one run (from shown figures only)."""

    readiness: float | None
    usage_rate: float | None
    shown: frozenset[str]
    hidden: int
    respondents: int
    invited: int


def _survey(rows: Mapping[str, MetricsRow] | None, names: Sequence[str], whole: bool) -> _Survey | None:
    if rows is None:
        return None
    team_rows = [rows[n] for n in names if n in rows]
    shown = [r for r in team_rows if r.pulse is not None and not r.suppressed]
    hidden = sum(1 for r in team_rows if r.pulse is not None and r.suppressed)
    respondents = sum(r.respondents or 0 for r in team_rows)
    invited = sum(r.invited or 0 for r in team_rows)
    total = rows.get(ALL_TEAMS)
    if whole and total is not None:
        shown_total = total.pulse is not None and not total.suppressed
        return _Survey(
            total.readiness if shown_total else None,
            total.usage_rate if shown_total else None,
            frozenset(r.team for r in shown),
            hidden,
            total.respondents or 0,
            total.invited or 0,
        )
    return _Survey(
        _weighted(shown, "readiness", 2),
        _weighted(shown, "usage_rate", 3),
        frozenset(r.team for r in shown),
        hidden,
        respondents,
        invited,
    )


def _weighted(rows: Sequence[MetricsRow], name: str, places: int) -> float | None:
    """Mean of a shown figure over teams, weighted by respondents (one team: its own figure)."""
    pairs = [(getattr(r, name), r.respondents or 0) for r in rows if getattr(r, name) is not None]
    weight = sum(n for _, n in pairs)
    if not pairs or weight == 0:
        return None
    if len(pairs) == 1:
        return float(pairs[0][0])
    return round(float(sum(v * n for v, n in pairs)) / weight, places)


def _diff(a: float | None, b: float | None, places: int) -> float | None:
    return None if a is None or b is None else round(a - b, places)


def _row_value(rows: Mapping[str, MetricsRow] | None, name: str, field_name: str) -> Any:
    row = rows.get(name) if rows else None
    return getattr(row, field_name) if row is not None else None


def _survey_change(
    now_rows: Mapping[str, MetricsRow] | None,
    then_rows: Mapping[str, MetricsRow] | None,
    names: Sequence[str],
    whole: bool,
    field_name: str,
    places: int,
) -> float | None:
    """A survey figure's change between two runs: over the teams shown in both (whole org: `*` rows)."""
    now = _survey(now_rows, names, whole)
    then = _survey(then_rows, names, whole)
    if now is None or then is None:
        return None
    if not whole:
        # Teams that show this very figure in both runs (a shown row may still hide one figure).
        both = [
            n
            for n in names
            if n in now.shown
            and n in then.shown
            and _row_value(now_rows, n, field_name) is not None
            and _row_value(then_rows, n, field_name) is not None
        ]
        now, then = _survey(now_rows, both, False), _survey(then_rows, both, False)
        if now is None or then is None:
            return None
    return _diff(getattr(now, field_name), getattr(then, field_name), places)


@dataclass(frozen=True)
class _Activity:
    members: int
    engaged: int
    active: int | None  # engaged in the four weeks ending with the week, over the teams that show it
    active_members: int  # the members of those teams
    wins: int
    hours: float

    @property
    def engaged_rate(self) -> float | None:
        return _rate(self.engaged, self.members)

    @property
    def active_rate(self) -> float | None:
        return None if self.active is None else _rate(self.active, self.active_members)


def _rate(part: int | None, members: int) -> float | None:
    return round(part / members, 3) if members and part is not None else None


def _activity(rows: Mapping[str, MetricsRow], names: Sequence[str], whole: bool) -> _Activity:
    if whole and ALL_TEAMS in rows:
        t = rows[ALL_TEAMS]
        return _Activity(t.members, t.engaged, t.active_28d, t.members, t.wins, t.hours_saved)
    picked = [rows[n] for n in names if n in rows]
    # active_28d is hidden for teams under k members: the audience's figure is over the others only.
    showing = [r for r in picked if r.active_28d is not None]
    return _Activity(
        sum(r.members for r in picked),
        sum(r.engaged for r in picked),
        sum(r.active_28d or 0 for r in showing) if showing else None,
        sum(r.members for r in showing),
        sum(r.wins for r in picked),
        round(sum(r.hours_saved for r in picked), 2),
    )


def _composite(activity: MetricsRow, survey: MetricsRow | None) -> MetricsRow:
    """Week W's activity with the closed run's survey fields (blank when there is no closed run)."""
    values: dict[str, Any] = {name: getattr(survey, name) if survey else None for name in SURVEY_FIELDS}
    values["suppressed"] = bool(survey.suppressed) if survey else False
    # The gap compares the closed run's answers with week W's measurement, as the digest shows it.
    values["say_do_gap"] = say_do_gap(values["usage_rate"], activity.measured_rate)
    return replace(activity, **values)


def _stage_score(row: MetricsRow | None, stage: str | None) -> float | None:
    if row is None or stage is None or row.suppressed:
        return None
    value: float | None = getattr(row, stage)
    return value


def _team_line(
    name: str,
    now: MetricsRow,
    before: MetricsRow | None,
    survey: MetricsRow | None,
    previous_survey: MetricsRow | None,
) -> TeamLine:
    """One team's line: week W's activity and measured use beside the closed run's survey figures."""
    rate = _rate(now.engaged, now.members)
    before_rate = _rate(before.engaged, before.members) if before else None
    active = _rate(now.active_28d, now.members)
    before_active = _rate(before.active_28d, before.members) if before else None
    state = "none"
    if survey is not None and survey.pulse is not None:
        state = "hidden" if survey.suppressed else "shown"
    shown = survey if state == "shown" else None
    barrier = shown.barrier if shown else None
    score = _stage_score(shown, barrier)
    stuck = False
    if barrier is not None and previous_survey is not None and not previous_survey.suppressed:
        earlier = _stage_score(previous_survey, barrier)
        stuck = (
            previous_survey.barrier == barrier
            and score is not None
            and earlier is not None
            and score - earlier < STUCK_GAIN
        )
    return TeamLine(
        name=name,
        members=now.members,
        engaged_rate=rate,
        engaged_change=_diff(rate, before_rate, 3),
        active_rate=active,
        active_change=_diff(active, before_active, 3),
        survey=state,
        readiness=shown.readiness if shown else None,
        readiness_change=shown.readiness_change if shown else None,
        usage_rate=shown.usage_rate if shown else None,
        measured_rate=now.measured_rate,
        measured_change=_diff(now.measured_rate, before.measured_rate if before else None, 3),
        say_do_gap=_diff(shown.usage_rate if shown else None, now.measured_rate, 3),
        barrier=barrier,
        barrier_score=score,
        stuck=stuck,
        wins=now.wins,
        hours_saved=now.hours_saved,
    )


def team_order(line: TeamLine) -> tuple[int, float, float, str]:
    """Stuck teams first (lowest barrier first), then the largest movers, then by name."""
    if line.stuck:
        return (0, line.barrier_score if line.barrier_score is not None else 5.0, 0.0, line.name.casefold())
    return (1, 0.0, -line.movement, line.name.casefold())


def suggested_action(library: Library, stage: str, week_monday: date) -> str | None:
    """One of the stage's suggested actions, a different one each week (the ISO week picks it)."""
    choices = library.actions.get(stage, ())
    if not choices:
        return None
    return choices[week_monday.isocalendar()[1] % len(choices)]


def _say_do_stage(said_done: SayDo) -> str:
    """The actions.toml list for a large gap between what people said and what the tools measured."""
    return "say_do_gap" if said_done.gap > 0 else "unreported_use"


def actions_in(digest: Digest, library: Library, lang: str | None) -> Digest:
    """`digest` with its suggested actions picked from the library's actions in `lang` (where translated):
    the same stages, the same week's turn; the figures are untouched."""
    texts = library.localized(lang)
    if texts.lang == library.lang:
        return digest
    monday = digest.week_monday
    barriers = tuple(
        replace(group, action=suggested_action(texts, group.stage, monday)) if group.action else group
        for group in digest.barriers
    )
    said_done = digest.say_do
    if said_done is not None and said_done.action:
        said_done = replace(said_done, action=suggested_action(texts, _say_do_stage(said_done), monday))
    idle = suggested_action(texts, "idle_licences", monday) if digest.idle_action else None
    return replace(digest, barriers=barriers, say_do=said_done, idle_action=idle)


def _barriers(lines: Sequence[TeamLine], library: Library, week_monday: date) -> tuple[BarrierGroup, ...]:
    groups = []
    for stage in ADKAR_STAGES:
        teams = tuple(line.name for line in lines if line.barrier == stage)
        if teams:
            groups.append(BarrierGroup(stage, teams, suggested_action(library, stage, week_monday)))
    return tuple(groups)


def tool_name_key(tool: str) -> str:
    return " ".join(tool.split()).casefold()


def use_cases(found: Iterable[PublicWin], *, top: int = TOP_TOOLS) -> tuple[tuple[UseCase, ...], int]:
    """The AI tools named in wins, most wins first (then hours), each with a short example; and how many
    wins named no tool."""
    groups: dict[str, list[PublicWin]] = defaultdict(list)
    without = 0
    for win in found:
        key = tool_name_key(win.tool) if win.tool else ""
        if key:
            groups[key].append(win)
        else:
            without += 1
    cases = []
    for items in groups.values():
        spelling = Counter(" ".join(str(w.tool).split()) for w in items).most_common(1)[0][0]
        best = max(items, key=lambda w: (w.hours, -len(w.text)))
        cases.append(
            UseCase(spelling, len(items), round(sum(w.hours for w in items), 1), _example(best.text))
        )
    cases.sort(key=lambda c: (-c.wins, -c.hours, c.tool.casefold()))
    return tuple(cases[:top]), without


def _example(text: str) -> str:
    one = " ".join(text.split())
    if len(one) <= EXAMPLE_CHARS:
        return one
    cut = one[: EXAMPLE_CHARS - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"


def _trend(source: DigestSource, names: Sequence[str], whole: bool) -> TrendSeries:
    weeks: list[str] = []
    engaged: list[float | None] = []
    active: list[float | None] = []
    usage: list[float | None] = []
    readiness: list[float | None] = []
    measured: list[float | None] = []
    for monday in source.trend_weeks:
        rows = source.rows(monday)
        activity = _activity(rows, names, whole)
        run = source.closed_run_before(source.end_of(monday))
        survey = _survey(source.survey_rows(run), names, whole)
        nothing_yet = (
            not weeks
            and activity.engaged == 0
            and survey is None
            and audience_measured(rows, names, whole) is None
        )
        if nothing_yet and monday != source.week_monday:
            continue  # before the programme started: leave the week out rather than draw a zero
        weeks.append(clock.iso_week(monday))
        engaged.append(activity.engaged_rate)
        active.append(activity.active_rate)
        usage.append(survey.usage_rate if survey else None)
        readiness.append(survey.readiness if survey else None)
        use = audience_measured(rows, names, whole)
        measured.append(use.rate if use else None)
    return TrendSeries(
        tuple(weeks), tuple(engaged), tuple(usage), tuple(readiness), tuple(active), tuple(measured)
    )


def audience_team_names(source: DigestSource, audience: Audience) -> tuple[list[str], bool]:
    """The audience's team names (in name order) and whether they are every team."""
    if audience.team_ids is None:
        return list(source.teams.values()), True
    wanted = set(audience.team_ids)
    names = [name for team_id, name in source.teams.items() if team_id in wanted]
    return names, len(names) == len(source.teams)


def compose(source: DigestSource, audience: Audience, *, brief: bool = False) -> Digest:
    """The digest of `source.week` for `audience`, with the template narrative (see `narrate`).

    `brief` (App Home): headline, teams and barriers only; no trend, wins, tools, comments or CSV, which
    saves most of the work.
    """
    settings = source.settings
    names, whole = audience_team_names(source, audience)
    chosen = set(names)
    team_ids = None if whole else [i for i, n in source.teams.items() if n in chosen]
    monday = source.week_monday
    rows_now = source.rows(monday)
    rows_before = source.rows(monday - timedelta(weeks=1))
    run = source.closed_run_before(source.end_of(monday))
    previous = source.previous_closed_run(run) if run else None
    baseline = source.baseline_run
    survey_now = source.survey_rows(run)
    survey_before = source.survey_rows(previous)
    survey_base = source.survey_rows(baseline) if baseline and run and baseline.id != run.id else None
    base_week = source.opening_week(baseline) if baseline else None
    rows_base = source.rows(base_week) if base_week and base_week != monday else None

    now, before = _activity(rows_now, names, whole), _activity(rows_before, names, whole)
    base = _activity(rows_base, names, whole) if rows_base else None
    survey = _survey(survey_now, names, whole)

    def activity_figure(get: str, places: int) -> Figure:
        value = getattr(now, get)
        return Figure(
            value,
            _diff(value, getattr(before, get), places),
            _diff(value, getattr(base, get), places) if base else None,
        )

    def survey_figure(get: str, places: int) -> Figure:
        value = getattr(survey, get) if survey else None
        return Figure(
            value,
            _survey_change(survey_now, survey_before, names, whole, get, places),
            _survey_change(survey_now, survey_base, names, whole, get, places),
        )

    use_now = audience_measured(rows_now, names, whole)
    use_before = audience_measured(rows_before, names, whole)
    use_base = audience_measured(rows_base, names, whole) if rows_base else None
    measured_rate = use_now.rate if use_now else None
    headline = Headline(
        members=now.members,
        engaged=now.engaged,
        engaged_rate=activity_figure("engaged_rate", 3),
        active=now.active,
        active_members=now.active_members,
        active_rate=activity_figure("active_rate", 3),
        readiness=survey_figure("readiness", 2),
        usage_rate=survey_figure("usage_rate", 3),
        measured=use_now,
        measured_rate=Figure(
            measured_rate,
            _diff(measured_rate, use_before.rate if use_before else None, 3),
            _diff(measured_rate, use_base.rate if use_base else None, 3) if use_base else None,
        ),
        wins=activity_figure("wins", 0),
        hours_saved=activity_figure("hours", 1),
        survey_teams=len(survey.shown) if survey else 0,
        hidden_teams=survey.hidden if survey else 0,
    )
    lines = [
        _team_line(
            name,
            rows_now[name],
            rows_before.get(name),
            survey_now.get(name) if survey_now else None,
            survey_before.get(name) if survey_before else None,
        )
        for name in names
        if name in rows_now
    ]
    lines.sort(key=team_order)
    csv_rows: tuple[MetricsRow, ...] = ()
    top: tuple[WinSnippet, ...] = ()
    cases: tuple[UseCase, ...] = ()
    this_week, without = 0, 0
    summary: tuple[comments.CommentSummary, ...] = ()
    trend = TrendSeries((), (), (), (), (), ())
    if not brief:
        csv_names = [*names, ALL_TEAMS] if whole else names
        csv_rows = tuple(
            _composite(rows_now[n], survey_now.get(n) if survey_now else None)
            for n in csv_names
            if n in rows_now
        )
        top, this_week = source.top_wins(team_ids, TOP_WINS)
        cases, without = use_cases(source.public_wins_of(team_ids))
        summary = source.comment_summaries(run.id, team_ids) if run else ()
        trend = _trend(source, names, whole)
    library = source.library
    tools = tools_used(source.measured(monday), library, team_ids)
    said_done = say_do(survey_now, rows_now, names, whole, None)
    if said_done is not None and said_done.large:
        said_done = replace(said_done, action=suggested_action(library, _say_do_stage(said_done), monday))
    idle = use_now is not None and use_now.licensed and use_now.idle / use_now.licensed >= IDLE_SHARE
    idle_action = suggested_action(library, "idle_licences", monday) if idle else None
    pulse = None
    if run is not None and survey is not None:
        closed = run.closed_at.replace(tzinfo=UTC).astimezone(settings.tz).date()
        pending = source.open_run
        pulse = PulseInfo(run.id, closed, survey.respondents, survey.invited, pending.id if pending else None)
    digest = Digest(
        week=source.week,
        week_monday=monday,
        audience=audience,
        teams_total=len(names),
        headline=headline,
        teams=tuple(lines),
        barriers=_barriers(lines, source.library, monday),
        top_wins=top,
        wins_from_this_week=this_week,
        use_cases=cases,
        wins_without_tool=without,
        tools=tools,
        say_do=said_done,
        idle_action=idle_action,
        comments=summary,
        narrative="",
        narrative_by_ai=False,
        trend=trend,
        csv_rows=csv_rows,
        pulse=pulse,
        baseline_run=baseline.id if baseline else None,
        baseline_week=clock.iso_week(base_week) if base_week else None,
        min_group_size=settings.min_group_size,
        compared=Comparison(
            week_before=clock.iso_week(monday - timedelta(weeks=1)),
            previous_run=previous.id if previous else None,
            baseline_week=clock.iso_week(base_week) if rows_base is not None and base_week else None,
            baseline_run=baseline.id if survey_base is not None and baseline else None,
        ),
    )
    return replace(digest, narrative=template_narrative(digest))


@bulk_work()
def compose_many(
    source: DigestSource, audiences: Sequence[Audience], *, ai_narrative: bool = True
) -> list[Digest]:
    """Digests for several audiences of one week (AI narratives when enabled and `ai_narrative`)."""
    found = [compose(source, a) for a in audiences]
    if not ai_narrative or not source.settings.ai_enabled:
        return found
    names = source.name_parts()
    return [narrate(source.session, source.settings, d, names=names) for d in found]
