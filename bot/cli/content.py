"""`adoptbot content check [DIR] [--strict] [--coverage]`: validate the content library, listing every
problem with file and entry; summarise what each translation leaves out; and, with `--coverage`, the table
a change manager reads before launch (nudges per role, level and stage, tool tracks, translations, weeks of
content per role at the configured pace)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.cli.context import Context
    from bot.content import Library


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    content = subparsers.add_parser(
        "content", help="work with the content library", description="Work with the content library."
    )
    actions = content.add_subparsers(dest="content_command", metavar="ACTION")
    actions.required = True
    check_parser = actions.add_parser(
        "check",
        help="validate the content library",
        description="Validate the content library (roles, nudges, pulse surveys, calendar, actions, "
        "translations in locales/<lang>/). Every problem is listed with its file and entry; exit code 2 "
        "when there is any. Untranslated texts fall back to English and are summarised per language.",
    )
    check_parser.add_argument(
        "--strict",
        action="store_true",
        help="treat every untranslated text in a locales/<lang>/ folder as a problem (exit code 2)",
    )
    check_parser.add_argument(
        "--coverage",
        action="store_true",
        help="also print nudges per role, level and ADKAR stage, tool tracks, translations, and how many "
        "weeks of fresh nudges each role has at ADOPTBOT_NUDGES_PER_WEEK",
    )
    check_parser.add_argument(
        "dir",
        nargs="?",
        type=Path,
        metavar="DIR",
        help="library folder (default: CONTENT_DIR, else the bundled starter library)",
    )
    check_parser.set_defaults(handler=check)


def check(args: argparse.Namespace, ctx: Context) -> int:
    from bot.content import ContentError, bundled_content_dir, load_library

    folder: Path = args.dir or ctx.settings.content_dir or bundled_content_dir()
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise UsageError(f"content library folder {folder} {what}.")
    from bot.content_locales import gaps

    shown = _display(folder)
    try:
        library = load_library(folder)
    except ContentError as error:
        return _report(shown, error.errors, error.exit_code)
    found = [gaps(library, lang) for lang in sorted(library.translations)]
    if args.strict and any(not gap.complete for gap in found):
        return _report(shown, [line for gap in found for line in gap.details], 2)
    print(summary(library))
    if found:
        print("Translations (an untranslated text is shown in English; --strict makes it a problem):")
        for gap in found:
            print(f"  {gap.summary()}")
    if args.coverage:
        print()
        print(coverage(library, ctx.settings.nudges_per_week))
    return 0


def _report(shown: str, problems: list[str], exit_code: int) -> int:
    for problem in problems:
        print(f"{shown}/{problem}", file=sys.stderr)
    print(f"adoptbot: {_count(len(problems), 'problem')} found in {shown}/", file=sys.stderr)
    return exit_code


def summary(library: Library) -> str:
    """One line on what the library holds: "Content OK: 10 roles, 74 nudges, 1 survey (...), 4 holidays."."""
    surveys = "; ".join(f"{s.id}, {_count(len(s.questions), 'question')}" for s in library.surveys.values())
    parts = [
        _count(len(library.roles), "role"),
        _count(len(library.nudges), "nudge"),
        f"{_count(len(library.surveys), 'survey')} ({surveys})",
        _count(len(library.holidays), "holiday"),
    ]
    return f"Content OK: {', '.join(parts)}."


STAGE_COLUMNS = (
    ("awareness", "A"),
    ("desire", "D"),
    ("knowledge", "K"),
    ("ability", "Ab"),
    ("reinforcement", "R"),
)


def coverage(library: Library, per_week: int) -> str:
    """The launch table: per role its own nudges by level and stage, what a person in it can receive
    (their role's and everyone's; tool-specific ones only with a licence for that tool) and for how many
    weeks that lasts at `per_week` nudges a week; the tool tracks; the translated share per language."""
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
    pace = f"{_count(per_week, 'nudge')} a week (ADOPTBOT_NUDGES_PER_WEEK)"
    lines = [
        "Nudges per role: its own, by level and ADKAR stage (A D K Ab R). reach: the tool-neutral nudges",
        "someone in the role can receive (their role's and everyone's); weeks: how long those last at",
        f"{pace}; +tools: weeks for someone licensed for every tool.",
        "",
        *_table(header, rows),
    ]
    tool_rows = []
    for tool in library.tools.values():
        track = [n for n in library.nudges if tool.id in n.tools]
        tool_rows.append(
            [tool.id, *(str(sum(n.level == lv for n in track)) for lv in (1, 2, 3)), str(len(track))]
        )
    lines += ["", "Tool tracks (nudges that name the tool; level 1 = its first steps):", ""]
    if tool_rows:
        lines += _table(["tool", "L1", "L2", "L3", "total"], tool_rows)
    else:
        lines.append("  no tools.toml: every nudge is tool-neutral")
    lines += ["", "Translations (what is translated; the rest is shown in English):", ""]
    if library.translations:
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
        lines += _table(["lang", "nudges", "surveys", "roles", "actions"], locale_rows)
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


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _display(folder: Path) -> str:
    """The folder as a person would type it: relative to the working folder when inside it."""
    try:
        shown = folder.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(folder)
    return str(shown) if str(shown) != "." else "."
