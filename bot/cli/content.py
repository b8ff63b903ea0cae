"""`adoptbot content check [DIR] [--strict] [--coverage]`: validate the content library, listing every
problem with file and entry; summarise what each translation leaves out; and, with `--coverage`, the table
a change manager reads before launch (nudges per role, level and stage, tool tracks, translations, weeks of
content per role at the configured pace)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.content_coverage import count as _count
from bot.content_coverage import coverage, summary
from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.cli.context import Context


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


def _display(folder: Path) -> str:
    """The folder as a person would type it: relative to the working folder when inside it."""
    try:
        shown = folder.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(folder)
    return str(shown) if str(shown) != "." else "."
