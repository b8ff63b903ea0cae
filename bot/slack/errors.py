"""The one error handler: log the failure with its context, tell the person in one line, never a traceback.

What it logs names the request (its type and action, callback or command) and the exception: its class,
the classes it was raised from, and where (file, line, function of each frame). Never the exception's
message nor who was acting: a database error's message quotes the failing row (PostgreSQL: "Failing row
contains ..."), so a failed pulse submission would put a person's scores and comment in the log next to
their user ID.

How the person is told depends on where they were and whether Slack has had its ack yet:
- slash command not yet acked: the ack itself carries the sentence (an ephemeral reply);
- a modal submission not yet acked: the modal turns into a one-line "please try again" view;
- anything with a `response_url` (commands after the ack, buttons in messages, message shortcuts):
  an ephemeral reply through it;
- a button in a modal: the modal is updated to the one-line view; a button in App Home: the Home tab
  shows the sentence until the next visit re-publishes it;
- events (team_join, user_change, app_home_opened): logged only; nobody is waiting for an answer.
Feature listeners do not catch exceptions "just in case": expected faults are handled where they occur
(e.g. bad modal input -> `response_action: errors`); everything else ends up here.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.errors import loggable
from bot.i18n import N_, use_language
from bot.i18n import gettext as _
from bot.slack import ids
from bot.slack.blocks import modal, section
from bot.slack.home_blocks import home_error_view
from bot.slack.runtime import ANSWERED_KEY, LANGUAGE_KEY

log = logging.getLogger("bot.slack.errors")

SORRY = N_("Sorry, something went wrong — please try again.")
_ANSWER_WAIT_SECONDS = (
    5.0  # longer than Slack's 3 s: by then the request has been answered one way or another
)


def describe(body: dict[str, Any]) -> tuple[str, str]:
    """(request type, the action/callback/command/event it was about) for the log line."""
    if body.get("command"):
        return "slash_command", f"{body.get('command')} {str(body.get('text') or '').split(' ')[0]}".strip()
    kind = str(body.get("type") or "unknown")
    if kind == "event_callback":
        return kind, str((body.get("event") or {}).get("type") or "?")
    if kind == "block_actions":
        return kind, ",".join(str(a.get("action_id")) for a in body.get("actions") or []) or "?"
    if kind in ("view_submission", "view_closed"):
        return kind, str((body.get("view") or {}).get("callback_id") or "?")
    if kind == "block_suggestion":
        return kind, str(body.get("action_id") or "?")
    return kind, str(body.get("callback_id") or "?")


def error_modal() -> dict[str, Any]:
    return modal("Adoptbot", [section(_(SORRY))], callback_id=ids.ERROR_MODAL, close=_("Close"))


def handle_error(
    error: Exception,
    body: dict[str, Any],
    context: BoltContext,
    response: BoltResponse | None,
    client: WebClient,
) -> BoltResponse | None:
    language = context.get(LANGUAGE_KEY)  # the acting person's, when a listener scope had found it
    with use_language(language if isinstance(language, str) else None):
        return _handle_error(error, body, context, response, client)


def _handle_error(
    error: Exception,
    body: dict[str, Any],
    context: BoltContext,
    response: BoltResponse | None,
    client: WebClient,
) -> BoltResponse | None:
    kind, what = describe(body)
    log.error("%s %s failed: %s", kind, what, loggable(error))
    if response is None:  # acked before it failed: let that ack reach Slack before Bolt clears it
        answered = context.get(ANSWERED_KEY)
        if isinstance(answered, threading.Event):
            answered.wait(_ANSWER_WAIT_SECONDS)
    if kind == "event_callback":
        return None  # nobody to tell; a 500 before the ack lets Slack retry the delivery
    not_acked = response is not None
    if not_acked and kind == "slash_command":
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": _(SORRY)})
    if not_acked and kind == "view_submission":
        return BoltResponse(status=200, body={"response_action": "update", "view": error_modal()})
    if not_acked and kind == "block_suggestion":
        return BoltResponse(status=200, body={"options": []})
    try:
        _tell(body, context, client)
    except (SlackClientError, OSError) as failure:
        log.warning("could not tell the person about the failure: %s", type(failure).__name__)
    return BoltResponse(status=200, body="") if not_acked else None


def _tell(body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    if context.response_url and context.respond is not None:
        context.respond(text=_(SORRY), response_type="ephemeral", replace_original=False)
        return
    view = body.get("view") or {}
    if body.get("type") != "block_actions" or not view.get("id"):
        return
    if view.get("type") == "home" and context.user_id:
        client.views_publish(user_id=context.user_id, view=home_error_view(_(SORRY)))
    elif view.get("type") == "modal":
        client.views_update(view_id=view["id"], view=error_modal())


def register(app: App) -> None:
    app.error(handle_error)
