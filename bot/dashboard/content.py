"""`/content`: the content library as a catalogue (filter by role, level, ADKAR stage, tool; search the
words), the coverage tables `content check --coverage` prints, and a fresh `content check` of the library
folder as it is on disk now (so an edit is checked before the next restart picks it up). For change
managers and leaders: it is what their people are taught."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, render_template, request

from bot.content import ContentError, Library, Nudge, bundled_content_dir, load_library
from bot.content_coverage import STAGE_COLUMNS, coverage_tables, summary
from bot.content_locales import gaps
from bot.dashboard.access import sees_teams
from bot.slack.runtime import Runtime

SHOWN = 100


@dataclass(frozen=True)
class Check:
    ok: bool
    summary: str
    problems: list[str]
    translations: list[str]


def check_folder(runtime: Runtime) -> Check:
    """`content check` of the library folder now (not the copy this process loaded at start)."""
    folder = runtime.settings.content_dir or bundled_content_dir()
    try:
        library = load_library(folder)
    except ContentError as error:
        return Check(False, f"{len(error.errors)} problem(s) in {folder}", list(error.errors), [])
    return Check(
        True, summary(library), [], [gaps(library, lang).summary() for lang in sorted(library.translations)]
    )


def _matches(nudge: Nudge, args: dict[str, str]) -> bool:
    role, level, stage, tool, words = (args.get(k, "") for k in ("role", "level", "stage", "tool", "q"))
    if role and not nudge.applies_to(role):
        return False
    if level.isdigit() and nudge.level != int(level):
        return False
    if stage and nudge.stage != stage:
        return False
    if tool == "any" and nudge.tools:
        return False
    if tool and tool != "any" and tool not in nudge.tools:
        return False
    if words:
        text = " ".join([nudge.id, nudge.title, nudge.body, nudge.try_it or ""]).casefold()
        return all(word in text for word in words.casefold().split())
    return True


def register(app: Flask, runtime: Runtime) -> None:
    library: Library = runtime.library

    @app.get("/content")
    def content_page() -> str:
        sees_teams()
        args = {k: request.args.get(k, "").strip() for k in ("role", "level", "stage", "tool", "q")}
        order = {stage: i for i, (stage, _) in enumerate(STAGE_COLUMNS)}
        ordered = sorted(library.nudges, key=lambda n: (n.level, order.get(n.stage, 9), n.source, n.id))
        found = [n for n in ordered if _matches(n, args)]
        return render_template(
            "content.html",
            nudges=found[:SHOWN],
            total=len(found),
            shown=SHOWN,
            args=args,
            roles=sorted(library.roles.values(), key=lambda r: r.name.casefold()),
            stages=[stage for stage, _ in STAGE_COLUMNS],
            tools=list(library.tools.values()),
            roles_of=lambda n: (
                "everyone"
                if "*" in n.roles
                else ", ".join(library.roles[r].name if r in library.roles else r for r in n.roles)
            ),
            tools_of=lambda n: ", ".join(library.tools[t].name if t in library.tools else t for t in n.tools),
            coverage=coverage_tables(library, runtime.settings.nudges_per_week),
            per_week=runtime.settings.nudges_per_week,
            check=check_folder(runtime),
        )
