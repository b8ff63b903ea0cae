"""What the content library holds, as a change manager reads it before launch: one summary line, and the
coverage tables (nudges per role by level and ADKAR stage, weeks of content per role at the configured
pace, tool tracks, translations). Shown by `adoptbot content check` and the dashboard's Content page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.content import Library


def summary(library: Library) -> str:
    """One line on what the library holds: "Content OK: 10 roles, 74 nudges, 1 survey (...), 4 holidays."."""
    surveys = "; ".join(f"{s.id}, {count(len(s.questions), 'question')}" for s in library.surveys.values())
    parts = [
        count(len(library.roles), "role"),
        count(len(library.nudges), "nudge"),
        f"{count(len(library.surveys), 'survey')} ({surveys})",
        count(len(library.holidays), "holiday"),
    ]
    return f"Content OK: {', '.join(parts)}."


STAGE_COLUMNS = (
    ("awareness", "A"),
    ("desire", "D"),
    ("knowledge", "K"),
    ("ability", "Ab"),
    ("reinforcement", "R"),
)


@dataclass(frozen=True)
class Coverage:
    """The launch tables, as rows of cells: per role, per tool track, per translation."""

    roles: tuple[list[str], list[list[str]]]
    tools: tuple[list[str], list[list[str]]]
    translations: tuple[list[str], list[list[str]]]


def coverage_tables(library: Library, per_week: int) -> Coverage:
    """Per role its own nudges by level and stage, what a person in it can receive (their role's and
    everyone's; tool-specific ones only with a licence for that tool) and for how many weeks that lasts at
    `per_week` nudges a week; the tool tracks; the translated share per language."""
    from bot.content_locales import gaps

    rows: list[list[str]] = []
    header = [
        "role",
        "L1",
        "L2",
        "L3",
        *(short for _, short in STAGE_COLUMNS),
        "own",
        "reach",
        "weeks",
        "+tools",
    ]
    groups = [(role.id, [n for n in library.nudges if role.id in n.roles]) for role in library.roles.values()]
    groups.append(("everyone", [n for n in library.nudges if n.roles == ("*",)]))
    for name, own in groups:
        counts = [sum(n.level == level for n in own) for level in (1, 2, 3)]
        counts += [sum(n.stage == stage for n in own) for stage, _ in STAGE_COLUMNS]
        row = [name, *(str(c) for c in counts), str(len(own))]
        if name == "everyone":
            row += ["", "", ""]
        else:
            reachable = library.nudges_for(name)
            neutral = sum(not n.tools for n in reachable)
            row += [str(neutral), _weeks(neutral, per_week), _weeks(len(reachable), per_week)]
        rows.append(row)
    tool_rows = []
    for tool in library.tools.values():
        track = [n for n in library.nudges if tool.id in n.tools]
        tool_rows.append(
            [tool.id, *(str(sum(n.level == lv for n in track)) for lv in (1, 2, 3)), str(len(track))]
        )
    locale_rows = []
    for lang in sorted(library.translations):
        gap = gaps(library, lang)
        locale_rows.append(
            [
                lang,
                f"{_done(gap.nudges - gap.nudges_missing - gap.nudges_partial, gap.nudges)} "
                f"({gap.nudge_share:.0%})",
                _done(gap.surveys - gap.surveys_missing - gap.surveys_partial, gap.surveys),
                _done(gap.roles - gap.roles_missing, gap.roles),
                _done(gap.actions - gap.actions_missing, gap.actions),
            ]
        )
    return Coverage(
        roles=(header, rows),
        tools=(["tool", "L1", "L2", "L3", "total"], tool_rows),
        translations=(["lang", "nudges", "surveys", "roles", "actions"], locale_rows),
    )


def coverage(library: Library, per_week: int) -> str:
    """The launch tables as `content check --coverage` prints them."""
    tables = coverage_tables(library, per_week)
    pace = f"{count(per_week, 'nudge')} a week (ADOPTBOT_NUDGES_PER_WEEK)"
    lines = [
        "Nudges per role: its own, by level and ADKAR stage (A D K Ab R). reach: the tool-neutral nudges",
        "someone in the role can receive (their role's and everyone's); weeks: how long those last at",
        f"{pace}; +tools: weeks for someone licensed for every tool.",
        "",
        *_table(*tables.roles),
    ]
    lines += ["", "Tool tracks (nudges that name the tool; level 1 = its first steps):", ""]
    if tables.tools[1]:
        lines += _table(*tables.tools)
    else:
        lines.append("  no tools.toml: every nudge is tool-neutral")
    lines += ["", "Translations (what is translated; the rest is shown in English):", ""]
    if tables.translations[1]:
        lines += _table(*tables.translations)
    else:
        lines.append("  none (add locales/<lang>/, see content/README.md)")
    return "\n".join(lines)


def _weeks(nudges: int, per_week: int) -> str:
    return str(nudges // per_week) if per_week > 0 else "-"


def _done(done: int, total: int) -> str:
    return f"{done}/{total}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  " + "  ".join([first, *rest]).rstrip()

    return [line(header), *(line(r) for r in rows)]


def count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
