"""The slash command (`/adopt` by default, ADOPTBOT_COMMAND): one listener that dispatches subcommands.

The features' subcommands are added by `bot.wiring` (see bot.slack.subcommands); this module names only
`help`. Dispatch: parse -> find -> check the audience -> open the listener scope ->
run the handler -> ack empty if the handler did not. Someone who may not use a subcommand gets a one-line
ephemeral refusal, and nothing else happens.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.i18n import N_
from bot.permissions import refusal_text
from bot.slack import subcommands
from bot.slack.runtime import runtime_from, runtime_of
from bot.slack.scope import listener_scope
from bot.slack.subcommands import HELP, AnswerAck, Invocation, Subcommand


def show_help(inv: Invocation) -> None:
    text, blocks = subcommands.registry(inv.scope.runtime).help_for(inv.scope)
    inv.ack(text=text, blocks=blocks, response_type="ephemeral")


def dispatch(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    runtime = runtime_from(context)
    name, args = subcommands.parse(command.get("text"))
    entry = subcommands.registry(runtime).get(name)
    readonly = entry.readonly if entry is not None else True
    person = entry.person if entry is not None else False  # unknown subcommands get the help
    answer = AnswerAck(ack, at_once=readonly)
    with listener_scope(context, readonly=readonly, person=person) as scope:
        if entry is None:
            text, blocks = subcommands.registry(runtime).help_for(scope, unknown=name)
            ack(text=text, blocks=blocks, response_type="ephemeral")
            return
        if not scope.can(entry.audience):
            ack(
                text=refusal_text(entry.audience, f"`{runtime.settings.command} {entry.name}`"),
                response_type="ephemeral",
            )
            return
        inv = Invocation(
            name=entry.name,
            args=args,
            command=command,
            scope=scope,
            ack=answer,
            respond=respond,
            client=client,
        )
        entry.handler(inv)
    answer.deliver()  # the scope has committed: what the answer reports is saved
    if not answer.given:
        ack()


# The subcommands this module answers; bot.wiring adds them to the app.
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        name=HELP,
        summary=N_("Show what you can do with Adoptbot"),
        usage=HELP,
        audience="everyone",
        handler=show_help,
        readonly=True,
        person=False,  # who may use what is all it needs: a light scope
    ),
)


def register(app: App) -> None:
    """The Bolt listeners (bot.wiring calls this once per app)."""
    app.command(runtime_of(app).settings.command)(dispatch)
