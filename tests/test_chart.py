"""The digest's trend chart: a real PNG, at Slack's preview proportions, drawing exactly the given series."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from matplotlib.image import imread

from bot.digest.chart import (
    DPI,
    HEIGHT_IN,
    LINES,
    OKABE_ITO,
    WIDTH_IN,
    TrendSeries,
    plot_data,
    render_trend,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WEEKS = tuple(f"2026-W{n:02d}" for n in range(40, 48))


def series(**overrides: tuple[float | None, ...]) -> TrendSeries:
    values: dict[str, tuple[float | None, ...]] = {
        "engaged_rate": (0.2, 0.35, 0.41, 0.5, 0.55, 0.61, 0.7, 0.74),
        "usage_rate": (0.3, 0.3, 0.35, 0.35, 0.5, 0.5, 0.6, 0.66),
        "readiness": (2.5, 2.5, 2.6, 2.6, 2.8, 2.8, 3.0, 3.1),
        "active_rate": (0.3, 0.45, 0.52, 0.6, 0.66, 0.7, 0.78, 0.8),
        "measured_rate": (None, None, 0.1, 0.18, 0.25, 0.31, 0.38, 0.42),
    }
    values.update(overrides)
    return TrendSeries(
        WEEKS,
        values["engaged_rate"],
        values["usage_rate"],
        values["readiness"],
        values["active_rate"],
        values["measured_rate"],
    )


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(imread(io.BytesIO(png), format="png"))


def count_colour(image: np.ndarray, hex_colour: str, tolerance: float = 0.06) -> int:
    """Pixels within `tolerance` (per channel, 0..1) of a colour."""
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int(np.all(np.abs(image[:, :, :3] - rgb) <= tolerance, axis=2).sum())


def test_the_chart_is_a_png_sized_for_slacks_preview() -> None:
    png = render_trend(series(), title="AI adoption trend, 2026-W40 to 2026-W47", note="Gaps: hidden")

    assert png.startswith(PNG_SIGNATURE)
    image = pixels(png)
    assert image.shape[:2] == (round(HEIGHT_IN * DPI), round(WIDTH_IN * DPI)) == (675, 1200)
    assert abs(image.shape[1] / image.shape[0] - 16 / 9) < 0.01  # Slack previews at about 800 x 450
    for line in LINES:  # each series is drawn, in its Okabe-Ito colour
        assert count_colour(image, line.colour) > 500, line.key


def test_the_lines_use_colour_blind_safe_colours_and_differ_in_shape_too() -> None:
    assert {line.colour for line in LINES} <= set(OKABE_ITO.values())
    assert len({line.colour for line in LINES}) == len(LINES)
    assert len({line.style for line in LINES}) == len({line.marker for line in LINES}) == len(LINES)


def test_plot_data_is_percent_for_rates_and_a_gap_where_nothing_may_be_shown() -> None:
    data = plot_data(series(usage_rate=(None, None, 0.35, 0.35, None, 0.5, 0.6, 0.66), readiness=(None,) * 8))

    assert set(data) == {"engaged_rate", "active_rate", "usage_rate", "readiness", "measured_rate"}
    # Weeks that no usage report covers are gaps in the measured line, not zeros.
    assert [math.isnan(v) for v in data["measured_rate"]] == [True, True] + [False] * 6
    assert data["engaged_rate"] == pytest.approx([20, 35, 41, 50, 55, 61, 70, 74])
    usage = data["usage_rate"]
    assert [math.isnan(v) for v in usage] == [True, True, False, False, True, False, False, False]
    assert usage[2] == pytest.approx(35) and usage[-1] == pytest.approx(66)
    assert all(math.isnan(v) for v in data["readiness"])  # suppressed weeks are gaps, never a value


def test_hidden_weeks_draw_nothing_for_that_line() -> None:
    full = pixels(render_trend(series(), title="t"))
    gaps = pixels(render_trend(series(usage_rate=(None,) * 8), title="t"))
    orange = OKABE_ITO["orange"]

    # Only the legend's sample of the line is left: far fewer orange pixels than with the line drawn.
    assert count_colour(gaps, orange) < count_colour(full, orange) / 4
    assert count_colour(gaps, OKABE_ITO["blue"]) > 500


def test_every_series_needs_one_value_per_week() -> None:
    with pytest.raises(ValueError, match="one value per week"):
        TrendSeries(WEEKS, (0.1,), (0.2,) * 8, (3.0,) * 8, (0.3,) * 8)
    assert TrendSeries((), (), (), (), ()).empty
    nothing = (None,) * 8
    assert series(
        engaged_rate=nothing,
        usage_rate=nothing,
        readiness=nothing,
        active_rate=nothing,
        measured_rate=nothing,
    ).empty
    assert not series(engaged_rate=nothing, usage_rate=nothing, readiness=nothing, active_rate=nothing).empty
    assert not series().empty
