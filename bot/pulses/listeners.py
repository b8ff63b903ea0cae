"""The pulse survey in Slack: "Answer (1 minute)" opens the modal, its submission is saved,
and `/adopt pulse start|status` for change managers.

Thin: ack, parse, one service call (bot.pulses.service), render with bot.pulses.blocks. The modal
itself confirms a submission; the DM's "Answered ✓" edit comes with the next day's batch
(bot.pulses.confirm), so that nothing records the moment someone answered.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.clock import utcnow
from bot.config import DEFAULT_LOCALE
from bot.errors import UsageError
from bot.i18n import N_, format_number, ngettext, use_language
from bot.i18n import gettext as _
from bot.people.locale import person_locale, shipped
from bot.pulses import blocks
from bot.pulses import service as pulses
from bot.slack import ids
from bot.slack.scope import Scope, listener_scope
from bot.slack.subcommands import Invocation, Subcommand

log = logging.getLogger(__name__)


def not_on_roster() -> str:
    return _("I don't have you on the roster yet, so this pulse isn't open to you. You'll get the next one.")


def _language(scope: Scope) -> str:
    """The language of the person who clicked: theirs when on the roster, else ADOPTBOT_LOCALE's."""
    if scope.person is not None:
        return person_locale(scope.person, scope.settings)
    return shipped(scope.settings.locale) or DEFAULT_LOCALE


def _run_id(text: object) -> int | None:
    value = str(text or "").strip()
    return int(value) if value.isdigit() else None


def _answer_view(scope: Scope, run_id: int | None) -> dict[str, Any]:
    """The survey modal for the acting person, or an information modal saying why they can't answer."""
    if scope.person is None or run_id is None:
        return blocks.info_modal(_("Pulse survey"), not_on_roster())
    try:
        form = pulses.answer_form(
            scope.session,
            run_id=run_id,
            person=scope.person,
            library=scope.library,
            settings=scope.settings,
            now=utcnow(),
        )
    except pulses.PulseUnavailable as why:
        return blocks.info_modal(_("Pulse survey"), str(why))
    return blocks.answer_modal(
        form.survey,
        run_id=form.run_id,
        closes_on=form.closes_on,
        min_group_size=scope.settings.min_group_size,
        previous=form.previous,
    )


def _thanks_view(first: bool, closes_on: str) -> dict[str, Any]:
    saved = (
        _("✅ Thank you, your answers are saved.") if first else _("✅ Thank you, your answers are updated.")
    )
    text = (
        saved
        + " "
        + _("You can change them until {date}.").format(date=closes_on)
        + "\n"
        + _(
            "Your team's results are shared only when enough people have answered, never with names. "
            "The invitation in your messages shows “Answered” from tomorrow: Adoptbot keeps "
            "only the day you answered, not the time."
        )
    )
    return blocks.info_modal(_("Thank you"), text)


def on_answer_button(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Answer / Change my answer: open the survey, pre-filled with the person's own earlier answers."""
    ack()
    action = (body.get("actions") or [{}])[0]
    # may create the installation's secret on first use; the modal is in the clicking person's language
    # no write to the person's row: opening the survey leaves no trace of when (learn_workspace=False)
    with listener_scope(context, learn_workspace=False) as scope, use_language(_language(scope)):
        view = _answer_view(scope, _run_id(action.get("value")))
    client.views_open(trigger_id=body["trigger_id"], view=view)


def on_submit(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    """Save the answers; missing or invalid ones are shown under their question and the modal stays open.

    The ack comes after the commit, so the modal only says thank you once the answers are really saved.
    """
    run_id = _run_id(view.get("private_metadata"))
    answers = blocks.answers_from_state(view.get("state", {}).get("values", {}))
    with listener_scope(context, learn_workspace=False) as scope, use_language(_language(scope)):
        if scope.person is None or run_id is None:
            reply: dict[str, Any] = {
                "response_action": "update",
                "view": blocks.info_modal(_("Pulse survey"), not_on_roster()),
            }
        else:
            try:
                recorded = pulses.record_answers(
                    scope.session,
                    run_id=run_id,
                    person=scope.person,
                    raw=answers,
                    library=scope.library,
                    settings=scope.settings,
                    now=utcnow(),
                )
            except pulses.InvalidAnswers as invalid:
                reply = {"response_action": "errors", "errors": blocks.question_errors(invalid.errors)}
            except pulses.PulseUnavailable as why:
                reply = {"response_action": "update", "view": blocks.info_modal(_("Pulse survey"), str(why))}
            else:
                reply = {
                    "response_action": "update",
                    "view": _thanks_view(recorded.first, recorded.closes_on),
                }
    ack(**reply)


def pulse_command(inv: Invocation) -> None:
    """`/adopt pulse start [SURVEY_ID]` opens a run now; `/adopt pulse [status]` shows response counts."""
    action, _sep, rest = inv.args.partition(" ")
    action = action.lower() or "status"
    if action == "start":
        inv.ack()
        try:
            opened = pulses.open_run(
                inv.scope.session,
                library=inv.scope.library,
                settings=inv.scope.settings,
                now=utcnow(),
                survey_id=rest.strip() or None,
                opened_by=inv.user_id,
            )
        except UsageError as error:
            inv.reply(text=_("Not started: {reason}").format(reason=error))
            return
        closes = pulses.local_date_label(opened.closes_at, inv.scope.settings.timezone)
        inv.reply(
            text=ngettext(
                "📋 Pulse #{run} is open: {n} person is invited, during their own working day. It closes "
                "{day}. `{command} pulse status` shows how many have answered.",
                "📋 Pulse #{run} is open: {n} people are invited, each during their own working day. "
                "It closes "
                "{day}. `{command} pulse status` shows how many have answered.",
                opened.invited,
            ).format(run=opened.run_id, n=format_number(opened.invited), day=closes, command=inv.slash),
            response_type="ephemeral",
        )
        return
    if action != "status":
        usage = _("Usage: `{command} pulse start [SURVEY_ID]` or `{command} pulse status`.").format(
            command=inv.slash
        )
        inv.ack(text=usage, response_type="ephemeral")
        return
    status = pulses.run_status(inv.scope.session, library=inv.scope.library, now=utcnow())
    if status is None:
        text = _("No pulse yet. `{command} pulse start` opens one now.").format(command=inv.slash)
        inv.ack(text=text, response_type="ephemeral")
        return
    tz = inv.scope.settings.timezone
    state = (
        _("open until {day}").format(day=pulses.local_date_label(status.closes_at, tz))
        if status.is_open
        else _("closed")
    )
    inv.ack(
        text=_("Pulse #{run}: {answered} of {invited} answered ({state}).").format(
            run=status.run_id, answered=status.answered, invited=status.invited, state=state
        ),
        blocks=blocks.status_blocks(
            run_id=status.run_id,
            title=status.title,
            state=state,
            invited=status.invited,
            answered=status.answered,
            teams=status.teams,
        ),
        response_type="ephemeral",
    )


# The subcommands this module answers; bot.wiring adds them to the app.
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        name="pulse",
        summary=N_("Start a pulse survey now, or see how many have answered"),
        usage="pulse start [SURVEY_ID] | pulse status",
        audience="change_manager",
        handler=pulse_command,
    ),
)


def register(app: App) -> None:
    """The Bolt listeners (bot.wiring calls this once per app)."""
    app.action(ids.PULSE_ANSWER)(on_answer_button)
    app.view(ids.PULSE_MODAL)(on_submit)
