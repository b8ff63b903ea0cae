"""`/adopt broadcast` (change managers): the composer modal, the preview's Send / Edit / Cancel, the
recipients' "Got it", and the scheduled broadcasts in the change manager's App Home (with Cancel).

Thin: parse -> one service call (bot.broadcasts.service) -> answer. Everything sent to Slack as a
message goes through the outbox; only views (the modal, the Home tab) and ephemeral answers are direct.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.broadcasts import blocks
from bot.broadcasts import service as broadcasts
from bot.clock import utcnow
from bot.i18n import N_, locale_of, use_language
from bot.i18n import gettext as _
from bot.models import Broadcast, BroadcastStatus
from bot.people.listeners import on_team_options
from bot.people.profile import role_choices, team_choices
from bot.permissions import refusal_text
from bot.slack import home, ids
from bot.slack.blocks import Block
from bot.slack.scope import Scope, listener_scope
from bot.slack.subcommands import Invocation, Subcommand

log = logging.getLogger(__name__)

CLOSED = N_("That broadcast was already sent or cancelled, so there is nothing to change.")


def _composer(
    scope: Scope, values: blocks.ComposerValues, *, broadcast_id: int | None, tz: str
) -> dict[str, Any]:
    metadata = json.dumps({"id": broadcast_id, "tz": tz}, separators=(",", ":"))
    return blocks.composer_modal(
        values,
        teams=team_choices(scope.session),
        roles=role_choices(scope.library),
        timezone=tz,
        private_metadata=metadata,
    )


def open_composer(inv: Invocation) -> None:
    """`/adopt broadcast` opens the composer; `/adopt broadcast status [ID]` answers with figures."""
    words = inv.args.split()
    if words and words[0].lower() == "status":
        _status(inv, words[1:])
        return
    if words:
        usage = _(
            "Usage: `{command} broadcast` to write one, `{command} broadcast status [ID]` for figures."
        ).format(command=inv.slash)
        inv.ack(text=usage, response_type="ephemeral")
        return
    tz = broadcasts.sender_timezone(inv.scope.person, inv.scope.settings)
    view = _composer(inv.scope, blocks.ComposerValues(), broadcast_id=None, tz=tz)
    inv.ack()
    inv.client.views_open(trigger_id=inv.trigger_id, view=view)


def _status(inv: Invocation, words: list[str]) -> None:
    session, command = inv.scope.session, inv.slash
    if not words:
        tz = broadcasts.sender_timezone(inv.scope.person, inv.scope.settings)
        scheduled, recent, _more = broadcasts.home_items(session, timezone=tz, recent_limit=5)
        listing = blocks.status_list_blocks(scheduled, recent, command=command)
        inv.ack(text=_("Broadcasts"), blocks=listing, response_type="ephemeral")
        return
    wanted = words[0].lstrip("#")
    valid = wanted.isdigit() and len(wanted) < 10
    report = broadcasts.ack_report(session, int(wanted)) if valid else None
    if report is None:
        missing = blocks.excerpt(wanted, 20)
        text = _("There is no sent broadcast #{id}. Try `{command} broadcast status`.").format(
            id=missing, command=command
        )
        inv.ack(text=text, response_type="ephemeral")
        return
    shown = blocks.ack_report_blocks(report)
    inv.ack(text=blocks.status_text(report.progress), blocks=shown, response_type="ephemeral")


def _metadata(view: dict[str, Any]) -> tuple[int | None, str | None]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    broadcast_id, tz = data.get("id"), data.get("tz")
    return (broadcast_id if isinstance(broadcast_id, int) else None), (tz if isinstance(tz, str) else None)


def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Validate (answers inline, the modal stays open) and save the draft, which queues the preview DM.

    The ack comes after the commit, so the modal only closes once the draft and its preview are saved."""
    user_id = str((body.get("user") or {}).get("id") or context.user_id)
    broadcast_id, tz = _metadata(view)
    values = blocks.values_from_state(view.get("state", {}).get("values", {}))
    answer: dict[str, Any] = {}
    with listener_scope(context) as scope:
        if not scope.can("change_manager"):
            refusal = refusal_text("change_manager", f"`{scope.settings.command} broadcast`")
            answer = {"response_action": "errors", "errors": {ids.BROADCAST_MESSAGE_BLOCK: refusal}}
        else:
            timezone = tz or broadcasts.sender_timezone(scope.person, scope.settings)
            try:
                draft = broadcasts.check_draft(
                    scope.session, values, library=scope.library, timezone=timezone, now=utcnow()
                )
                if not scope.first_submission(view):
                    ack()  # a replayed request: the draft and its preview exist already
                    return
                broadcasts.save_draft(
                    scope.session,
                    draft,
                    sender=scope.person,
                    sender_user=user_id,
                    timezone=timezone,
                    library=scope.library,
                    broadcast_id=broadcast_id,
                )
            except broadcasts.DraftInvalid as error:
                answer = {"response_action": "errors", "errors": blocks.field_errors(error.errors)}
            except broadcasts.BroadcastClosed as error:
                answer = {"response_action": "errors", "errors": {ids.BROADCAST_MESSAGE_BLOCK: str(error)}}
    ack(**answer)


