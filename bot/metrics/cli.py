"""`adoptbot metrics [--week YYYY-Www] [--team NAME] [--tool ID] [--format table|csv|json]`."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from bot.cli.context import add_db_option, add_week_option, week_monday

if TYPE_CHECKING:
    from bot.cli.context import Context


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "metrics",
        help="per-team adoption metrics for an ISO week",
        description=(
            "Per-team adoption metrics for an ISO week (default: the last complete week in "
            "ADOPTBOT_TIMEZONE), one row per team plus '*' for the whole organisation. Survey figures of "
            "groups smaller than ADOPTBOT_MIN_GROUP_SIZE are hidden."
        ),
    )
    add_week_option(parser)
    parser.add_argument("--team", metavar="NAME", action="append", help="only this team (repeatable)")
    parser.add_argument(
        "--tool",
        metavar="ID",
        help="measured figures (licensed, active, idle) for this AI tool only (an id from tools.toml)",
    )
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    add_db_option(parser)
    parser.set_defaults(handler=metrics)


def metrics(args: argparse.Namespace, ctx: Context) -> int:
    from bot.db import session_scope
    from bot.errors import UsageError
    from bot.metrics.format import to_csv, to_json, to_table
    from bot.metrics.service import compute_metrics

    monday = week_monday(args.week, ctx.settings)
    if args.tool is not None and args.tool not in ctx.library.tools:
        known = ", ".join(sorted(ctx.library.tools)) or "none: the content library has no tools.toml"
        raise UsageError(f"unknown tool {args.tool!r}; tool ids: {known}.")
    with session_scope(ctx.existing_engine(), readonly=True) as session:
        rows = compute_metrics(
            session, week_monday=monday, settings=ctx.settings, team_names=args.team, tool=args.tool
        )
    if args.format == "json":
        sys.stdout.write(to_json(rows) + "\n")
    elif args.format == "csv":
        sys.stdout.write(to_csv(rows))
    else:
        sys.stdout.write(to_table(rows, min_group_size=ctx.settings.min_group_size, tool=args.tool))
    return 0
