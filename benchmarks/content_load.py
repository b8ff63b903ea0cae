"""Benchmark: load and check a large content library with translations, as `adoptbot content check` does.

    .venv/bin/python benchmarks/content_load.py [--nudges 2000] [--runs 5]

Writes, in a temporary folder, a library of `--nudges` nudges (10 role files and everyone.toml, bodies of
about 600 characters with a link, try-it prompts with placeholders), the ADKAR pulse and the roles, in six
languages: the default English files and complete translations in locales/de, fr, es, ja and pt-BR (every
nudge, the survey, the role names). One run = `load_library` (reading and checking every file, every
translation against its English entry) plus the per-language summary `content check` prints. Prints the
median of `--runs` runs and its ratio to the goal of 1 s; exit 1 if the goal is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.content import ADKAR_STAGES, bundled_content_dir, load_library  # noqa: E402
from bot.content_locales import LANGUAGES, gaps  # noqa: E402

GOAL_SECONDS = 1.0
ROLES = ("sales", "engineering", "support", "marketing", "finance", "hr", "product", "operations", "legal")
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")


def _quoted(text: str) -> str:
    return '"""' + text.replace("\\", "\\\\").replace('"""', '\\"""') + '"""'


def _body(number: int, lang: str) -> str:
    words = (
        f"[{lang}] Nudge {number}: a concrete task for this week, with the check step and the safe-use rule. "
    )
    return (
        words * 5
        + "\n• Open your approved assistant."
        + f"\n• Read <https://intranet.example.com/ai/{number}|the guide {lang}>."
        + "\n_Leave out personal data._"
    )


def _try_it(number: int, lang: str) -> str:
    return (
        f"[{lang}] Rewrite this for a [audience] in under [number] words, keep every figure: [paste] {number}"
    )


def _options(options: tuple[str, ...], lang: str) -> str:
    return "options = [" + ", ".join(f'"{option} ({lang})"' for option in options) + "]\n"


def write_library(folder: Path, nudges: int) -> None:
    (folder / "nudges").mkdir(parents=True)
    (folder / "pulses").mkdir()
    roles = "".join(f'[roles.{role}]\nname = "{role.title()}"\n\n' for role in ROLES)
    (folder / "roles.toml").write_text(roles, encoding="utf-8")
    pulse = (bundled_content_dir() / "pulses" / "adkar.toml").read_text(encoding="utf-8")
    (folder / "pulses" / "adkar.toml").write_text(pulse, encoding="utf-8")
    files = [*ROLES, "everyone"]
    entries: dict[str, list[tuple[int, str]]] = {name: [] for name in files}
    for number in range(nudges):
        entries[files[number % len(files)]].append((number, files[number % len(files)]))
    for name, items in entries.items():
        text = "".join(
            f'[[nudge]]\nid = "{name}-{number}"\nroles = ["{"*" if name == "everyone" else name}"]\n'
            f'level = {1 + number % 3}\nstage = "{ADKAR_STAGES[number % 5]}"\n'
            f'title = "Nudge {number} for {name}"\nbody = {_quoted(_body(number, "en"))}\n'
            f"try_it = {_quoted(_try_it(number, 'en'))}\nminutes = {5 + number % 10}\n\n"
            for number, _ in items
        )
        (folder / "nudges" / f"{name}.toml").write_text(text, encoding="utf-8")
    survey = load_library(bundled_content_dir()).surveys["adkar"]
    for lang in TRANSLATED:
        base = folder / "locales" / lang
        (base / "nudges").mkdir(parents=True)
        (base / "pulses").mkdir()
        (base / "roles.toml").write_text(
            "".join(f'[roles.{role}]\nname = "{role.title()} ({lang})"\n\n' for role in ROLES),
            encoding="utf-8",
        )
        questions = "".join(
            f'[[question]]\nid = "{q.id}"\ntext = "{q.text} ({lang})"\n'
            + (_options(q.options, lang) if q.kind != "text" else "")
            + "\n"
            for q in survey.questions
        )
        (base / "pulses" / "adkar.toml").write_text(
            f'id = "adkar"\ntitle = "Pulse ({lang})"\n\n{questions}', encoding="utf-8"
        )
        for name, items in entries.items():
            text = "".join(
                f'[[nudge]]\nid = "{name}-{number}"\ntitle = "Nudge {number} ({lang})"\n'
                f"body = {_quoted(_body(number, lang))}\ntry_it = {_quoted(_try_it(number, lang))}\n\n"
                for number, _ in items
            )
            (base / "nudges" / f"{name}.toml").write_text(text, encoding="utf-8")


def check(folder: Path) -> float:
    started = time.perf_counter()
    library = load_library(folder)
    summaries = [gaps(library, lang).summary() for lang in sorted(library.translations)]
    elapsed = time.perf_counter() - started
    assert summaries == [f"{lang}: complete" for lang in sorted(TRANSLATED)], summaries
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nudges", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp) / "content"
        write_library(folder, args.nudges)
        size = sum(p.stat().st_size for p in folder.rglob("*.toml")) / 1e6
        check(folder)  # warm-up: bytecode and page cache
        times = [check(folder) for _ in range(args.runs)]
    median = statistics.median(times)
    print(
        f"content library of {args.nudges:,} nudges in {len(TRANSLATED) + 1} languages "
        f"({size:.1f} MB of TOML): load and check, median of {args.runs}: {median:.3f} s "
        f"({median / GOAL_SECONDS:.2f}x the {GOAL_SECONDS:g} s goal)"
    )
    return 0 if median <= GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
