"""Wins in Slack: one modal opened by `/adopt win`, the `share_win` message shortcut, the nudge's and the
Home's "Share a win" buttons and "Try this too" under a shared win; the change managers' Approve / Edit /
Reject (DM and `/adopt wins`); the author's choice of the AI-polished version; the Home sections.

Thin: ack, parse, one service call (bot.wins.service), render with bot.wins.blocks. Everything the
service decides to send goes through the outbox in the same transaction. Modal submissions are acked after
the commit, so a modal closes only once the win is really stored; the AI polish runs after that ack.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.i18n import N_, use_language
from bot.i18n import gettext as _
from bot.models import WinStatus
from bot.people.listeners import on_team_options
from bot.people.profile import team_choices
from bot.permissions import refusal_text
from bot.slack import home, ids
from bot.slack.blocks import Block
from bot.slack.runtime import runtime_from
from bot.slack.scope import Scope, listener_scope
from bot.slack.subcommands import Invocation, Subcommand
from bot.wins import blocks
from bot.wins import service as wins
from bot.wins.blocks import WinCard, WinPrefill

log = logging.getLogger(__name__)

TITLE = N_("Share a win")
NOT_ON_ROSTER = N_(
    "I don't have you on the roster yet. Pick your role and team first with `{command} role`, "
    "then share your win."
)
THANKS = N_(
    "🙌 Thank you! A change manager takes a quick look before anything is shared, and I'll DM you when "
    "it's done. Your confirmation is in your DMs with me."
)
GONE = N_("That win no longer exists.")


# --- opening the modal ----------------------------------------------------------------------------------


def win_view(scope: Scope, prefill: WinPrefill | None = None) -> dict[str, Any]:
    """The win modal for the acting person, or a note saying what to do first when not on the roster."""
    person = scope.person
    if person is None or not person.is_active:
        return blocks.info_modal(_(TITLE), _(NOT_ON_ROSTER).format(command=scope.settings.command))
    current = str(person.team_id) if person.team_id is not None else None
    return blocks.win_modal(teams=team_choices(scope.session), current_team=current, prefill=prefill)


def win_command(inv: Invocation) -> None:
    """`/adopt win`."""
    if inv.scope.person is None or not inv.scope.person.is_active:
        inv.ack(text=_(NOT_ON_ROSTER).format(command=inv.slash), response_type="ephemeral")
        return
    view = win_view(inv.scope)
    inv.ack()
    inv.client.views_open(trigger_id=inv.trigger_id, view=view)


def _permalink(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    if not channel or not ts:
        return None
    try:
        answer = client.chat_getPermalink(channel=channel, message_ts=ts)
    except SlackApiError as error:
        log.info(
            "chat.getPermalink failed (%s); building the link from the shortcut", error.response.get("error")
        )
        return None
    return blocks.safe_link(str(answer.get("permalink") or ""))


def on_shortcut(ack: Ack, shortcut: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """ "Share as an AI win" on a message: the modal, prefilled with the message's text and a link to it."""
    ack()
    message = shortcut.get("message") or {}
    channel = (shortcut.get("channel") or {}).get("id")
    ts = shortcut.get("message_ts") or message.get("ts")
    link = _permalink(client, channel, ts) or wins.permalink_from(
        (shortcut.get("team") or {}).get("domain"), channel, ts
    )
    prefill = WinPrefill(what=wins.readable_message_text(str(message.get("text") or "")), source_link=link)
    with listener_scope(context, readonly=True) as scope:
        view = win_view(scope, prefill)
    client.views_open(trigger_id=shortcut["trigger_id"], view=view)


def _clicked_win(body: dict[str, Any]) -> int | None:
    action = (body.get("actions") or [{}])[0]
    value = str(action.get("value") or "") if isinstance(action, dict) else ""
    return int(value) if value.isdigit() else None


