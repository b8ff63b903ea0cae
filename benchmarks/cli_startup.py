"""CLI startup benchmark: how long `adoptbot` takes before it does anything, against a bare Python.

    .venv/bin/python benchmarks/cli_startup.py              # 11 runs of each
    .venv/bin/python benchmarks/cli_startup.py --runs 21

Four commands, each run `--runs` times as a subprocess (after one warm-up run, so the files are in the
page cache and Python's bytecode cache is written), in interleaved rounds so that a machine whose speed
drifts (a shared virtual machine) slows every row alike; median wall time:

- `python -c pass`: the floor, the interpreter's own start;
- `python -c "import sqlalchemy.orm"`: the floor of any command that opens the database (SQLAlchemy's own
  import, before any of Adoptbot's code);
- `adoptbot --help`: parsing arguments (every command's parser is built, no command runs);
- `adoptbot metrics --db sqlite:///<tmp>/small.db`: a real command on a small database (2 teams, 20
  people, 2 weeks, made first with `adoptbot demo`): the imports it needs, the schema check and the query.

Goals: `--help` <= 0.3 s and `metrics` <= 0.6 s. Exit 1 if a goal is missed. The ratio to `python -c pass`
is printed too: it is what stays comparable across machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_HELP_SECONDS = 0.3
GOAL_METRICS_SECONDS = 0.6


def adoptbot() -> list[str]:
    """The `adoptbot` script of this interpreter's environment (else `python -m bot`)."""
    script = Path(sys.executable).parent / "adoptbot"
    if script.exists():
        return [str(script)]
    found = shutil.which("adoptbot")
    return [found] if found else [sys.executable, "-m", "bot"]


def once(command: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - began


def medians(commands: list[list[str]], runs: int, env: dict[str, str]) -> list[float]:
    """Median seconds of each command: a warm-up of each, then `runs` rounds of one run of each."""
    for command in commands:
        once(command, env)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(runs):
        for i, command in enumerate(commands):
            times[i].append(once(command, env))
    return [statistics.median(t) for t in times]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=11, help="runs of each command (default 11)")
    args = parser.parse_args()

    # A clean environment for adoptbot: no DATABASE_URL or Slack settings from the caller's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "OPENAI_", "ADOPTBOT_"))}
    env.pop("DATABASE_URL", None)
    # As on a user's machine: Python keeps compiled bytecode, so only the first (warm-up) run compiles.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="adoptbot-startup-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'small.db'}"
        subprocess.run(
            [*adoptbot(), "demo", "--db", db, "--teams", "2", "--members", "20", "--weeks", "2"],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=tmp,
        )
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], None),
            ("python -c 'import sqlalchemy.orm'", [sys.executable, "-c", "import sqlalchemy.orm"], None),
            ("adoptbot --help", [*adoptbot(), "--help"], GOAL_HELP_SECONDS),
            ("adoptbot metrics --db <small>", [*adoptbot(), "metrics", "--db", db], GOAL_METRICS_SECONDS),
        ]
        seconds = medians([command for _, command, _ in rows], args.runs, env)
        results = [(label, s, goal) for (label, _, goal), s in zip(rows, seconds, strict=True)]

    floor = results[0][1]
    print(f"median of {args.runs} runs (after one warm-up), on {os.cpu_count()} CPUs")
    print(f"{'command':<36} {'seconds':>8} {'x python':>9} {'goal':>7}")
    missed = False
    for label, seconds, goal in results:
        verdict = ""
        if goal is not None:
            verdict = f"<= {goal:.1f}" + ("" if seconds <= goal else "  MISSED")
            missed = missed or seconds > goal
        print(f"{label:<36} {seconds:>8.3f} {seconds / floor:>8.1f}x {verdict:>7}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