def _broadcast_id(body: dict[str, Any]) -> int | None:
    value = str(((body.get("actions") or [{}])[0]).get("value") or "")
    return int(value) if value.isdigit() else None


def _tell(respond: Respond | None, text: str) -> None:
    if respond is not None:
        respond(text=text, response_type="ephemeral", replace_original=False)


def _allowed(scope: Scope, respond: Respond | None) -> bool:
    if scope.can("change_manager"):
        return True
    _tell(respond, refusal_text("change_manager", _("sending broadcasts")))
    return False


def on_send(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond | None = None) -> None:
    """Send (or Schedule) on the preview. Acked first: fanning out to thousands takes a moment."""
    ack()
    broadcast_id = _broadcast_id(body)
    if broadcast_id is None:
        return
    with listener_scope(context) as scope:
        if not _allowed(scope, respond):
            return
        with use_language(locale_of(None, None, scope.settings)):  # people without a language get the org's
            sent = broadcasts.confirm(scope.session, broadcast_id, now=utcnow(), library=scope.library)
    if sent is None:
        with use_language(scope.language):
            _tell(respond, _(CLOSED))


def on_edit(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond | None = None
) -> None:
    ack()
    broadcast_id = _broadcast_id(body)
    if broadcast_id is None:
        return
    view = None
    with listener_scope(context, readonly=True) as scope:
        if not _allowed(scope, respond):
            return
        found = scope.session.get(Broadcast, broadcast_id)
        if found is not None and found.status == BroadcastStatus.DRAFT:
            tz = found.timezone or broadcasts.sender_timezone(scope.person, scope.settings)
            view = _composer(scope, broadcasts.composer_values(found), broadcast_id=found.id, tz=tz)
    if view is None:
        with use_language(scope.language):
            _tell(respond, _(CLOSED))
        return
    client.views_open(trigger_id=str(body["trigger_id"]), view=view)


def on_cancel(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond | None = None
) -> None:
    """Cancel, from the preview DM or from App Home's list of scheduled broadcasts."""
    ack()
    broadcast_id = _broadcast_id(body)
    if broadcast_id is None:
        return
    from_home = (body.get("view") or {}).get("type") == "home"
    home_view = None
    with listener_scope(context) as scope:
        if not _allowed(scope, respond):
            return
        cancelled = broadcasts.cancel(scope.session, broadcast_id, now=utcnow(), library=scope.library)
        if from_home:
            home_view = home.render_home(scope)
    if home_view is not None and context.user_id:
        home.publish(client, context.user_id, home_view)
    elif not cancelled:
        with use_language(scope.language):
            _tell(
                respond,
                _("Too late to cancel: that broadcast is already being sent (or was cancelled before)."),
            )


def on_got_it(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """A recipient's "Got it": recorded once; the message turns into "✓ Acknowledged" in place."""
    ack()
    broadcast_id = _broadcast_id(body)
    if broadcast_id is None:
        return
    with listener_scope(context) as scope:
        broadcasts.acknowledge(
            scope.session,
            broadcast_id=broadcast_id,
            person=scope.person,
            now=utcnow(),
            settings=scope.settings,
        )


def home_section(session: Session, viewer: home.HomeViewer) -> list[Block]:
    tz = broadcasts.sender_timezone(viewer.person, viewer.settings)
    scheduled, recent, more = broadcasts.home_items(session, timezone=tz)
    return blocks.home_section(scheduled, recent, more_scheduled=more, command=viewer.settings.command)


# The subcommands and Home sections this module answers; bot.wiring adds them to the app.
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        name="broadcast",
        summary=N_("Write a message to everyone, or to chosen teams and roles"),
        usage="broadcast [status [ID]]",
        audience="change_manager",
        handler=open_composer,
        readonly=True,
    ),
)
HOME_SECTIONS: tuple[home.HomeSection, ...] = (
    home.HomeSection(name="broadcasts", build=home_section, order=100, audience="change_manager"),
)


def register(app: App) -> None:
    """The Bolt listeners (bot.wiring calls this once per app)."""
    app.view(ids.BROADCAST_MODAL)(on_submit)
    app.action(ids.BROADCAST_SEND)(on_send)
    app.action(ids.BROADCAST_EDIT)(on_edit)
    app.action(ids.BROADCAST_CANCEL)(on_cancel)
    app.action(ids.BROADCAST_GOT_IT)(on_got_it)
    app.options(ids.BROADCAST_TEAMS_SELECT)(on_team_options)