def on_open_button(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """ "Share a win" (Home) and "Try this too" (under a shared win: starts from the same AI tool)."""
    ack()
    win_id = (
        _clicked_win(body) if (body.get("actions") or [{}])[0].get("action_id") == ids.WIN_TRY_THIS else None
    )
    with listener_scope(context, readonly=True) as scope:
        tool = wins.tool_of(scope.session, win_id) if win_id is not None else None
        view = win_view(scope, WinPrefill(tool=tool) if tool else None)
    client.views_open(trigger_id=body["trigger_id"], view=view)


# --- submitting -----------------------------------------------------------------------------------------


def _errors_for(view: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """`response_action: errors` for the blocks this view has (Slack refuses errors for missing blocks)."""
    present = {b.get("block_id") for b in view.get("blocks", []) if isinstance(b, dict)}
    present |= set((view.get("state") or {}).get("values", {}))
    shown = {block: text for block, text in blocks.field_errors(errors).items() if block in present}
    if not shown:
        shown = {ids.WIN_WHAT_BLOCK: " ".join(errors.values())}
    return {"response_action": "errors", "errors": shown}


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
    """Validate and store a new win; faults are shown under their field and nothing is stored."""
    runtime = runtime_from(context)
    raw = blocks.raw_from_state(view.get("state", {}).get("values", {}))
    link = blocks.modal_link(view.get("private_metadata"))
    win_id: int | None = None
    with listener_scope(context) as scope:
        if scope.person is None or not scope.person.is_active:
            text = _(NOT_ON_ROSTER).format(command=scope.settings.command)
            reply: dict[str, Any] = {"response_action": "update", "view": blocks.info_modal(_(TITLE), text)}
        else:
            try:
                data = wins.validate(scope.session, raw, source_link=link)
            except wins.InvalidWin as invalid:
                reply = _errors_for(view, invalid.errors)
            else:
                if scope.first_submission(view):  # a replayed request thanks again and stores nothing
                    win_id = wins.submit(
                        scope.session, author=scope.person, data=data, settings=scope.settings
                    ).id
                reply = {"response_action": "update", "view": blocks.info_modal(_("Thank you"), _(THANKS))}
    ack(**reply)
    if win_id is not None and runtime.settings.ai_enabled:
        wins.polish_and_offer(runtime.engine, runtime.settings, win_id)


# --- moderation -----------------------------------------------------------------------------------------


def _user_id(body: dict[str, Any], context: BoltContext) -> str:
    return str((body.get("user") or {}).get("id") or context.user_id or "")


def _from_ephemeral(body: dict[str, Any]) -> bool:
    return bool((body.get("container") or {}).get("is_ephemeral"))


def _tell(respond: Respond, text: str) -> None:
    respond(text=text, response_type="ephemeral", replace_original=False)


def _refused(scope: Scope) -> str | None:
    if scope.can("change_manager"):
        return None
    return refusal_text("change_manager", _("Reviewing wins"))


def _pending_card(scope: Scope, win_id: int | None) -> tuple[WinCard | None, str | None]:
    """The win a reviewer clicked, if it still waits for a decision; else why not, in one line."""
    refused = _refused(scope)
    if refused is not None:
        return None, refused
    card = wins.get_card(scope.session, win_id) if win_id is not None else None
    if card is None:
        return None, _(GONE)
    if card.status != WinStatus.PENDING:
        return None, blocks.already_decided(card)
    return card, None


def on_approve(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    ack()
    win_id, user_id = _clicked_win(body), _user_id(body, context)
    with listener_scope(context) as scope:
        refused = _refused(scope)
        decision = None
        if refused is None and win_id is not None:
            decision = wins.decide(
                scope.session,
                win_id=win_id,
                approve=True,
                reviewer_user_id=user_id,
                reviewer=scope.person,
                settings=scope.settings,
            )
        channel = scope.settings.wins_channel
    with use_language(scope.language):  # answered after the commit, in the reviewer's language
        if refused is not None:
            _tell(respond, refused)
        elif decision is None:
            _tell(respond, _(GONE))
        elif not decision.decided_now:
            _tell(respond, blocks.already_decided(decision.card))
        elif _from_ephemeral(body):
            _tell(respond, blocks.decision_line(decision.card, channel=channel))


def on_edit(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    """Edit: the win in the modal for a light edit; saving it approves it."""
    ack()
    view: dict[str, Any] | None = None
    with listener_scope(context, readonly=True) as scope:
        card, answer = _pending_card(scope, _clicked_win(body))
        if card is not None:
            current = str(card.team_id) if card.team_id is not None else None
            view = blocks.edit_modal(card, teams=team_choices(scope.session), current_team=current)
    if view is not None:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    elif answer is not None:
        _tell(respond, answer)


def on_reject(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    """Reject: a small modal asking for the note the author receives."""
    ack()
    with listener_scope(context, readonly=True) as scope:
        card, answer = _pending_card(scope, _clicked_win(body))
    if card is not None:
        client.views_open(trigger_id=body["trigger_id"], view=blocks.reject_modal(card.id))
    elif answer is not None:
        _tell(respond, answer)


def _metadata_win(view: dict[str, Any]) -> int | None:
    value = str(view.get("private_metadata") or "")
    return int(value) if value.isdigit() else None


def _decide_from_modal(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, *, approve: bool
) -> None:
    win_id, user_id = _metadata_win(view), _user_id(body, context)
    values = view.get("state", {}).get("values", {})
    field = "what" if approve else "reason"
    with listener_scope(context) as scope:
        refused = _refused(scope)
        card = wins.get_card(scope.session, win_id) if refused is None and win_id is not None else None
        reply: dict[str, Any] = {}
        if refused is not None or card is None:
            reply = {"response_action": "update", "view": blocks.info_modal(_("Wins"), refused or _(GONE))}
        else:
            try:
                edit = None
                if approve:
                    raw = dataclasses.replace(blocks.raw_from_state(values), share=card.share)
                    edit = wins.validate(scope.session, raw, source_link=card.source_link)
                decision = wins.decide(
                    scope.session,
                    win_id=card.id,
                    approve=approve,
                    reviewer_user_id=user_id,
                    reviewer=scope.person,
                    settings=scope.settings,
                    reason=blocks.reason_from_state(values),
                    edit=edit,
                )
            except wins.InvalidWin as invalid:
                reply = _errors_for(view, invalid.errors)
            else:
                if decision is None:
                    reply = {"response_action": "update", "view": blocks.info_modal(_("Wins"), _(GONE))}
                elif not decision.decided_now:
                    reply = _errors_for(view, {field: blocks.already_decided(decision.card)})
    ack(**reply)


def on_edit_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    _decide_from_modal(ack, body, view, context, approve=True)


def on_reject_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    _decide_from_modal(ack, body, view, context, approve=False)


def queue_command(inv: Invocation) -> None:
    """`/adopt wins`: the pending wins, oldest first, with their buttons."""
    cards, total = wins.review_queue(inv.scope.session)
    text, queue = blocks.queue_message(cards, total, command=inv.slash)
    inv.ack(text=text, blocks=queue, response_type="ephemeral")


# --- the author's choice of the polished version --------------------------------------------------------


def _choose(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond, *, use: bool) -> None:
    ack()
    win_id, user_id = _clicked_win(body), _user_id(body, context)
    if win_id is None:
        return
    with listener_scope(context) as scope:
        outcome = wins.choose_polish(
            scope.session, scope.settings, win_id=win_id, author_user_id=user_id, use=use
        )
    if outcome == "decided":
        with use_language(scope.language):
            _tell(respond, _("Your win was already reviewed, so it stays as it was approved."))
    elif outcome == "not_yours":
        log.warning("polish choice on win %d by someone who is not its author", win_id)


def on_use_polished(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    _choose(ack, body, context, respond, use=True)


def on_keep_mine(ack: Ack, body: dict[str, Any], context: BoltContext, respond: Respond) -> None:
    _choose(ack, body, context, respond, use=False)


# --- menus and Home -------------------------------------------------------------------------------------


def home_section(session: Session, viewer: home.HomeViewer) -> list[Block]:
    person = viewer.person
    if person is None or not person.is_active:
        return []
    return blocks.home_section(wins.of_person(session, person))


def review_home_section(session: Session, viewer: home.HomeViewer) -> list[Block]:
    return blocks.review_home_section(wins.pending_count(session), command=viewer.settings.command)


# The subcommands and Home sections this module answers; bot.wiring adds them to the app.
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        name="win",
        summary=N_("Share a win: what you did with AI and the time it saved"),
        usage="win",
        audience="everyone",
        handler=win_command,
        readonly=True,
    ),
    Subcommand(
        name="wins",
        summary=N_("Review the wins waiting for approval"),
        usage="wins",
        audience="change_manager",
        handler=queue_command,
        readonly=True,
    ),
)
HOME_SECTIONS: tuple[home.HomeSection, ...] = (
    home.HomeSection(name="wins", build=home_section, order=30),
    home.HomeSection(name="wins_review", build=review_home_section, order=110, audience="change_manager"),
)


def register(app: App) -> None:
    """The Bolt listeners (bot.wiring calls this once per app)."""
    app.shortcut(ids.SHARE_WIN_SHORTCUT)(on_shortcut)
    app.action(ids.WIN_OPEN_MODAL)(on_open_button)
    app.action(ids.WIN_TRY_THIS)(on_open_button)
    app.view(ids.WIN_MODAL)(on_submit)
    app.action(ids.WIN_APPROVE)(on_approve)
    app.action(ids.WIN_EDIT)(on_edit)
    app.action(ids.WIN_REJECT)(on_reject)
    app.view(ids.WIN_EDIT_MODAL)(on_edit_submit)
    app.view(ids.WIN_REJECT_MODAL)(on_reject_submit)
    app.action(ids.WIN_USE_POLISHED)(on_use_polished)
    app.action(ids.WIN_KEEP_MINE)(on_keep_mine)
    app.options(ids.WIN_TEAM_SELECT)(on_team_options)
