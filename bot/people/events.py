"""Workspace events: `team_join` (record the newcomer, queue a welcome DM) and `user_change` (time zone,
name, away status, deactivation of deleted users). `app_home_opened` lives in `bot.slack.home`.

Events are acknowledged by Bolt before the listener runs; redeliveries never reach here (see
`skip_duplicate_events`), and what they do is idempotent anyway (outbox key `welcome:<user>`).
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext

from bot import outbox
from bot.i18n import use_language
from bot.people.blocks import welcome_message
from bot.people.locale import person_locale
from bot.people.profile import WELCOME_KIND, welcome_key, welcome_member
from bot.people.slack_sync import apply_slack_user
from bot.slack.scope import listener_scope

log = logging.getLogger(__name__)


def on_team_join(event: dict[str, Any], context: BoltContext) -> None:
    user = event.get("user")
    if not isinstance(user, dict):
        return
    with listener_scope(context) as scope:
        person = welcome_member(scope.session, user)
        if person is None or not person.slack_user_id:
            return
        team = person.team
        roles = scope.library.localized(person_locale(person, scope.settings)).roles
        role = roles.get(person.role) if person.role else None
        with use_language(person_locale(person, scope.settings)):  # the newcomer's language
            text, blocks = welcome_message(
                command=scope.settings.command,
                role_name=role.name if role is not None else None,
                team_name=team.name if team is not None else None,
            )
        outbox.enqueue(  # False when this person was welcomed before: nothing is queued twice
            scope.session,
            key=welcome_key(person.slack_user_id),
            kind=WELCOME_KIND,
            channel=person.slack_user_id,
            text=text,
            blocks=blocks,
            person_id=person.id,
        )


def on_user_change(event: dict[str, Any], context: BoltContext) -> None:
    user = event.get("user")
    if not isinstance(user, dict):
        return
    with listener_scope(context) as scope:
        changes = apply_slack_user(scope.session, user)
    if changes:
        log.info("Slack user %s changed: %s", user.get("id"), changes)


def register(app: App) -> None:
    app.event("team_join")(on_team_join)
    app.event("user_change")(on_user_change)
