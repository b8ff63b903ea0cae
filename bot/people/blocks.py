"""Block Kit for a person's profile: the "Your role and team" modal and the welcome DM. Pure builders."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.config import SHIPPED_LOCALES
from bot.i18n import N_
from bot.i18n import gettext as _
from bot.slack import ids
from bot.slack.blocks import (
    Block,
    actions,
    button,
    context,
    fields,
    header,
    input_block,
    modal,
    section,
    select_menu,
)
from bot.slack.text import escape

if TYPE_CHECKING:
    from bot.people.profile import ProfileSummary

ROLE_MODAL_TITLE = N_("Your role and team")  # a modal title: at most 24 characters in every language


@dataclass(frozen=True)
class RolePreset:
    """What the role modal preselects: a role ID and a team ID (as text), either possibly None; and
    whether the team is the roster's (shown, not offered)."""

    role: str | None
    team: str | None
    team_locked: bool = False
    lang: str | None = None  # the language of the role names (the Home's viewer's); None: the acting person's


def role_button_value(
    role_id: str | None, team_id: int | None, *, team_locked: bool = False, lang: str | None = None
) -> str:
    """The value of App Home's role button: the choice the Home shows, so the click can open the modal
    preset to it without reading the database while Slack's trigger_id ticks. (A stale value cannot move
    anyone: saving checks the database.)"""
    value: dict[str, object] = {"role": role_id, "team": team_id}
    if team_locked:
        value["locked"] = True
    if lang is not None:
        value["lang"] = lang
    return json.dumps(value, separators=(",", ":"))


def role_preset(value: object) -> RolePreset | None:
    """The preset a clicked button carries (`role_button_value`), or None when it carries none (the
    welcome DM's button, a Home published by an earlier version) or something else."""
    if not isinstance(value, str) or not value.startswith("{"):
        return None
    try:
        carried = json.loads(value)
    except ValueError:
        return None
    if not isinstance(carried, dict):
        return None
    role, team = carried.get("role"), carried.get("team")
    team_id = str(team) if isinstance(team, int) and not isinstance(team, bool) else None
    lang = carried.get("lang")
    return RolePreset(
        role=role if isinstance(role, str) and role else None,
        team=team_id,
        team_locked=team_id is not None and carried.get("locked") is True,
        lang=lang if isinstance(lang, str) and lang in SHIPPED_LOCALES else None,
    )


def role_modal(
    *,
    roles: Sequence[tuple[str, str]],
    teams: Sequence[tuple[str, str]],
    current_role: str | None,
    current_team: str | None,
    team_locked: bool = False,
) -> dict[str, Any]:
    """The modal where a person picks their role (from the content library) and their team.

    `roles` and `teams` are (value, label) pairs; `current_*` preselect the person's present choice.
    With `team_locked` (the roster set the team) the team is shown, not offered. With no teams yet, the
    team menu is replaced by a note and only the role is asked for.
    """
    intro = (
        _("Tell me what you do, so the tips I send fit your work.")
        if team_locked
        else _("Tell me what you do and which team you are in, so the tips I send fit your work.")
    )
    blocks: list[Block] = [
        section(intro),
        input_block(
            ids.ROLE_BLOCK,
            _("Your role"),
            select_menu(ids.ROLE_SELECT, roles, placeholder=_("Pick your role"), initial=current_role),
        ),
    ]
    if team_locked:
        name = next((label for value, label in teams if value == current_team), None)
        line = (
            _("Your team: *{team}*. It comes from the roster; ask a change manager if it's wrong.").format(
                team=escape(name)
            )
            if name
            else _(
                "Your team: the one the roster gives you. It comes from the roster; ask a change manager "
                "if it's wrong."
            )
        )
        blocks.append(section(line))
    elif teams:
        blocks.append(
            input_block(
                ids.TEAM_BLOCK,
                _("Your team"),
                select_menu(ids.TEAM_SELECT, teams, placeholder=_("Pick your team"), initial=current_team),
                hint=_(
                    "Your team is missing? A change manager adds teams with the roster. "
                    "Survey invitations need a team set by the roster."
                ),
            )
        )
    else:
        blocks.append(
            context(
                _(
                    "There are no teams yet. A change manager adds them with the roster; your role is "
                    "saved now."
                )
            )
        )
    blocks.append(
        context(_("Survey answers stay anonymous: team figures only ever show groups, never one person."))
    )
    return modal(_(ROLE_MODAL_TITLE), blocks, callback_id=ids.ROLE_MODAL, submit=_("Save"), close=_("Cancel"))


