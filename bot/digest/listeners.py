"""The digest in Slack: `/adopt digest [TEAM]` (a private preview), and the App Home dashboards for
leaders (their teams' latest figures, a link to the latest digest, a preview button) and change managers
(the programme at a glance).

Thin: parse, one service call (`bot.digest.delivery`), render (`bot.digest.blocks`).
Composing reads only; the AI parts (comment themes, the narrative) run afterwards in a short session of
their own (`digest.polish`), so a slow model never holds a database write lock.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.clock import local_label, utcnow
from bot.db import session_scope
from bot.digest import blocks
from bot.digest import delivery as digest_delivery
from bot.digest import service as digest_service
from bot.digest.delivery import DigestRefused
from bot.digest.types import Digest
from bot.i18n import N_, use_language
from bot.i18n import gettext as _
from bot.permissions import is_change_manager
from bot.slack import home, ids
from bot.slack.blocks import Block, modal, section
from bot.slack.runtime import Runtime, runtime_from
from bot.slack.scope import Scope, listener_scope
from bot.slack.subcommands import Invocation, Subcommand
from bot.slack.text import escape, truncate

log = logging.getLogger(__name__)

MODAL_TITLE = N_("Weekly digest")


def refusal(refused: DigestRefused, slash: str, asked: str | None) -> str:
    """One or two sentences on why, and what this person may ask for instead."""
    some = ", ".join(escape(truncate(t, 60)) for t in refused.teams[:15])
    if len(refused.teams) > 15:
        some = _("{names} and {n} more").format(names=some, n=len(refused.teams) - 15)
    if refused.reason == "unknown_team":
        told = escape(truncate(asked or "", 60))
        unknown = _("I don't know a team called “{team}”.").format(team=told)
        return unknown + (" " + _("Try one of: {teams}.").format(teams=some) if some else "")
    if refused.reason == "not_your_team":
        return _(
            "You can see the digest of the teams you lead: {teams}. `{command} digest` shows all of them."
        ).format(teams=some, command=slash)
    return _("You don't lead a team yet, so there is no digest for you. Nothing was opened or sent.")


def _compose(scope: Scope, team: str | None, *, brief: bool = False) -> Digest:
    audience = digest_delivery.audience_for(
        scope.session, scope.person, scope.settings, user_id=scope.user_id, team=team
    )
    return digest_delivery.preview(
        scope.session, scope.settings, scope.library, audience, now=utcnow(), brief=brief
    )


def _polished(runtime: Runtime, digest: Digest) -> Digest:
    if not runtime.settings.ai_enabled:
        return digest
    with session_scope(runtime.engine) as session:
        return digest_service.polish(session, runtime.settings, digest)


def digest_command(inv: Invocation) -> None:
    """`/adopt digest [TEAM]`: this week's digest, privately (composing takes a moment: ack first)."""
    inv.ack()
    team = inv.args or None
    try:
        digest = _compose(inv.scope, team)
    except DigestRefused as refused:
        inv.respond(text=refusal(refused, inv.slash, team), response_type="ephemeral")
        return
    digest = _polished(inv.scope.runtime, digest)
    text, message = blocks.digest_message(digest, command=inv.slash, mode="preview")
    inv.respond(text=text, blocks=message, response_type="ephemeral")


def on_preview_button(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """App Home's "Preview this week's digest": a loading modal at once, then the digest in it."""
    ack()
    with listener_scope(context, readonly=True, person=False):  # in the person's language: one light read
        loading = modal(
            _(MODAL_TITLE),
            [section(_("⏳ Putting this week's digest together…"))],
            callback_id=ids.DIGEST_MODAL,
            close=_("Close"),
        )
    opened = client.views_open(trigger_id=body["trigger_id"], view=loading)
    view_id = str(opened["view"]["id"])
    with listener_scope(context, readonly=True) as scope:
        try:
            digest: Digest | None = _compose(scope, None)
        except DigestRefused as refused:
            digest = None
            message = refusal(refused, scope.settings.command, None)
        command = scope.settings.command
    with use_language(scope.language):  # composed after the scope, still in the leader's language
        if digest is None:
            view = modal(_(MODAL_TITLE), [section(message)], callback_id=ids.DIGEST_MODAL, close=_("Close"))
        else:
            digest = _polished(runtime_from(context), digest)
            _text, message_blocks = blocks.digest_message(digest, command=command, mode="preview")
            view = modal(_(MODAL_TITLE), message_blocks, callback_id=ids.DIGEST_MODAL, close=_("Close"))
    client.views_update(view_id=view_id, view=view)


def on_open_latest(ack: Ack) -> None:
    """The link button opens Slack by itself; Slack still sends the click, which only needs an ack."""
    ack()


def leader_home_section(session: Session, viewer: home.HomeViewer) -> list[Block]:
    """Leaders (and change managers): their teams' latest figures, suppressed like the digest."""
    try:
        audience = digest_delivery.audience_for(
            session, viewer.person, viewer.settings, user_id=viewer.user_id, team=None
        )
    except DigestRefused:
        return []
    digest = digest_delivery.preview(
        session, viewer.settings, viewer.library, audience, now=viewer.now, brief=True
    )
    latest = digest_delivery.latest_sent(session, viewer.person.id) if viewer.person is not None else None
    sent = None
    if latest is not None:
        timezone = (
            viewer.person.effective_timezone(viewer.settings.timezone)
            if viewer.person
            else viewer.settings.timezone
        )
        sent = local_label(latest.sent_at, timezone, year=False, with_zone=False)
    return blocks.leader_home_section(digest, latest, command=viewer.settings.command, local_sent=sent)


def programme_home_section(session: Session, viewer: home.HomeViewer) -> list[Block]:
    """Change managers: pulse status, wins to review, scheduled broadcasts, the content library."""
    if not is_change_manager(viewer.person, viewer.settings, user_id=viewer.user_id):
        return []
    status = digest_delivery.programme_status(session, viewer.settings, viewer.library, viewer.now)
    return blocks.programme_home_section(status, command=viewer.settings.command)


# The subcommands and Home sections this module answers; bot.wiring adds them to the app.
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        name="digest",
        summary=N_("This week's digest for your teams (only you see it)"),
        usage="digest [TEAM]",
        audience="leader",
        handler=digest_command,
        readonly=True,
    ),
)
HOME_SECTIONS: tuple[home.HomeSection, ...] = (
    home.HomeSection(name="programme", build=programme_home_section, order=105, audience="change_manager"),
    home.HomeSection(name="leader_digest", build=leader_home_section, order=120, audience="leader"),
)


def register(app: App) -> None:
    """The Bolt listeners (bot.wiring calls this once per app)."""
    app.action(ids.DIGEST_PREVIEW)(on_preview_button)
    app.action(ids.DIGEST_OPEN_LATEST)(on_open_latest)
