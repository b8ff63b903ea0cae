"""The starter library lasts a programme: whatever their role, a person gets a fresh nudge at every slot
for at least 26 weeks at the default pace (52 nudges at 2 a week), as the nudge service chooses them.

A simulated person of each role, with no usage facts (tool-specific nudges are not theirs), is given
`nudges_per_week` nudges a week by `choose_nudge`, moving up a level as the service does: one who tries
every nudge (up after `TRIED_TO_LEVEL_UP` tried nudges of their level) and one who tries none (up only when
their level has nothing left). Every nudge they get must be one they have never had.
"""

from __future__ import annotations

from dataclasses import fields

import pytest

from bot.config import Settings
from bot.content import Library, load_library
from bot.nudges.service import STARTER_LEVEL, TRIED_TO_LEVEL_UP, choose_nudge
from bot.usage.signals import NO_SIGNAL

WEEKS = 26
DEFAULT_PACE = next(f.default for f in fields(Settings) if f.name == "nudges_per_week")
LIBRARY = load_library()


def fresh_weeks(library: Library, role: str, *, tries: bool, barrier: str | None) -> tuple[int, list[str]]:
    """Whole weeks (up to WEEKS) in which every slot brought a nudge, and the nudges given, in order."""
    candidates = library.nudges_for(role)
    top = max(n.level for n in candidates)
    given: list[str] = []
    level = STARTER_LEVEL
    for week in range(WEEKS):
        for _ in range(DEFAULT_PACE):
            chosen = choose_nudge(candidates, set(given), level, barrier, NO_SIGNAL)
            if chosen is None:
                return week, given
            nudge, level = chosen
            given.append(nudge.id)
            tried_here = sum(1 for n in candidates if n.id in given and n.level == level)
            if tries and level < top and tried_here >= TRIED_TO_LEVEL_UP:
                level += 1
    return WEEKS, given


def test_the_default_pace_is_two_nudges_a_week() -> None:
    assert DEFAULT_PACE == 2


@pytest.mark.parametrize("role", sorted(LIBRARY.roles))
@pytest.mark.parametrize(("tries", "barrier"), [(True, None), (False, None), (True, "ability")])
def test_every_role_gets_fresh_nudges_for_26_weeks(role: str, tries: bool, barrier: str | None) -> None:
    weeks, given = fresh_weeks(LIBRARY, role, tries=tries, barrier=barrier)
    assert len(given) == len(set(given))  # never the same nudge twice
    assert weeks >= WEEKS, (
        f"{role}: fresh nudges for {weeks} weeks only ({len(given)} nudges at {DEFAULT_PACE} a week); "
        f"{WEEKS} weeks need {WEEKS * DEFAULT_PACE}"
    )
    assert len(given) == WEEKS * DEFAULT_PACE
    assert {n.level for n in LIBRARY.nudges if n.id in given} == {1, 2, 3}  # the whole journey
