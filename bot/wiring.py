"""The wiring: the one place that names Adoptbot's features and plugs each of them in.

Nothing registers itself when imported. What a feature contributes is listed here, explicitly and in
order, and registered by three calls:

- `wire()`, once per process (by `bot.cli.main`; tests call it too): the scheduled jobs
  (`bot.jobs.register_job`, run in the order of `JOBS`), the outbox's `on_sent` hooks (`OUTBOX_HOOKS`)
  and the demo's steps and report sections (`DEMO_STEPS`, `DEMO_SECTIONS`). It imports no feature: each
  entry is a `Lazy` reference, its module imported when it first runs, so wiring a process costs nothing
  (`adoptbot metrics` does not load the nudges).
- `register_listeners(app)`, once per Bolt app (`bot.slack.app.build_app(..., listeners=...)`): every
  feature's Bolt listeners, in the order Bolt should try them, then its `/adopt` subcommands (the order
  `/adopt help` lists them in) and its App Home sections (placed by their `order`).
- `add_commands(subparsers)`, once per `adoptbot` run (`bot.cli.build_parser`): the CLI commands, in
  `adoptbot --help` order. Command modules import their services inside their handlers, so parsing
  arguments loads neither SQLAlchemy nor Bolt.

Adding a feature: write its modules (service, listeners, cli, ...) against the core, `bot.slack` and
`bot.outbox`, then add one line per contribution below. Features never import this module; only the
entry point (`bot.cli`) does.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from slack_bolt import App


FEATURES: Final = (
    "people",
    "nudges",
    "wins",
    "pulses",
    "broadcasts",
    "digest",
    "metrics",
    "usage",
    "forget",
    "outbox",
    "demo",
)


class Lazy:
    """A function named by its module and attribute, imported when first called.

    Once called, it carries the function's docstring (the demo prints a step's first line as its label).
    """

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name
        self.__name__ = name

    def resolve(self) -> Callable[..., Any]:
        target: Callable[..., Any] = getattr(importlib.import_module(self.module), self.name)
        self.__doc__ = target.__doc__
        return target

    def __call__(self, *args: Any) -> Any:
        return self.resolve()(*args)

    def __repr__(self) -> str:
        return f"Lazy({self.module}:{self.name})"


# --- scheduled jobs, in the order a tick runs them ------------------------------------------------------
# Housekeeping first; pulses close before they open, so a weekly survey's next run opens in the same tick
# that closes the last one.
JOBS: Final[tuple[tuple[str, Lazy], ...]] = (
    ("housekeeping.events", Lazy("bot.jobs", "forget_processed_events")),
    ("housekeeping.outbox", Lazy("bot.jobs", "release_stale_claims")),
    ("housekeeping.pace", Lazy("bot.jobs", "prune_channel_paces")),
    ("broadcasts.send", Lazy("bot.broadcasts.service", "send_job")),
    ("broadcasts.progress", Lazy("bot.broadcasts.service", "progress_job")),
    ("broadcasts.remind", Lazy("bot.broadcasts.service", "remind_job")),
    ("pulses.close", Lazy("bot.pulses.service", "close_job")),
    ("pulses.open", Lazy("bot.pulses.service", "open_job")),
    ("pulses.remind", Lazy("bot.pulses.service", "remind_job")),
    ("wins.recognition", Lazy("bot.wins.service", "recognition_job")),
    ("digest", Lazy("bot.digest.delivery", "run_job")),
    ("nudges", Lazy("bot.nudges.service", "send_due_nudges")),
    ("pulses.confirm", Lazy("bot.pulses.confirm", "confirm_job")),
)

# --- outbox hooks: run in the transaction that marks a message of that kind sent -------------------------
OUTBOX_HOOKS: Final[tuple[tuple[str, Lazy], ...]] = (
    ("nudge", Lazy("bot.nudges.service", "mark_sent")),
    ("win_share", Lazy("bot.wins.service", "mark_shared")),
    ("broadcast", Lazy("bot.broadcasts.status", "on_delivered")),
)

# --- `adoptbot demo`: seeding steps (the organisation first), then the report's sections ----------------
DEMO_STEPS: Final[tuple[Lazy, ...]] = (
    Lazy("bot.demo.org", "seed_organisation"),
    Lazy("bot.demo.nudges", "nudge_history"),
    Lazy("bot.demo.pulses", "pulse_history"),
    Lazy("bot.demo.usage", "usage_history"),
    Lazy("bot.demo.wins", "win_history"),  # from the usage the reports show
)
DEMO_SECTIONS: Final[tuple[tuple[str, Lazy], ...]] = (
    ("Teams", Lazy("bot.demo.org", "team_summary")),
    ("Nudges", Lazy("bot.demo.nudges", "nudge_summary")),
    ("Usage reports", Lazy("bot.demo.usage", "usage_section")),
    ("Metrics, last complete week", Lazy("bot.demo.pulses", "metrics_table")),
    ("Weekly digest (org-wide, last complete week)", Lazy("bot.demo.digest", "digest_section")),
)


def wire() -> None:
    """Register the jobs, the outbox hooks and the demo's steps in this process (again: no change).

    It fills the plain containers of `bot.registry`: no feature, job runner or outbox is imported here.
    """
    from bot import registry

    for name, job in JOBS:
        registry.add_job(name, job)
    for kind, hook in OUTBOX_HOOKS:
        registry.add_on_sent(kind, hook)
    for step in DEMO_STEPS:
        registry.add_demo_step(registry.DEMO_STEPS, step)
    for title, render in DEMO_SECTIONS:
        registry.add_demo_section(registry.DEMO_SECTIONS, title, render)


def register_listeners(app: App) -> None:
    """Every feature's Bolt listeners, `/adopt` subcommands and App Home sections, on an app built by
    `bot.slack.app.build_app`."""
    from bot.broadcasts import listeners as broadcasts
    from bot.dashboard import web as dashboard
    from bot.digest import listeners as digest
    from bot.nudges import listeners as nudges
    from bot.people import events as people_events
    from bot.people import listeners as people
    from bot.pulses import listeners as pulses
    from bot.scim import web as scim
    from bot.slack import commands, errors, home, subcommands
    from bot.slack.runtime import runtime_of
    from bot.wins import listeners as wins

    # Bolt listeners, in the order Bolt tries them.
    errors.register(app)
    commands.register(app)  # `/adopt` itself: one listener that dispatches the subcommands below
    people.register(app)
    home.register(app)  # app_home_opened: renders the sections below
    people_events.register(app)
    nudges.register(app)
    wins.register(app)
    pulses.register(app)
    broadcasts.register(app)
    digest.register(app)
    dashboard.register(app)  # the web dashboard under /dashboard (not a Bolt listener: a mount)
    scim.register(app)  # SCIM provisioning under /scim/v2 (a mount too)

    runtime = runtime_of(app)
    registry, sections = subcommands.registry(runtime), home.sections(runtime)
    for subcommand in (
        *commands.SUBCOMMANDS,  # help
        *people.SUBCOMMANDS,
        *nudges.SUBCOMMANDS,
        *wins.SUBCOMMANDS,
        *pulses.SUBCOMMANDS,
        *broadcasts.SUBCOMMANDS,
        *digest.SUBCOMMANDS,
    ):
        registry.add(subcommand)
    for section in (
        *people.HOME_SECTIONS,
        *nudges.HOME_SECTIONS,
        *wins.HOME_SECTIONS,
        *broadcasts.HOME_SECTIONS,
        *digest.HOME_SECTIONS,
    ):
        sections.add(section)


def add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Every `adoptbot` command, in `--help` order (their modules are light to import: bot.cli.context)."""
    from bot.cli import content, db, outbox, serve, tick
    from bot.demo import cli as demo
    from bot.digest import cli as digest
    from bot.forget import cli as forget
    from bot.metrics import cli as metrics
    from bot.people import cli as people
    from bot.pulses import cli as pulses
    from bot.usage import cli as usage

    for module in (demo, db, people, usage, content, metrics, digest, pulses, forget, tick, outbox, serve):
        module.register(subparsers)
