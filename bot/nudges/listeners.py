"""Nudge buttons, `/adopt pause [WEEKS]`, `/adopt resume`, `/adopt me`, and the "Your AI nudges" Home section.

Thin: ack, parse, one service call (bot.nudges.service), render with bot.nudges.blocks. A click
changes the DM through the outbox (`chat.update`, queued by the service in the same transaction), so a
second instance or a retry can never update a message twice or out of order.

"Share a win" opens the wins feature's modal (the same one `/adopt win` opens).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.i18n import N_, ngettext
from bot.i18n import gettext as _
from bot.nudges import blocks
from bot.nudges import service as nudges
from bot.slack import home, ids
from bot.slack.blocks import Block
from bot.slack.scope import listener_scope
from bot.slack.subcommands import Invocation, Subcommand
from bot.usage.signals import WINDOW_WEEKS
from bot.wins.listeners import win_view

log = logging.getLogger(__name__)

_ACTIONS = {
    ids.NUDGE_TRIED: "tried",
    ids.NUDGE_NOT_FOR_ME: "not_for_me",
    ids.NUDGE_LATER: "later",
    ids.NUDGE_HELPFUL: "helpful",
    ids.NUDGE_NOT_HELPFUL: "not_helpful",
}
NOT_ON_ROSTER = N_("I don't have you on the roster yet. Pick your role and team first: `{command} role`.")


def _clicked(body: dict[str, Any]) -> dict[str, Any]:
    found = body.get("actions") or [{}]
    return found[0] if isinstance(found[0], dict) else {}


def on_choice(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Tried it / Not for me / Remind me later / helpful / not helpful on a nudge DM."""
    ack()
    clicked = _clicked(body)
    action = _ACTIONS.get(str(clicked.get("action_id")))
    parsed = blocks.parse_button_value(str(clicked.get("value") or ""))
    user_id = str((body.get("user") or {}).get("id") or context.user_id or "")
    if action is None or parsed is None or not user_id:
        log.warning("ignoring a nudge click without a usable action or value: %r", clicked)
        return
    delivery_id, slot = parsed
    with listener_scope(context) as scope:
        result = nudges.record_click(
            scope.session,
            scope.library,
            delivery_id=delivery_id,
            slot=slot,
            slack_user_id=user_id,
            action=action,
            now=utcnow(),
        )
    if result is None:
        log.warning("nudge click by %s on delivery %s that is not theirs", user_id, delivery_id)


def on_share_win(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """ "Share a win" on a nudge (or on the "done them all" note): the wins feature's modal."""
    ack()
    with listener_scope(context, readonly=True) as scope:
        view = win_view(scope)
    client.views_open(trigger_id=str(body["trigger_id"]), view=view)


# --- /adopt pause, resume, me ----------------------------------------------------------------------------


def pause_command(inv: Invocation) -> None:
    person = inv.scope.person
    if person is None:
        inv.ack(text=_(NOT_ON_ROSTER).format(command=inv.slash), response_type="ephemeral")
        return
    weeks = nudges.parse_pause_weeks(inv.args)
    if weeks is None:
        most, usual = nudges.PAUSE_WEEKS_MAX, nudges.PAUSE_WEEKS_DEFAULT
        usage = _("Usage: `{command} pause [WEEKS]`, with WEEKS from 1 to {most} (default {usual}).").format(
            command=inv.slash, most=most, usual=usual
        )
        inv.ack(text=usage, response_type="ephemeral")
        return
    until = nudges.pause(inv.scope.session, person, inv.scope.settings, weeks)
    inv.ack(
        text=ngettext(
            "⏸ Nudges paused for {weeks} week: they resume on {day}. `{command} resume` brings them back "
            "sooner.",
            "⏸ Nudges paused for {weeks} weeks: they resume on {day}. `{command} resume` brings them back "
            "sooner.",
            weeks,
        ).format(weeks=weeks, day=blocks.long_date(until), command=inv.slash),
        response_type="ephemeral",
    )


def resume_command(inv: Invocation) -> None:
    person = inv.scope.person
    if person is None:
        inv.ack(text=_(NOT_ON_ROSTER).format(command=inv.slash), response_type="ephemeral")
        return
    was_paused = nudges.resume(inv.scope.session, person, inv.scope.settings)
    text = (
        _("▶️ Nudges are back on: see you at your next one.")
        if was_paused
        else _("Your nudges weren't paused.")
    )
    inv.ack(text=text, response_type="ephemeral")


def me_command(inv: Invocation) -> None:
    person = inv.scope.person
    if person is None:
        inv.ack(text=_(NOT_ON_ROSTER).format(command=inv.slash), response_type="ephemeral")
        return
    view = nudges.progress(inv.scope.session, person, inv.scope.settings, library=inv.scope.library)
    inv.ack(
        text=blocks.progress_text(view),
        blocks=blocks.progress_blocks(view, command=inv.slash),
        response_type="ephemeral",
    )


# --- App Home ---------------------------------------------------------------------------------------------


def home_section(session: Session, viewer: home.HomeViewer) -> list[Block]:
    person = viewer.person
    if person is None or not person.is_active or not person.role:
        return []
    view = nudges.progress(session, person, viewer.settings, viewer.now, viewer.library)
    chosen_by = nudges.targeting(session, person, viewer.settings, viewer.library, viewer.now)
    return blocks.home_blocks(view, chosen_by, weeks=WINDOW_WEEKS)


def on_home_pause(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _home_control(ack, body, context, client, pause=True)


def on_home_resume(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    _home_control(ack, body, context, client, pause=False)


def _home_control(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, *, pause: bool
) -> None:
    ack()
    user_id = str((body.get("user") or {}).get("id") or context.user_id or "")
    with listener_scope(context) as scope:
        if scope.person is None:
            return
        if pause:
            nudges.pause(scope.session, scope.person, scope.settings, nudges.PAUSE_WEEKS_DEFAULT)
        else:
            nudges.resume(scope.session, scope.person, scope.settings)
        view = home.render_home(scope)
    home.publish(client, user_id, view)


# The subcommands and Home sections this module answers; bot.wiring adds them to the app.
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        name="pause",
        summary=N_("Pause your nudges for a few weeks (default 2)"),
        usage="pause [WEEKS]",
        audience="everyone",
        handler=pause_command,
    ),
    Subcommand(
        name="resume",
        summary=N_("Resume your nudges"),
        usage="resume",
        audience="everyone",
        handler=resume_command,
    ),
    Subcommand(
        name="me",
        summary=N_("Your progress: level, nudges tried, streak"),
        usage="me",
        audience="everyone",
        handler=me_command,
        readonly=True,
    ),
)
HOME_SECTIONS: tuple[home.HomeSection, ...] = (home.HomeSection(name="nudges", build=home_section, order=10),)


def register(app: App) -> None:
    """The Bolt listeners (bot.wiring calls this once per app)."""
    for action_id in _ACTIONS:
        app.action(action_id)(on_choice)
    app.action(ids.NUDGE_SHARE_WIN)(on_share_win)
    app.action(ids.NUDGE_PAUSE)(on_home_pause)
    app.action(ids.NUDGE_RESUME)(on_home_resume)
