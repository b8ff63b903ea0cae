"""The `/adopt SUBCOMMAND` registry: name, one-line summary, usage, audience, handler.

The slash command itself is one Bolt listener (bot.slack.commands); it parses the text, finds
the subcommand here, checks the audience (a short ephemeral refusal otherwise: nothing is opened or sent),
opens the listener scope and calls the handler. `help` lists only what the asking person may use;
unknown subcommands get the help too.

Adding a subcommand: name it in the feature's listener module (`bot/<feature>/listeners.py`), whose
`SUBCOMMANDS` `bot.wiring` adds to the app (in the wiring's order, which is the order help lists them in):

    SUBCOMMANDS = (
        Subcommand(
            name="pause", summary=N_("Pause your nudges for a few weeks"), usage="pause [WEEKS]",
            audience="everyone", handler=pause,
        ),
    )

    def pause(inv: Invocation) -> None:
        weeks = parse_weeks(inv.args)                       # bad input: inv.ack(text=usage line); return
        until = nudges.pause(inv.scope.session, inv.scope.person, weeks=weeks)
        inv.ack(text=f"Paused until {until:%a %-d %b}.")   # the reply only this person sees

Handler contract:
- it runs inside the dispatcher's `listener_scope` (`inv.scope`: session, person, settings, library),
  which commits after the handler returns; register `inv.scope.after_commit(outbox.wake)` after enqueueing;
- it calls `inv.ack(...)` once: with `text=`/`blocks=` for an ephemeral answer, or empty before slow work;
  if it returns without acking, the dispatcher acks empty. An empty ack goes to Slack at once; an answer
  in a write scope goes once the scope has committed (so "paused until Friday" is never read before the
  pause is saved, and work that is rolled back is never reported; the error handler answers instead);
- an answer after the ack that reports what was saved goes through `inv.reply(text=...)`: it is sent
  (through the response_url) once the scope has committed, never for work that was rolled back.
  `inv.respond(...)` sends at once: only for answers that do not depend on the commit;
- modals: build the view, `inv.ack()`, then `inv.client.views_open(trigger_id=inv.trigger_id, view=view)`;
- `readonly=True` for subcommands that never write (on SQLite they then skip the write lock);
- `person=False` for subcommands that need no `Person` object, only who is acting (`inv.scope.can`,
  `inv.scope.principal`) and Core reads (`inv.scope.connection`): a light scope (bot.slack.scope).
Audience "leader" means team leaders *and* change managers (`digest` is for both).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.i18n import N_, current_language
from bot.i18n import gettext as _
from bot.permissions import AUDIENCES, Audience
from bot.slack.blocks import Block, context, section
from bot.slack.runtime import Runtime, runtime_of
from bot.slack.scope import Scope
from bot.slack.text import escape, truncate

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
HELP = "help"

_GROUP_TITLES = {
    "everyone": N_("What you can do"),
    "change_manager": N_("For change managers"),
    "leader": N_("For leaders and change managers"),
}


class AnswerAck:
    """`inv.ack`: an empty ack is given at once; an answer waits for `deliver()`, after the commit."""

    def __init__(self, ack: Ack, *, at_once: bool) -> None:
        self._ack = ack
        self._at_once = at_once
        self._answer: dict[str, Any] | None = None

    def __call__(self, text: str | None = None, blocks: list[Block] | None = None, **more: Any) -> None:
        if self.given:
            raise RuntimeError("a subcommand acks once")
        if self._at_once or not (text or blocks):
            self._ack(text=text or "", blocks=blocks, **more)
            return
        self._answer = {"text": text, "blocks": blocks, **more}

    @property
    def given(self) -> bool:
        return self._answer is not None or self._ack.response is not None

    def deliver(self) -> None:
        """Give the held answer (the dispatcher calls this once the scope has committed)."""
        answer, self._answer = self._answer, None
        if answer is not None:
            self._ack(**answer)


@dataclass
class Invocation:
    """One run of a subcommand: what was typed, who typed it, and how to answer."""

    name: str  # the subcommand as registered (lower case)
    args: str  # the rest of the text, stripped
    command: dict[str, Any]  # Slack's slash command payload
    scope: Scope
    ack: AnswerAck
    respond: Respond
    client: WebClient

    @property
    def user_id(self) -> str:
        return str(self.command["user_id"])

    @property
    def trigger_id(self) -> str:
        return str(self.command["trigger_id"])

    @property
    def channel_id(self) -> str | None:
        channel = self.command.get("channel_id")
        return str(channel) if channel else None

    @property
    def slash(self) -> str:
        """The slash command as configured, e.g. "/adopt"."""
        return self.scope.settings.command

    @property
    def acked(self) -> bool:
        return self.ack.given

    def reply(self, **message: Any) -> None:
        """An ephemeral answer through the response_url, sent after the subcommand's work is committed."""
        message.setdefault("response_type", "ephemeral")
        self.scope.after_commit(lambda: self.respond(**message))


