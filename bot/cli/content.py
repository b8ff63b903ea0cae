"""`adoptbot content check [DIR]`: validate the content library, listing every problem with file and entry."""

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
        description="Validate the content library (roles, nudges, pulse surveys, calendar, actions). "
        "Every problem is listed with its file and entry; exit code 2 when there is any.",
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
    try:
        library = load_library(folder)
    except ContentError as error:
        shown = _display(folder)
        for problem in error.errors:
            print(f"{shown}/{problem}", file=sys.stderr)
        print(f"adoptbot: {_count(len(error.errors), 'problem')} found in {shown}/", file=sys.stderr)
        return error.exit_code
    print(summary(library))
    return 0


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


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _display(folder: Path) -> str:
    """The folder as a person would type it: relative to the working folder when inside it."""
    try:
        shown = folder.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return str(folder)
    return str(shown) if str(shown) != "." else "."
