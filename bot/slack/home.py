"""App Home: published on `app_home_opened`, and again whenever something it shows changes.

The tab is a list of sections. Each feature names its own in its listener module, and `bot.wiring` adds
them to the app:

    HOME_SECTIONS = (home.HomeSection(name="wins", order=30, build=wins_home_section),)

    def wins_home_section(session: Session, viewer: home.HomeViewer) -> list[Block]:
        mine = wins.of_person(session, viewer.person)          # a Slack-free service call
        return wins_blocks.home_section(mine)                  # a pure builder in bot.wins.blocks

`order`: the profile is 0; everyone's sections 10..90 (nudges 10, progress 20, wins 30, ...); sections for
change managers and leaders (`audience="change_manager"` / `"leader"`) from 100. A section returns [] to
stay hidden. `home_view` leaves out any section that would pass Slack's 100 blocks, so keep each one
short (a summary and a button; details belong in a modal or a DM).

To refresh someone's Home after a change (e.g. after they saved their role), build the view inside the
listener's scope, `view = render_home(scope)`, and after the `with` block `publish(client, user_id, view)`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.config import Settings
from bot.content import Library
from bot.models import Person
from bot.permissions import AUDIENCES, Audience, is_change_manager, is_leader
from bot.slack.blocks import Block
from bot.slack.home_blocks import home_view
from bot.slack.runtime import Runtime, runtime_of
from bot.slack.scope import Scope, listener_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HomeViewer:
    """Who is looking at the Home tab, and what they may see."""

    user_id: str
    person: Person | None  # attached to the scope's session
    is_change_manager: bool
    is_leader: bool
    settings: Settings
    library: Library
    now: datetime  # naive UTC

    def sees(self, audience: str) -> bool:
        if audience == "change_manager":
            return self.is_change_manager
        if audience == "leader":
            return self.is_leader or self.is_change_manager
        return True


SectionBuilder = Callable[[Session, HomeViewer], list[Block]]


@dataclass(frozen=True)
class HomeSection:
    name: str
    build: SectionBuilder
    order: int = 50
    audience: Audience = "everyone"

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown audience {self.audience!r}")


class HomeSections:
    """The Home sections of one app."""

    def __init__(self) -> None:
        self._sections: dict[str, HomeSection] = {}

    def add(self, section: HomeSection) -> None:
        if section.name in self._sections:
            raise ValueError(f"Home section {section.name!r} is registered twice")
        self._sections[section.name] = section

    def __iter__(self) -> Iterator[HomeSection]:
        return iter(sorted(self._sections.values(), key=lambda s: (s.order, s.name)))


def sections(runtime: Runtime) -> HomeSections:
    """The Home sections of the runtime's app."""
    return runtime.shared("slack.home_sections", HomeSections)


def add_section(app: App, section: HomeSection) -> None:
    """Add a section to the Home tab of an app built by `build_app` (`bot.wiring` adds the features')."""
    sections(runtime_of(app)).add(section)


def render_home(scope: Scope) -> dict[str, Any]:
    """The acting person's Home view, built inside the listener's scope (publish it after the scope)."""
    if not scope.user_id:
        raise ValueError("render_home needs a request made by a person")
    viewer = HomeViewer(
        user_id=scope.user_id,
        person=scope.person,
        is_change_manager=is_change_manager(scope.person, scope.settings, user_id=scope.user_id),
        is_leader=is_leader(scope.person, leads_a_team=scope.leads_a_team),
        settings=scope.settings,
        library=scope.library,
        now=utcnow(),
    )
    built = [s.build(scope.session, viewer) for s in sections(scope.runtime) if viewer.sees(s.audience)]
    return home_view(built)


def publish(client: WebClient, user_id: str, view: dict[str, Any]) -> None:
    client.views_publish(user_id=user_id, view=view)


def on_app_home_opened(event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    with listener_scope(context, readonly=True) as scope:
        view = render_home(scope)
    publish(client, str(event["user"]), view)


def register(app: App) -> None:
    """The App Home listener (sections come from the features, added by bot.wiring)."""
    app.event("app_home_opened")(on_app_home_opened)