Handler = Callable[[Invocation], None]


@dataclass(frozen=True)
class Subcommand:
    name: str
    summary: str  # one line, shown in help: mark it with N_() where it is written, help translates it
    usage: str  # without the slash command, e.g. "pause [WEEKS]"
    audience: Audience
    handler: Handler
    readonly: bool = False
    person: bool = True  # the handler uses `scope.person` (False: a light scope, see above)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"subcommand names are lower-case words, not {self.name!r}")
        if self.audience not in AUDIENCES:
            raise ValueError(f"unknown audience {self.audience!r}; expected one of {', '.join(AUDIENCES)}")


class Registry:
    """The subcommands of one app, in the order they were added (the order help lists them in)."""

    def __init__(self) -> None:
        self._entries: dict[str, Subcommand] = {}
        # (slash command, audiences the person belongs to, language) -> the help they get: the same for
        # everyone with the same rights and language, so it is built once (callers must not change it).
        self._help: dict[tuple[str, tuple[str, ...], str], tuple[str, list[Block]]] = {}

    def add(self, subcommand: Subcommand) -> None:
        if subcommand.name in self._entries:
            raise ValueError(f"subcommand {subcommand.name!r} is registered twice")
        self._entries[subcommand.name] = subcommand
        self._help.clear()

    def get(self, name: str) -> Subcommand | None:
        return self._entries.get(name.lower())

    def __iter__(self) -> Iterator[Subcommand]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def visible_to(self, scope: Scope) -> list[Subcommand]:
        return [s for s in self._entries.values() if scope.can(s.audience)]

    def help_for(self, scope: Scope, *, unknown: str | None = None) -> tuple[str, list[Block]]:
        """(text, blocks) of the help the acting person gets (see `help_message`)."""
        slash = scope.settings.command
        if unknown is not None:  # quotes what was typed: built each time
            return help_message(slash, self.visible_to(scope), unknown=unknown)
        audiences = tuple(a for a in AUDIENCES if scope.can(a))
        key = (slash, audiences, current_language())
        answer = self._help.get(key)
        if answer is None:
            entries = [s for s in self._entries.values() if s.audience in audiences]
            answer = self._help[key] = help_message(slash, entries)
        return answer


def registry(runtime: Runtime) -> Registry:
    """The subcommands of the runtime's app."""
    return runtime.shared("slack.subcommands", Registry)


def add(app: App, subcommand: Subcommand) -> None:
    """Add a subcommand to an app built by `build_app` (`bot.wiring` adds the features' own)."""
    registry(runtime_of(app)).add(subcommand)


def parse(text: str | None) -> tuple[str, str]:
    """`"pause 2"` -> ("pause", "2"); empty text -> ("help", "")."""
    parts = (text or "").strip().split(None, 1)
    if not parts:
        return HELP, ""
    return parts[0].lower(), parts[1].strip() if len(parts) > 1 else ""


def help_message(
    slash: str, entries: list[Subcommand], *, unknown: str | None = None
) -> tuple[str, list[Block]]:
    """(text, blocks) of the help a person gets: only the subcommands they may use, grouped by audience."""
    blocks: list[Block] = []
    if unknown is not None:
        typed = escape(truncate(f"{slash} {unknown}", 80))
        blocks.append(section(_("I don't know `{typed}`. Here is what I do know:").format(typed=typed)))
    else:
        blocks.append(section(_("*Adoptbot* helps you make AI part of your everyday work.")))
    for audience in AUDIENCES:
        group = [e for e in entries if e.audience == audience]
        if group:
            lines = "\n".join(f"`{slash} {escape(e.usage)}`  {escape(_(e.summary))}" for e in group)
            blocks.append(section(f"*{_(_GROUP_TITLES[audience])}*\n{lines}"))
    blocks.append(context(_("Your profile and progress are in my *Home* tab.")))
    text = f"{slash} help: " + ", ".join(e.name for e in entries)
    return text, blocks
