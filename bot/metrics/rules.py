"""The two rules every metric follows: exact rounding, and which groups may show a figure (k and the
complementary rule, docs/privacy.md)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from fractions import Fraction

from bot.metrics.sql import TeamKey


def round_half_up(value: Fraction, places: int) -> float:
    """Round an exact fraction half away from zero (no binary-float surprises such as 2.675 -> 2.67)."""
    return _round_ratio(value.numerator, value.denominator, places)


def ratio(numerator: int, denominator: int, places: int) -> float | None:
    """numerator / denominator rounded half up, or None when the denominator is 0."""
    return _round_ratio(numerator, denominator, places) if denominator else None


def _round_ratio(numerator: int, denominator: int, places: int) -> float:
    """n / d rounded half away from zero to `places` decimals, in integers: floor(|n/d| * 10^p + 1/2) is
    (2 |n| 10^p + |d|) // (2 |d|); the quotient by 10^p is the float nearest that exact decimal."""
    scale: int = 10**places
    magnitude = (2 * abs(numerator) * scale + abs(denominator)) // (2 * abs(denominator))
    negative = (numerator < 0) != (denominator < 0)
    return (-magnitude if negative else magnitude) / scale


def visible_groups(
    counts: Mapping[TeamKey, int],
    team_ids: Iterable[int],
    names: Mapping[int, str],
    k: int,
    *,
    eligible: Collection[int] | None = None,
) -> tuple[set[int], bool]:
    """Which teams may show a figure, and whether the `*` row may.

    `counts` gives, per group (None = people without a team), the people behind the figure; `eligible`
    (default: every team) limits the teams that may show it at all. A team needs at least k people; then,
    while the hidden groups add up to 1..k-1 people (which `*` minus the shown teams would describe), the
    smallest shown team is hidden too. `*` needs k people in all.
    """
    shown = {team for team in team_ids if counts.get(team, 0) >= k and (eligible is None or team in eligible)}
    hidden_total = sum(n for team, n in counts.items() if team not in shown)
    while 0 < hidden_total < k and shown:
        smallest = min(shown, key=lambda team: (counts.get(team, 0), names.get(team, ""), team))
        shown.remove(smallest)
        hidden_total += counts.get(smallest, 0)
    return shown, sum(counts.values()) >= k
