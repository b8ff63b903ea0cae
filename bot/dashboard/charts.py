"""Trend charts drawn on the server as SVG: the digest's lines (its colours, dash patterns and labels), with
a text alternative. No JavaScript, no image file, nothing fetched: the markup is the chart.

Two panels, because they are read on different scales: rates (0-100 %) and readiness (1-5). A value that
may not be shown (no closed pulse, or hidden under k) is a gap in the line, never a point, as in the
digest's PNG (`bot.digest.chart`). Every figure drawn is also in the table the page puts beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from bot.digest.chart import LINES, TrendSeries, week_label
from bot.i18n import gettext as _

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 36


@dataclass(frozen=True)
class Panel:
    title: str
    keys: tuple[str, ...]
    low: float
    high: float
    factor: float  # value x factor = what is drawn (rates in percent)
    unit: str


RATES = Panel("Rates", ("engaged_rate", "active_rate", "usage_rate", "measured_rate"), 0, 100, 100, "%")
READINESS = Panel("Readiness", ("readiness",), 1, 5, 1, "")


def _dash(style: object) -> str:
    if style == "--":
        return "8 4"
    if style == ":":
        return "2 3"
    if style == "-.":
        return "8 3 2 3"
    if isinstance(style, tuple):
        return " ".join(str(n) for n in style[1])
    return ""


def _segments(points: Sequence[tuple[float, float] | None]) -> list[list[tuple[float, float]]]:
    """Runs of consecutive shown points: a hidden week breaks the line."""
    runs: list[list[tuple[float, float]]] = [[]]
    for point in points:
        if point is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append(point)
    return [run for run in runs if run]


def trend_svg(series: TrendSeries, panel: Panel, *, label: str) -> Markup:
    """One panel of the trend as inline SVG (`role="img"`, titled and described)."""
    weeks = series.weeks
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(weeks) - 1, 1)

    def x(i: int) -> float:
        return LEFT + i * step

    def y(value: float) -> float:
        return TOP + plot_h * (1 - (value - panel.low) / (panel.high - panel.low))

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{label}-t {label}-d" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{label}-t">{escape(panel.title)}</title>',
        f'<desc id="{label}-d">{escape(_describe(series, panel))}</desc>',
    ]
    ticks = 5
    for n in range(ticks):
        value = panel.low + (panel.high - panel.low) * n / (ticks - 1)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            'stroke="#d0d0d0"/>'
            f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" font-size="12" fill="#444">'
            f"{value:g}{panel.unit}</text>"
        )
    for i, week in enumerate(weeks):
        parts.append(
            f'<text x="{x(i):.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="12" fill="#444">'
            f"{escape(week_label(week))}</text>"
        )
    for line in (line for line in LINES if line.key in panel.keys):
        values = series.values(line.key)
        points = [None if v is None else (x(i), y(v * panel.factor)) for i, v in enumerate(values)]
        dash = _dash(line.style)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        for run in _segments(points):
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{line.colour}" '
                f'stroke-width="2.5"{dash_attr}/>'
            )
            parts.extend(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{line.colour}"/>' for px, py in run
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def legend(panel: Panel) -> list[tuple[str, str, str]]:
    """(label, colour, dash pattern) of each line a panel draws, for the legend beside it."""
    return [(_(line.label), line.colour, _dash(line.style)) for line in LINES if line.key in panel.keys]


def _describe(series: TrendSeries, panel: Panel) -> str:
    """The chart in words: each line's first and last shown value."""
    said = []
    for line in (line for line in LINES if line.key in panel.keys):
        shown = [(w, v) for w, v in zip(series.weeks, series.values(line.key), strict=True) if v is not None]
        if not shown:
            said.append(f"{_(line.label)}: nothing to show")
            continue
        (first_week, first), (last_week, last) = shown[0], shown[-1]
        fmt = "{:.0f}%" if panel.unit == "%" else "{:.2f}"
        said.append(
            f"{_(line.label)}: {fmt.format(first * panel.factor)} in {first_week}, "
            f"{fmt.format(last * panel.factor)} in {last_week}"
        )
    return "; ".join(said) + "."


def table(series: TrendSeries) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The trend as a table (the charts' text alternative): headers, then (line label, one cell a week)."""
    rows = []
    for line in LINES:
        factor = 1 if line.right_axis else 100
        cells = [
            "–" if v is None else (f"{v * factor:.0f}%" if factor == 100 else f"{v:.2f}")
            for v in series.values(line.key)
        ]
        rows.append((_(line.label), cells))
    return [week_label(w) for w in series.weeks], rows
