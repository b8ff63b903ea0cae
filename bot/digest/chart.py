"""The digest's trend chart: eight weeks of engagement, activity over four weeks, AI use (as people said it
in the pulse, and as the AI tools measured it) and readiness.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global figure state, safe in threads),
sized for Slack's preview (8 x 4.5 inches at 150 dpi: 1200 x 675 pixels, readable when Slack shows it at
about 800 x 450). Colours are from the Okabe-Ito palette, which people with the common colour-vision
deficiencies can tell apart; each line also has its own dash pattern and marker, so the chart still reads
in greyscale.

Survey lines follow pulse runs, not weeks: each week shows the newest run opened by its end and closed
now, so a run's value holds until the next run closes and the line steps at each run instead of dropping
between pulses (`bot.digest.service`). Activity lines are week by week; "active" covers the four weeks
ending with each week, so it does not swing with a single quiet week. The measured line is week by week
from the tools' own usage reports.

Anonymity: the chart only draws what the digest already shows. A week without survey figures (no closed
pulse yet, or hidden because too few people answered) is a gap in the line, never a value: `plot_data`
turns None into NaN, which matplotlib leaves undrawn.
"""

from __future__ import annotations

import functools
import io
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bot.i18n import N_
from bot.i18n import gettext as _

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_IN: Final = 8.0
HEIGHT_IN: Final = 4.5
DPI: Final = 150
LABEL_GAP_PX: Final = 30  # vertical room for one value label at 11 pt and 150 dpi

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO: Final = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish_green": "#009E73",
    "vermillion": "#D55E00",
    "sky_blue": "#56B4E9",
    "reddish_purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}


@dataclass(frozen=True)
class Line:
    key: str
    label: str
    colour: str
    style: str | tuple[int, tuple[int, ...]]  # a matplotlib line style, or (offset, dash pattern)
    marker: str
    right_axis: bool  # readiness (1-5) is read on the right axis, rates (0-100 %) on the left


LINES: Final = (
    Line("engaged_rate", N_("Engaged this week"), OKABE_ITO["blue"], "-", "o", False),
    Line("active_rate", N_("Active, last 4 weeks"), OKABE_ITO["vermillion"], ":", "D", False),
    Line("usage_rate", N_("Said they used AI (pulse)"), OKABE_ITO["orange"], "--", "s", False),
    Line(
        "measured_rate",
        N_("Active in the AI tools (measured)"),
        OKABE_ITO["reddish_purple"],
        (0, (6, 2, 1, 2, 1, 2)),
        "v",
        False,
    ),
    Line("readiness", N_("Readiness 1-5 (right axis)"), OKABE_ITO["bluish_green"], "-.", "^", True),
)


@dataclass(frozen=True)
class TrendSeries:
    """One value per ISO week, oldest first; None where nothing may be shown (a gap in the chart)."""

    weeks: tuple[str, ...]  # "2026-W47"
    engaged_rate: tuple[float | None, ...]  # 0..1
    usage_rate: tuple[float | None, ...]  # 0..1
    readiness: tuple[float | None, ...]  # 1..5
    active_rate: tuple[float | None, ...]  # 0..1, active in the four weeks ending with the week
    measured_rate: tuple[float | None, ...] = ()  # 0..1, active in the AI tools (their own reports)

    def __post_init__(self) -> None:
        lengths = {
            len(self.weeks),
            len(self.engaged_rate),
            len(self.usage_rate),
            len(self.readiness),
            len(self.active_rate),
        }
        if not self.measured_rate:
            object.__setattr__(self, "measured_rate", (None,) * len(self.weeks))
        lengths.add(len(self.measured_rate))
        if len(lengths) != 1:
            raise ValueError("every series needs one value per week")

    def values(self, key: str) -> tuple[float | None, ...]:
        series: tuple[float | None, ...] = getattr(self, key)
        return series

    @property
    def empty(self) -> bool:
        return not self.weeks or all(v is None for line in LINES for v in self.values(line.key))


def plot_data(series: TrendSeries) -> dict[str, list[float]]:
    """Exactly what is drawn: rates in percent, readiness as is, NaN (a gap) where a value is None."""

    def scaled(values: Sequence[float | None], factor: float) -> list[float]:
        return [math.nan if v is None else v * factor for v in values]

    return {line.key: scaled(series.values(line.key), 1.0 if line.right_axis else 100.0) for line in LINES}


