"""Keep people in step with Slack: IDs for people known by email, time zones, locales, names, emails,
departures, away.

`sync_from_slack` reads the whole workspace (`adoptbot roster sync`, asking for each member's locale);
`apply_slack_user` applies one Slack user object, as the `user_change` event delivers it. Both share
`_apply`, so they agree on every rule.
Slack never adds people to the roster, nor brings back anyone it deactivated: who is in, in which team and
role and with which rights, is the roster's decision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.clock import utcnow
from bot.config import normalise_locale
from bot.db import session_scope
from bot.errors import Failure
from bot.models import Deactivation, Person
from bot.people.roster import is_timezone
from bot.slack.client import InstalledClient, for_workspace

SLACKBOT_ID = "USLACKBOT"
LISTED_IN = "_adoptbot_workspace"  # added to a user object: the workspace whose users.list gave it
# A status that says "away" but no end: assume this long, then nudges resume unless the status is renewed
# (a later `user_change` or sync sets it again).
AWAY_WITHOUT_EXPIRY = timedelta(days=14)
AWAY_EMOJI = frozenset(
    {
        ":palm_tree:",
        ":airplane:",
        ":airplane_departure:",
        ":airplane_arriving:",
        ":beach_with_umbrella:",
        ":desert_island:",
        ":face_with_thermometer:",
        ":sick:",
        ":mask:",
        ":thermometer:",
        ":face_with_head_bandage:",
        ":nauseated_face:",
        ":sneezing_face:",
        ":baby:",
        ":luggage:",
        ":skier:",
        ":beach:",
        ":camping:",
    }
)
AWAY_TEXT = re.compile(
    r"\b(ooo|out[\s-]+of[\s-]+(the[\s-]+)?office|vacation|vacay|holidays?|annual[\s-]+leave|on[\s-]+leave|"
    r"parental[\s-]+leave|maternity|paternity|sick|pto|away[\s-]+until|off[\s-]+until|"
    r"urlaub|congés?|vacaciones|ferie|on[\s-]+a[\s-]+break)\b",
    re.IGNORECASE,
)
_AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})


@dataclass
class SyncReport:
    slack_users: int = 0  # people in Slack (no bots)
    matched: int = 0
    ids_filled: int = 0
    timezones: int = 0
    locales: int = 0  # Slack's locale stored (the roster's `locale` still wins)
    names: int = 0
    emails: int = 0
    deactivated: int = 0
    away: int = 0
    back: int = 0
    not_in_roster: int = 0
    email_only_left: int = 0  # roster people still without a Slack ID
    emails_visible: bool = True  # False: no Slack user carried an email (scope users:read.email missing)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{_n(self.slack_users, 'Slack user')} read, {self.matched} on the roster: "
            f"{_n(self.ids_filled, 'Slack ID')} filled by email, {_n(self.timezones, 'time zone')}, "
            f"{_n(self.locales, 'locale')}, "
            f"{_n(self.names, 'name')}, {_n(self.emails, 'email')} updated, {self.deactivated} deactivated, "
            f"{self.away} away, {self.back} back"
        )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def fetch_slack_users(client: WebClient, workspaces: Sequence[str | None] = (None,)) -> list[dict[str, Any]]:
    """Every member of the workspace from `users.list`, page by page; Failure if Slack refuses.

    `workspaces` (Enterprise Grid): each workspace's members in turn, with the client's token for that
    workspace and its `team_id` (which an org-wide token needs); someone in several workspaces is listed
    once, marked with the first workspace they were listed in."""
    users: dict[str, dict[str, Any]] = {}
    for workspace in workspaces:
        listed = for_workspace(client, workspace)
        cursor: str | None = None
        while True:
            extra = {"team_id": workspace} if workspace else {}
            try:
                response = listed.users_list(limit=200, cursor=cursor, include_locale=True, **extra)
            except SlackApiError as error:
                code = str(error.response.get("error", "")) if error.response is not None else ""
                if code in _AUTH_ERRORS:
                    raise Failure(f"Slack refused the bot token ({code}); check SLACK_BOT_TOKEN.") from None
                raise Failure(f"Slack answered users.list with an error ({code or 'unknown'}).") from None
            except (SlackClientError, OSError) as error:
                reason = getattr(error, "reason", None) or error
                raise Failure(f"cannot reach Slack at {client.base_url}: {reason}.") from None
            for member in response.get("members") or []:
                if workspace:
                    member = {**member, LISTED_IN: workspace}
                users.setdefault(str(member.get("id")), member)
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    return list(users.values())


def installed_workspaces(client: WebClient) -> list[str | None]:
    """The workspaces to read people from: `(None,)` for a single bot token; for an OAuth install, the
    workspaces its token may act in (`auth.teams.list`: one for a workspace install, every approved
    workspace of an org-wide install), and for workspace-by-workspace installs on Grid each of them."""
    if not isinstance(client, InstalledClient):
        return [None]
    found: list[str | None] = []
    for workspace in client.installed_workspaces():
        listed = client.for_workspace(workspace)
        cursor: str | None = None
        while True:
            try:
                page = listed.auth_teams_list(limit=200, cursor=cursor)
            except SlackApiError as error:
                code = str(error.response.get("error", "")) if error.response is not None else ""
                raise Failure(
                    f"Slack answered auth.teams.list with an error ({code or 'unknown'})."
                ) from None
            except (SlackClientError, OSError) as error:
                reason = getattr(error, "reason", None) or error
                raise Failure(f"cannot reach Slack at {client.base_url}: {reason}.") from None
            for team in page.get("teams") or []:
                if team.get("id") and team["id"] not in found:
                    found.append(str(team["id"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    return found or [None]


def is_human(user: Mapping[str, Any]) -> bool:
    return not user.get("is_bot") and user.get("id") != SLACKBOT_ID


def away_status(profile: Mapping[str, Any], now: datetime) -> tuple[datetime, str] | None:
    """(away until, status text) when a Slack status says vacation, out of office or sick; else None."""
    emoji = str(profile.get("status_emoji") or "").strip().lower()
    text = str(profile.get("status_text") or "").strip()
    if emoji not in AWAY_EMOJI and not AWAY_TEXT.search(text):
        return None
    expiration = int(profile.get("status_expiration") or 0)
    if expiration:
        until = datetime.fromtimestamp(expiration, UTC).replace(tzinfo=None)
        if until <= now:
            return None  # a stale status Slack has not cleared yet
    else:
        until = now + AWAY_WITHOUT_EXPIRY
    return until, (text or emoji)[:200]


def _display_name(user: Mapping[str, Any]) -> str:
    profile = user.get("profile") or {}
    for value in (
        profile.get("real_name"),
        user.get("real_name"),
        profile.get("display_name"),
        user.get("name"),
    ):
        if value and str(value).strip():
            return str(value).strip()[:200]
    return ""


def _apply(
    person: Person, user: Mapping[str, Any], now: datetime, email_taken: Callable[[str], bool]
) -> list[str]:
    """Update `person` from a Slack user object; return what changed, in words."""
    changes: list[str] = []
    profile = user.get("profile") or {}
    if person.slack_user_id is None:
        person.slack_user_id = str(user["id"])
        changes.append("Slack ID filled")
    _apply_workspace(person, user)
    if user.get("deleted"):
        if person.is_active:
            # No rights survive a departure: if they come back, the roster says which they get.
            person.is_active = person.is_change_manager = person.leads_all = False
            person.deactivated_by = Deactivation.SLACK
            person.led_teams = []
            changes.append("deactivated")
        elif person.deactivated_by is None:
            person.deactivated_by = Deactivation.SLACK  # a newcomer still setting up: that ends here too
        return changes
    tz = user.get("tz")
    if tz and tz != person.slack_timezone and is_timezone(str(tz)):
        person.slack_timezone = str(tz)
        changes.append(f"time zone {tz}")
    locale = normalise_locale(str(user.get("locale") or ""))
    if locale and locale != person.slack_locale:
        person.slack_locale = locale
        changes.append(f"locale {locale}")
    if not person.name and (name := _display_name(user)):
        person.name = name
        changes.append("name")
    email = str(profile.get("email") or "").strip().lower()
    if email and person.email is None and not email_taken(email):
        person.email = email
        changes.append("email")
    away = away_status(profile, now)
    if away is not None:
        if (person.away_until, person.away_text) != away:
            person.away_until, person.away_text = away
            changes.append(f"away until {away[0]:%Y-%m-%d}")
    elif person.away_until is not None or person.away_text is not None:
        person.away_until = person.away_text = None
        changes.append("back")
    return changes


def _apply_workspace(person: Person, user: Mapping[str, Any]) -> None:
    """Remember the workspace the person is in (on Enterprise Grid it picks the token their messages go
    with). One already known is kept while the person is still a member of it."""
    workspace = user.get(LISTED_IN) or user.get("team_id")
    if not isinstance(workspace, str) or not workspace or workspace == person.slack_workspace_id:
        return
    teams = (user.get("enterprise_user") or {}).get("teams") or []
    if person.slack_workspace_id is None or person.slack_workspace_id not in teams:
        person.slack_workspace_id = workspace


def apply_slack_user(session: Session, user: Mapping[str, Any], *, now: datetime | None = None) -> str | None:
    """Apply one Slack user object (e.g. from `user_change`) to the matching person.

    Returns what changed ("time zone Europe/Berlin, away until 2026-12-01"), or None when the user is
    a bot, is not on the roster, or nothing changed. The caller commits.
    """
    if not is_human(user) or not user.get("id"):
        return None
    now = now or utcnow()
    person = session.scalars(select(Person).where(Person.slack_user_id == user["id"])).first()
    email = str((user.get("profile") or {}).get("email") or "").strip().lower()
    if person is None and email:
        person = session.scalars(
            select(Person).where(
                Person.email == email, Person.slack_user_id.is_(None), Person.erased_at.is_(None)
            )
        ).first()
    if person is None or person.erased_at is not None:
        return None

    def email_taken(candidate: str) -> bool:
        return session.scalars(select(Person.id).where(Person.email == candidate)).first() is not None

    changes = _apply(person, user, now, email_taken)
    return ", ".join(changes) or None


def sync_people(
    session: Session, users: Iterable[Mapping[str, Any]], *, now: datetime | None = None
) -> SyncReport:
    """Apply every Slack user to the roster in one transaction and count what changed."""
    now = now or utcnow()
    report = SyncReport()
    people = list(session.scalars(select(Person).where(Person.erased_at.is_(None))))
    by_slack = {p.slack_user_id: p for p in people if p.slack_user_id}
    by_email = {p.email: p for p in people if p.email}
    any_email = False
    for user in users:
        if not is_human(user) or not user.get("id"):
            continue
        report.slack_users += 1
        email = str((user.get("profile") or {}).get("email") or "").strip().lower()
        any_email = any_email or bool(email)
        person = by_slack.get(user["id"])
        if (
            person is None
            and email
            and (candidate := by_email.get(email))
            and candidate.slack_user_id is None
        ):
            person = candidate
        if person is None:
            report.not_in_roster += not user.get("deleted")
            continue
        report.matched += 1
        changes = _apply(person, user, now, lambda e: e in by_email)
        if person.slack_user_id:
            by_slack[person.slack_user_id] = person
        if person.email:
            by_email[person.email] = person
        for change in changes:
            kind = change.split(" ", 1)[0]
            if change == "Slack ID filled":
                report.ids_filled += 1
            elif kind == "time":
                report.timezones += 1
            elif kind == "locale":
                report.locales += 1
            elif kind == "name":
                report.names += 1
            elif kind == "email":
                report.emails += 1
            elif kind == "deactivated":
                report.deactivated += 1
            elif kind == "away":
                report.away += 1
            elif kind == "back":
                report.back += 1
    report.email_only_left = sum(1 for p in people if p.slack_user_id is None and p.is_active)
    report.emails_visible = any_email or report.slack_users == 0
    if report.not_in_roster:
        report.notes.append(
            f"{_n(report.not_in_roster, 'Slack user')} not on the roster (add them with roster import)."
        )
    if report.email_only_left:
        report.notes.append(f"{report.email_only_left} on the roster without a Slack ID yet.")
        if not report.emails_visible:
            report.notes.append("Slack showed no email addresses: give the app the users:read.email scope.")
    session.flush()
    return report


def sync_from_slack(engine: Engine, client: WebClient, *, now: datetime | None = None) -> SyncReport:
    """Read `users.list` (before touching the database), then apply it in one transaction."""
    users = fetch_slack_users(client, installed_workspaces(client))
    with session_scope(engine) as session:
        return sync_people(session, users, now=now)
