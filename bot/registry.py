"""What `bot.wiring.wire()` registers when a process starts: the scheduled jobs, the outbox's `on_sent`
hooks, and the demo's steps and report sections.

Plain containers that import nothing, so wiring a process loads no feature and no database code
(`adoptbot metrics` starts without the outbox, the job runner or the demo). The code that runs them reads
them from here: `bot.jobs`, `bot.outbox.store`, `bot.demo.service`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

Fn = Callable[..., Any]


class Section(NamedTuple):
    """A section of the demo's printed report: a title and `render(ctx) -> str`."""

    title: str
    render: Fn


JOBS: dict[str, Fn] = {}  # run in the order they were first added
ON_SENT: dict[str, list[Fn]] = {}  # outbox message kind -> hooks
DEMO_STEPS: list[Fn] = []
DEMO_SECTIONS: list[Section] = []


def add_job(name: str, fn: Fn) -> None:
    """Add a job, or replace the one with this name (keeping its place)."""
    JOBS[name] = fn


def add_on_sent(kind: str, hook: Fn) -> None:
    hooks = ON_SENT.setdefault(kind, [])
    if hook not in hooks:
        hooks.append(hook)


def add_demo_step(steps: list[Fn], step: Fn) -> None:
    if step not in steps:
        steps.append(step)


def add_demo_section(sections: list[Section], title: str, render: Fn) -> None:
    if all(section.render is not render for section in sections):
        sections.append(Section(title, render))