def welcome_message(*, command: str, role_name: str | None, team_name: str | None) -> tuple[str, list[Block]]:
    """(notification text, blocks) of the DM a newcomer gets. Role and team names are escaped here."""
    intro = _(
        "*Welcome!* I'm Adoptbot. Once or twice a week I send a short, practical tip for using AI in your "
        "work, now and then a one-minute pulse survey, and I collect the wins people share."
    )
    if role_name and team_name:
        text = _("Welcome! You're set up as {role} in {team}.").format(role=role_name, team=team_name)
        # Known at joining means the roster set them up: the team is the roster's, the role theirs to pick.
        setup = _(
            "You're set up as *{role}* in *{team}*. Another role fits you better? "
            "Change it here; your team comes from the roster."
        ).format(role=escape(role_name), team=escape(team_name))
        label, style = _("Change role"), None
    else:
        text = _("Welcome! Pick your role and team so my tips fit your work.")
        setup = _("Pick your role and team, so the tips fit your work. It takes ten seconds.")
        label, style = _("Pick my role and team"), "primary"
    blocks = [
        section(intro),
        section(setup),
        actions(button(label, ids.OPEN_ROLE_MODAL, style=style), block_id="profile.welcome"),
        context(_("Type `{command} help` any time to see what I can do.").format(command=command)),
    ]
    return text, blocks


_TZ_SOURCE = {
    "roster": N_("set by your change manager"),
    "slack": N_("from your Slack profile"),
    "organisation": N_("the organisation's default"),
}


def profile_section(summary: ProfileSummary, *, command: str) -> list[Block]:
    """Who you are to Adoptbot: role, team, time zone, nudges; a button to change role or team."""
    blocks: list[Block] = [header(_("Your profile"))]
    if not summary.complete:
        blocks.append(
            section(
                _(
                    "Pick your role and team, so the tips I send fit your work and your team's figures "
                    "count you."
                )
            )
        )
    unset = _("_not chosen yet_")
    team = escape(summary.team_name) if summary.team_name else unset
    blocks.append(
        fields(
            [
                (_("Role"), escape(summary.role_name) if summary.role_name else unset),
                (_("Team"), _("{team} (from the roster)").format(team=team) if summary.team_locked else team),
                (
                    _("Time zone"),
                    f"{summary.timezone} ({_(_TZ_SOURCE[summary.timezone_source])})",
                ),
                (_("Nudges"), summary.nudges),
            ]
        )
    )
    if summary.deactivated:  # only the roster brings them back: nothing for them to change
        blocks.append(
            context(_("Type `{command} help` in any channel to see what I can do.").format(command=command))
        )
        return blocks
    if summary.team_locked:
        label = _("Change role")
    else:
        label = _("Change role or team") if summary.complete else _("Pick my role and team")
    style = None if summary.complete else "primary"
    value = role_button_value(
        summary.role_id, summary.team_id, team_locked=summary.team_locked, lang=summary.lang
    )
    blocks.append(
        actions(button(label, ids.OPEN_ROLE_MODAL, value=value, style=style), block_id="home.profile")
    )
    blocks.append(
        context(_("Type `{command} help` in any channel to see everything I can do.").format(command=command))
    )
    return blocks
