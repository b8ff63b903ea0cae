"""`adoptbot demo`: a synthetic organisation with history, offline (no Slack, no OpenAI)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.context import add_db_option
from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.cli.context import Context

DEFAULT_OUT = "adoptbot-demo"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="build a synthetic organisation with history (offline)",
        description="Build a believable synthetic organisation (teams, people, roles, time zones, "
        "leaders, change managers) with weeks of history, in a fresh SQLite file DIR/adoptbot.db, and print "
        "a summary. The AI tools' weekly usage reports are written to DIR/usage-reports in each vendor's "
        "format and imported from there; the leaders' digest of the last complete week is written as "
        "DIR/digest.json, digest.png and metrics.csv. Needs no Slack and no OpenAI; the same seed gives the "
        "same organisation. With --db it seeds that (empty) database instead, e.g. PostgreSQL for a "
        "benchmark.",
    )
    demo.add_argument("--teams", type=int, default=6, metavar="N", help="number of teams (default: 6)")
    demo.add_argument("--members", type=int, default=120, metavar="N", help="number of people (default: 120)")
    demo.add_argument("--weeks", type=int, default=8, metavar="N", help="weeks of history (default: 8)")
    demo.add_argument("--seed", type=int, default=42, metavar="N", help="random seed (default: 42)")
    demo.add_argument(
        "--out", metavar="DIR", help=f"folder for the demo database and files (default: ./{DEFAULT_OUT})"
    )
    add_db_option(demo)
    demo.set_defaults(handler=run)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from bot.db import create_db_engine
    from bot.demo.service import DemoOptions, run_demo
    from bot.migrate import upgrade

    options = DemoOptions(teams=args.teams, members=args.members, weeks=args.weeks, seed=args.seed)
    options.check()
    library = ctx.library
    out_dir = Path(args.out) if args.out else (None if args.db else Path(DEFAULT_OUT))
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise UsageError(f"--out {out_dir} is a file, not a folder.")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            reason = error.strerror or error
            raise UsageError(f"--out {out_dir}: cannot create that folder ({reason}).") from None

    began = time.perf_counter()

    def progress(message: str) -> None:
        print(f"demo: {message}", file=sys.stderr, flush=True)

    if args.db:
        where = "the database given with --db"
        engine = ctx.engine()
        sections = run_demo(engine, ctx.settings, library, options, out_dir=out_dir, progress=progress)
    else:
        assert out_dir is not None
        db_path = out_dir / "adoptbot.db"
        for stale in (db_path, *(db_path.with_name(db_path.name + s) for s in ("-wal", "-shm", "-journal"))):
            stale.unlink(missing_ok=True)
        where = str(db_path)
        # An engine of our own, disposed at the end: a cached one could still point at a deleted file.
        engine = create_db_engine(f"sqlite:///{db_path.resolve()}")
        try:
            upgrade(engine)
            sections = run_demo(engine, ctx.settings, library, options, out_dir=out_dir, progress=progress)
        finally:
            engine.dispose()

    print(
        f"Adoptbot demo: {options.teams} teams, {options.members:,} people, {options.weeks} weeks of history "
        f"(seed {options.seed}), in {where}."
    )
    for title, text in sections:
        print(f"\n{title}\n{'=' * len(title)}\n{text}")
    if not args.db:
        print(f"\nExplore it: adoptbot roster teams --db sqlite:///{where}")
    print(f"Done in {time.perf_counter() - began:.1f} s.")
    return 0
