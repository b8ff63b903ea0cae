"""`/adopt role`, the "Pick my role and team" buttons (App Home, welcome DM) and the modal they open."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.i18n import N_
from bot.i18n import gettext as _
from bot.people.blocks import RolePreset, profile_section, role_modal, role_preset
from bot.people.locale import locale_of
from bot.people.profile import (
    NOT_ON_ROSTER,
    ProfileError,
    TeamMenu,
    profile_summary,
    role_choices,
    set_role_and_team,
    team_choices,
)
from bot.people.slack_sync import apply_slack_user
from bot.slack import home, ids
from bot.slack.blocks import Block, matching_options
from bot.slack.scope import Scope, listener_scope
from bot.slack.subcommands import Invocation, Subcommand

log = logging.getLogger(__name__)

TEAM_MENU = "people.team_menu"  # the app's TeamMenu (`Runtime.shared`)
_FIELD_BLOCKS = {"role": ids.ROLE_BLOCK, "team": ids.TEAM_BLOCK}


def _modal_for(
    scope: Scope, preset: RolePreset | None = None, *, fresh_teams: bool = False
) -> dict[str, Any]:
    """The role modal, preset to `preset` (what the clicked button carries) or else to the acting person's
    present choice (`scope.principal`, one light read), with role names in the preset's language or else
    the acting person's. The team menu comes from the app's `TeamMenu` (read again with `fresh_teams`):
    with App Home's preset, opening the modal reads nothing from the database."""
    if preset is None:
        me = scope.principal
        preset = RolePreset(
            role=me.role,
            team=str(me.team_id) if me.team_id is not None else None,
            team_locked=me.team_locked,
            lang=locale_of(me.locale, None, scope.settings),
        )
    elif preset.lang is None:  # a button without the language (the welcome DM's): the acting person's
        preset = replace(preset, lang=locale_of(scope.principal.locale, None, scope.settings))
    return role_modal(
        roles=role_choices(scope.library.localized(preset.lang)),
        teams=scope.runtime.shared(TEAM_MENU, TeamMenu).choices(lambda: scope.connection, fresh=fresh_teams),
        current_role=preset.role,
        current_team=preset.team,
        team_locked=preset.team_locked,
    )


def open_from_command(inv: Invocation) -> None:
    if inv.scope.principal.deactivated_by is not None:
        inv.ack(text=_(NOT_ON_ROSTER))  # nothing opened: saving would be refused anyway
        return
    view = _modal_for(inv.scope)
    inv.ack()
    inv.client.views_open(trigger_id=inv.trigger_id, view=view)


def on_open_button(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A button of App Home or the welcome DM. Home shows no such button to a deactivated person; one
    clicked on an older Home opens the modal, and saving it is refused (`set_role_and_team`)."""
    ack()
    action = (body.get("actions") or [{}])[0]
    preset = role_preset(action.get("value"))  # App Home's says the language too: nothing to read
    language = preset.lang if preset is not None else None
    with listener_scope(context, readonly=True, person=False, language=language) as scope:
        view = _modal_for(scope, preset)
    client.views_open(trigger_id=body["trigger_id"], view=view)


def _selected(values: dict[str, Any], block_id: str, action_id: str) -> str | None:
    state = (values.get(block_id) or {}).get(action_id) or {}
    option = state.get("selected_option") or {}
    value = option.get("value")
    return str(value) if value else None


def on_submit(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Validate and save; bad input is answered inline (`response_action: errors`), the modal stays open.

    The ack comes after the commit, so a modal only closes once the choice is really saved.
    """
    values = view.get("state", {}).get("values", {})
    user = body.get("user") or {}
    user_id = str(user.get("id") or context.user_id)
    answer: dict[str, Any] = {}
    with listener_scope(context) as scope:
        try:
            person = set_role_and_team(
                scope.session,
                slack_user_id=user_id,
                role_id=_selected(values, ids.ROLE_BLOCK, ids.ROLE_SELECT),
                team_id=_selected(values, ids.TEAM_BLOCK, ids.TEAM_SELECT),
                library=scope.library,
                name=str(user.get("name") or ""),
                by_change_manager=scope.can("change_manager"),
            )
        except ProfileError as error:
            block_id = _FIELD_BLOCKS[error.field]
            if (
                any(block.get("block_id") == block_id for block in view.get("blocks", []))
                or block_id in values
            ):
                answer = {"response_action": "errors", "errors": {block_id: str(error)}}
            else:  # the modal predates the first team: show it again, now with the team menu
                answer = {"response_action": "update", "view": _modal_for(scope, fresh_teams=True)}
        else:
            scope.person = person
            needs_slack_profile = person.slack_timezone is None
            home_view = home.render_home(scope)
    ack(**answer)
    if answer:
        return
    home.publish(client, user_id, home_view)
    if needs_slack_profile:
        _fill_from_slack(context, client, user_id)


def _fill_from_slack(context: BoltContext, client: WebClient, user_id: str) -> None:
    """Someone Adoptbot did not know yet: take time zone, name and email from their Slack profile."""
    try:
        user = client.users_info(user=user_id).get("user") or {}
    except SlackApiError as error:
        log.warning("users.info for %s failed: %s", user_id, error.response.get("error"))
        return
    with listener_scope(context) as scope:
        apply_slack_user(scope.session, user)


def on_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Options for a role or team menu that has more entries than a static menu holds."""
    if body.get("action_id") != ids.ROLE_SELECT:
        on_team_options(ack, body, context)
        return
    with listener_scope(context, readonly=True, person=False) as scope:
        lang = locale_of(scope.principal.locale, None, scope.settings)
        choices = role_choices(scope.library.localized(lang))
    ack(options=matching_options(choices, str(body.get("value") or "")))


def on_team_options(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """Options of a team menu (the role modal's, a win's, a broadcast's audience) when there are more
    teams than a static menu holds."""
    with listener_scope(context, readonly=True, person=False) as scope:
        choices = team_choices(scope.connection)
    ack(options=matching_options(choices, str(body.get("value") or "")))


def profile_home_section(session: Session, viewer: home.HomeViewer) -> list[Block]:
    summary = profile_summary(viewer.person, viewer.user_id, viewer.settings, viewer.library, now=viewer.now)
    return profile_section(summary, command=viewer.settings.command)


# The subcommands and Home sections this module answers; bot.wiring adds them to the app.
SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        name="role",
        summary=N_("Pick your role and team"),
        usage="role",
        audience="everyone",
        handler=open_from_command,
        readonly=True,
        person=False,
    ),
)
HOME_SECTIONS: tuple[home.HomeSection, ...] = (
    home.HomeSection(name="profile", build=profile_home_section, order=0),
)


def register(app: App) -> None:
    """The Bolt listeners (bot.wiring calls this once per app)."""
    app.action(ids.OPEN_ROLE_MODAL)(on_open_button)
    app.view(ids.ROLE_MODAL)(on_submit)
    app.options(ids.ROLE_SELECT)(on_options)
    app.options(ids.TEAM_SELECT)(on_options)
