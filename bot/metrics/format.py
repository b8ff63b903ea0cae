"""Metrics rows as JSON, CSV (the public field names, same columns) and a terminal table for people."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence

from bot.csv_safe import cell
from bot.metrics.service import FIELDS, MetricsRow

NULL = "–"
HIDDEN = "hidden"


def to_json(rows: Sequence[MetricsRow]) -> str:
    """A list of row objects with exactly the public field names (docs/metrics.md)."""
    return json.dumps([r.to_dict() for r in rows], indent=2)


def to_csv(rows: Sequence[MetricsRow]) -> str:
    """The same columns as JSON; null is an empty cell, booleans are `true`/`false`, and text that a
    spreadsheet would run as a formula (a team named `=HYPERLINK(…)`) is neutralised (`bot.csv_safe`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for r in rows:
        writer.writerow(_csv_cell(value) for value in r.to_dict().values())
    return out.getvalue()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(cell(value))


def _percent(value: float | None) -> str:
    return NULL if value is None else f"{value * 100:.0f}%"


def _score(value: float | None) -> str:
    return NULL if value is None else f"{value:.2f}"


def _change(value: float | None) -> str:
    return NULL if value is None else f"{value:+.2f}"


def _count(value: int | None) -> str:
    return NULL if value is None else f"{value:,}"


def _points(value: float | None) -> str:
    return NULL if value is None else f"{value * 100:+.0f} pts"


def _measured(r: MetricsRow) -> str:
    if r.measured_active is None:
        return NULL
    return f"{r.measured_active:,} ({_percent(r.measured_rate)})"


def _survey(get: Callable[[MetricsRow], str]) -> Callable[[MetricsRow], str]:
    """A survey column: `hidden` when the row is suppressed, so nobody reads null as 'no answers'."""
    return lambda r: HIDDEN if r.suppressed else get(r)


def _responses(r: MetricsRow) -> str:
    if r.pulse is None or r.respondents is None:
        return NULL
    return f"{r.respondents}/{r.invited or 0}"


COLUMNS: tuple[tuple[str, Callable[[MetricsRow], str]], ...] = (
    ("Team", lambda r: r.team),
    ("Members", lambda r: str(r.members)),
    ("Reached", lambda r: str(r.reached)),
    ("Engaged", lambda r: str(r.engaged)),
    (
        "Active 28d",
        lambda r: NULL if r.active_28d is None else f"{r.active_28d} ({_percent(r.active_28d_rate)})",
    ),
    ("Nudges", lambda r: str(r.nudges_sent)),
    ("Tried", lambda r: _percent(r.tried_rate)),
    ("Answers", _responses),
    ("A", _survey(lambda r: _score(r.awareness))),
    ("D", _survey(lambda r: _score(r.desire))),
    ("K", _survey(lambda r: _score(r.knowledge))),
    ("Ab", _survey(lambda r: _score(r.ability))),
    ("R", _survey(lambda r: _score(r.reinforcement))),
    ("Readiness", _survey(lambda r: _score(r.readiness))),
    ("Change", _survey(lambda r: _change(r.readiness_change))),
    ("Barrier", _survey(lambda r: r.barrier or NULL)),
    ("Said used AI", _survey(lambda r: _percent(r.usage_rate))),
    ("Wins", lambda r: str(r.wins)),
    ("Hours/wk", lambda r: f"{r.hours_saved:g}"),
    ("Licensed", lambda r: _count(r.licensed)),
    ("Active in tool", lambda r: _measured(r)),
    ("Idle lic.", lambda r: _count(r.idle_licences)),
    ("Say-do gap", lambda r: _points(r.say_do_gap)),
)


def to_table(rows: Sequence[MetricsRow], *, min_group_size: int, tool: str | None = None) -> str:
    """A fixed-width table with a title line and a legend; `*` (the whole organisation) last."""
    if not rows:
        return ""
    cells = [[header for header, _ in COLUMNS]] + [[get(r) for _, get in COLUMNS] for r in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    lines = []
    for n, line in enumerate(cells):
        parts = [c.ljust(widths[0]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(line)]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    pulse = rows[0].pulse
    run = f"pulse run #{pulse}" if pulse else "no pulse run yet"
    if run_still_open(rows, min_group_size):
        run += ", still open: its survey figures show once it closes"
    title = f"Adoption metrics, week {rows[0].week} ({run})"
    measured = f"the {tool} usage reports" if tool else "the AI tools' usage reports, all tools"
    legend = (
        "Engaged: tried a nudge, shared a win or acknowledged a broadcast in the week; Active 28d: did so "
        f"in the four weeks ending with it (share of members; '{NULL}' under {min_group_size} members). "
        "Said used AI: share of pulse respondents who said they used AI at least once (what people say). "
        f"Licensed, Active in tool, Idle lic.: from {measured} (what the tools measured): people with a "
        "licence in the week, those of them active in it, and licences unused for the four weeks ending "
        f"with it; '{NULL}' under {min_group_size} licensed people or with no report for the week. "
        "Say-do gap: said used AI minus active in tool, in points. "
        "A D K Ab R: ADKAR means 1-5 (awareness, desire, knowledge, ability, reinforcement). "
        f"'{HIDDEN}': fewer than {min_group_size} answers, hidden so that no small group can be "
        f"worked out from the others, or the pulse run is still open. '{NULL}' in a survey column: no "
        f"answers, or fewer than {min_group_size} answers to that question (counted figure by figure). "
        "*: the whole organisation."
    )
    return "\n".join([title, "", *lines, "", legend]) + "\n"


def run_still_open(rows: Sequence[MetricsRow], min_group_size: int) -> bool:
    """Whether the rows' survey figures are withheld because their pulse run still takes answers: the
    organisation row is hidden although it has enough respondents (no other rule hides it)."""
    everyone = next((r for r in rows if r.team == "*"), None)
    return bool(everyone and everyone.suppressed and (everyone.respondents or 0) >= min_group_size)