def week_label(week: str) -> str:
    """ "2026-W07" -> "W07" (the year is in the title)."""
    return week.split("-")[-1]


@functools.cache
def _font_characters() -> frozenset[int]:
    """The characters the chart's font can draw (matplotlib's default sans-serif font)."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    return frozenset(
        FT2Font(font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))).get_charmap()
    )


def font_draws(*texts: str) -> bool:
    """Whether the chart's font has a glyph for every character of `texts` (it has none for Japanese:
    a chart for a Japanese reader is labelled in English rather than with empty boxes)."""
    covered = _font_characters()
    return all(ord(char) in covered for text in texts for char in text if not char.isspace())


def chart_labels() -> list[str]:
    """The chart's own words in the current language (to check that the font can draw them)."""
    return [_(line.label) for line in LINES] + [_("Share of people"), _("Readiness (1-5)"), _("ISO week")]


def render_trend(series: TrendSeries, *, title: str, note: str | None = None) -> bytes:
    """The chart as PNG bytes (1200 x 675 pixels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    data = plot_data(series)
    labels = [week_label(w) for w in series.weeks]
    positions = list(range(len(labels)))
    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    # Fixed margins (room for both axes' labels, the title and the legend): a layout engine would draw
    # the figure twice, and every digest run draws up to one chart per leader.
    figure.subplots_adjust(left=0.1, right=0.9, top=0.9, bottom=0.24)
    FigureCanvasAgg(figure)
    rates = figure.add_subplot()
    score = rates.twinx()
    for line in LINES:
        axis = score if line.right_axis else rates
        values = data[line.key]
        axis.plot(
            positions,
            values,
            label=_(line.label),
            color=line.colour,
            linestyle=line.style,
            marker=line.marker,
            markersize=6,
            linewidth=2.4,
        )
    rates.set_ylim(0, 105)
    rates.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    rates.set_ylabel(_("Share of people"), fontsize=11)
    score.set_ylim(1, 5.1)
    score.set_yticks([1, 2, 3, 4, 5])
    score.set_ylabel(_("Readiness (1-5)"), fontsize=11)
    _label_last_values(figure, rates, score, positions, data)
    rates.set_xticks(positions, labels)
    rates.set_xlim(-0.4, max(len(positions) - 0.4, 0.6))
    rates.tick_params(labelsize=11)
    score.tick_params(labelsize=11)
    rates.grid(axis="y", color="#DDDDDD", linewidth=0.8)
    rates.set_axisbelow(True)
    for axis in (rates, score):
        axis.spines["top"].set_visible(False)
    rates.set_title(title, fontsize=14, loc="left", fontweight="bold")
    rates.set_xlabel(_("ISO week") + (f" · {note}" if note else ""), fontsize=9.5, color="#555555")
    handles = rates.get_legend_handles_labels()[0] + score.get_legend_handles_labels()[0]
    figure.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.005),
        ncols=3,
        frameon=False,
        fontsize=10,
        columnspacing=1.2,
        handlelength=2.6,
    )
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def _label_last_values(
    figure: Figure, rates: Axes, score: Axes, positions: list[int], data: dict[str, list[float]]
) -> None:
    """Each line's latest value next to its last point, nudged apart so that no two labels overlap."""
    found = []
    for line in LINES:
        axis = score if line.right_axis else rates
        values = data[line.key]
        last = next((i for i in range(len(values) - 1, -1, -1) if not math.isnan(values[i])), None)
        if last is None:
            continue
        text = f"{values[last]:.2f}" if line.right_axis else f"{values[last]:.0f}%"
        height = float(axis.transData.transform((positions[last], values[last]))[1])
        found.append((height, axis, positions[last], values[last], text, line.colour))
    found.sort(key=lambda item: item[0])
    points_per_pixel = 72.0 / figure.dpi
    placed: list[float] = []
    for height, axis, x, y, text, colour in found:
        wanted = height + 4 / points_per_pixel
        if placed and wanted - placed[-1] < LABEL_GAP_PX:
            wanted = placed[-1] + LABEL_GAP_PX
        placed.append(wanted)
        axis.annotate(
            text,
            (x, y),
            xytext=(6, (wanted - height) * points_per_pixel),
            textcoords="offset points",
            color=colour,
            fontsize=11,
            fontweight="bold",
            va="bottom",
        )


# Matplotlib logs a warning while it builds its font cache on first use; that is not ours to show.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
