"""The roster: who is in, in which team and role. Imported from a CSV file, all or nothing.

Parsing checks each row on its own (`parse_roster`); `import_roster` then checks the rows against the
database (matching people, led teams) and writes everything with a handful of bulk statements, so
10,000 rows take seconds on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import csv
import difflib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from bot import csv_files
from bot.clock import utcnow
from bot.config import Settings, normalise_locale
from bot.content import ANY_TOOL
from bot.csv_safe import restore
from bot.errors import UsageError
from bot.models import Deactivation, Person, Team, TeamLead, TeamSource

ROSTER_COLUMNS = (
    "slack_user_id",
    "email",
    "name",
    "team",
    "role",
    "timezone",
    "leads",
    "change_manager",
    "tools",
    "locale",
)
_ALIASES = {"slack_id": "slack_user_id", "time_zone": "timezone", "tz": "timezone"}
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,31}$")
_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0", ""})
_CHUNK = 900  # ids per IN (...) list: below SQLite's oldest variable limit
# `--prune` deactivating more than this share of the active people is far likelier a wrong or truncated
# file (a header-only export) than a reorganisation: it needs `--force`.
PRUNE_MAX_SHARE = 0.25
PEOPLE = cast(Table, Person.__table__)
TEAMS = cast(Table, Team.__table__)
TEAM_LEADS = cast(Table, TeamLead.__table__)


@dataclass(frozen=True)
class RosterRow:
    """One valid row of the roster file, normalised (lower-case email and role, upper-case Slack ID)."""

    line: int
    slack_user_id: str | None
    email: str | None
    name: str
    team: str
    role: str
    timezone: str | None
    leads: tuple[str, ...]
    leads_all: bool
    change_manager: bool
    tools: tuple[str, ...] = ()  # tool ids from tools.toml, sorted
    locale: str | None = None  # a normalised language tag (`pt-BR`)


@dataclass
class ParsedRoster:
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


class RosterError(UsageError):
    """The roster has bad rows; `errors` lists every one as `line N: reason`, in file order."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        more = len(self.errors) - 1
        tail = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{self.errors[0]}{tail}; nothing was imported.")


class PruneRefused(UsageError):
    """`--prune` would deactivate more than PRUNE_MAX_SHARE of the active people, without `--force`."""


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    new_teams: list[str] = field(default_factory=list)
    # Who each count is about (name, else Slack ID, else email), for `--dry-run` to show.
    added_people: list[str] = field(default_factory=list)
    updated_people: list[str] = field(default_factory=list)
    deactivated_people: list[str] = field(default_factory=list)
    prune_needs_force: str | None = None  # why `--prune` without `--force` would have been refused

    def summary(self) -> str:
        return (
            f"{self.added:,} added, {self.updated:,} updated, {self.deactivated:,} deactivated, "
            f"{self.unchanged:,} unchanged"
        )


def scim_owns_people(settings: Settings) -> str | None:
    """Why a CSV roster may not be imported here (an identity provider owns people over SCIM), or None."""
    if settings.people_source == "scim":
        return (
            "People come from your identity provider over SCIM here (ADOPTBOT_PEOPLE_SOURCE=scim), so a CSV "
            "roster is not imported; change them there, or set ADOPTBOT_PEOPLE_SOURCE=csv."
        )
    return None


def read_roster(path: Path, roles: Collection[str], tools: Collection[str] = ()) -> ParsedRoster:
    """Read and check a roster file; a file that cannot be read at all raises UsageError."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file.") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read it ({error.strerror or error}).") from None
    return parse_roster(csv_files.decode(data, path.name), roles, tools=tools, source=path.name)


def parse_roster(
    text: str, roles: Collection[str], *, tools: Collection[str] = (), source: str = "roster"
) -> ParsedRoster:
    """Check every row on its own; collect `(line, reason)` for each bad one rather than stopping.

    `tools`: the tool ids of the content library (tools.toml) the `tools` column may name."""
    known_roles = {r.lower() for r in roles}
    reader = csv_files.reader(text)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise UsageError(f"{source}: line 1 is not valid CSV ({error}).") from None
    if header is None or not any(h.strip() for h in header):
        raise UsageError(
            f"{source} is empty; it needs a header row naming the columns ({', '.join(ROSTER_COLUMNS)})."
        )
    columns = _columns(header, source)
    parsed = ParsedRoster()
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for line, record in csv_files.records(reader, source):
        if len(record) > len(header):
            parsed.errors.append(
                (
                    line,
                    f"{len(record)} fields but the header has {len(header)} "
                    "(put values that contain commas in double quotes)",
                )
            )
            continue
        # `restore`: a roster exported by `roster list --format csv` has formula-like cells quoted.
        values = {name: restore(record[i].strip()) if i < len(record) else "" for name, i in columns.items()}
        row, reason = _parse_row(line, values, known_roles, roles, tools)
        if row is None:
            parsed.errors.append((line, reason))
            continue
        duplicate = (row.slack_user_id and seen_ids.get(row.slack_user_id)) or (
            row.email and seen_emails.get(row.email)
        )
        if duplicate:
            who = row.slack_user_id if row.slack_user_id in seen_ids else row.email
            parsed.errors.append((line, f"duplicate person {who} (also on line {duplicate})"))
            continue
        if row.slack_user_id:
            seen_ids[row.slack_user_id] = line
        if row.email:
            seen_emails[row.email] = line
        parsed.rows.append(row)
    return parsed


def _columns(header: list[str], source: str) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = re.sub(r"[\s-]+", "_", raw.strip().lower())
        name = _ALIASES.get(name, name)
        if name in ROSTER_COLUMNS:
            if name in columns:
                raise UsageError(f"{source}: the header (line 1) has the column '{name}' twice.")
            columns[name] = index
    for required in ("team", "role"):
        if required not in columns:
            raise UsageError(f"{source}: missing required column '{required}' in the header (line 1).")
    if "slack_user_id" not in columns and "email" not in columns:
        raise UsageError(
            f"{source}: missing required column 'slack_user_id' (or 'email') in the header (line 1)."
        )
    return columns


def _parse_row(
    line: int, values: dict[str, str], known_roles: set[str], roles: Collection[str], tools: Collection[str]
) -> tuple[RosterRow | None, str]:
    slack_id = values.get("slack_user_id", "").upper() or None
    email = values.get("email", "").lower() or None
    if slack_id is None and email is None:
        return None, "neither slack_user_id nor email: one of them identifies the person"
    if slack_id and not _SLACK_ID.match(slack_id):
        return None, f"bad slack_user_id {slack_id!r} (Slack user IDs look like U0123ABCD)"
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        return None, f"bad email {email!r}"
    name = values.get("name", "")
    if len(name) > 200:
        return None, "name longer than 200 characters"
    team = re.sub(r"\s+", " ", values["team"])
    if not team:
        return None, "missing team"
    if len(team) > 120:
        return None, "team name longer than 120 characters"
    role = values["role"].lower()
    if not role:
        return None, f"missing role (one of: {_role_list(roles)})"
    if role not in known_roles:
        return None, f"unknown role {values['role']!r} (known roles: {_role_list(roles)})"
    timezone = values.get("timezone", "") or None
    if timezone and not is_timezone(timezone):
        return None, f"bad time zone {timezone!r} (use an IANA name like Europe/Berlin)"
    leads_all = False
    leads: list[str] = []
    for part in values.get("leads", "").split(";"):
        led = re.sub(r"\s+", " ", part.strip())
        if led == "*":
            leads_all = True
        elif led and led.casefold() not in {t.casefold() for t in leads}:
            leads.append(led)
    flag = values.get("change_manager", "").lower()
    if flag not in _TRUE and flag not in _FALSE:
        return None, f"bad change_manager value {values['change_manager']!r} (use true or false)"
    held: set[str] = set()
    for part in values.get("tools", "").split(";"):
        tool = part.strip().lower()
        if tool and tool not in tools:
            if tool == ANY_TOOL:
                return None, f"tools: '{ANY_TOOL}' is not a tool; name the person's tools, or leave it empty"
            close = difflib.get_close_matches(tool, sorted(tools), n=1, cutoff=0.6)
            if close:
                return None, f"unknown tool {part.strip()!r} (did you mean '{close[0]}'?)"
            known = ", ".join(sorted(tools)) or "none: the content library has no tools.toml"
            return None, f"unknown tool {part.strip()!r} (known tools: {known})"
        if tool:
            held.add(tool)
    locale_cell = values.get("locale", "")
    locale = normalise_locale(locale_cell) if locale_cell else None
    if locale_cell and locale is None:
        return None, f"bad locale {locale_cell!r} (use a language tag like de or pt-BR)"
    row = RosterRow(
        line=line,
        slack_user_id=slack_id,
        email=email,
        name=name,
        team=team,
        role=role,
        timezone=timezone,
        leads=tuple(leads),
        leads_all=leads_all,
        change_manager=flag in _TRUE,
        tools=tuple(sorted(held)),
        locale=locale,
    )
    return row, ""


def _role_list(roles: Collection[str]) -> str:
    return ", ".join(sorted(roles)) or "none: the content library has no roles"


@lru_cache(maxsize=1024)
def is_timezone(name: str) -> bool:
    """True for an IANA time zone name such as `Europe/Berlin`."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder such as "America"
        return False
    return True


# --- writing ---------------------------------------------------------------------------------------------

_PERSON_FIELDS = (
    "slack_user_id",
    "email",
    "name",
    "team_id",
    "role",
    "timezone",
    "is_active",
    "is_change_manager",
    "leads_all",
    "team_source",
    "deactivated_by",
    "tools",
    "locale",
)


def import_roster(
    session: Session,
    parsed: ParsedRoster,
    *,
    prune: bool = False,
    force: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Upsert the roster's people in `session`'s transaction; RosterError (nothing written) if a row is bad.

    People are matched by Slack user ID, else by email. Teams are matched case-insensitively and created
    when missing. Each listed person's leads are replaced by the file's, and their team is the roster's
    again. With `prune`, active people the file does not list are deactivated and lose their rights (change
    manager, leads); PruneRefused (nothing written) when that is more than a quarter of the active people,
    unless `force`.
    """
    now = now or utcnow()
    errors = list(parsed.errors)
    people = {
        p.id: p for p in session.execute(select(Person.id, *(getattr(Person, f) for f in _PERSON_FIELDS)))
    }
    by_slack = {p.slack_user_id: p for p in people.values() if p.slack_user_id}
    by_email = {p.email: p for p in people.values() if p.email}
    team_ids = {name.casefold(): id_ for id_, name in session.execute(select(Team.id, Team.name))}
    file_teams: dict[str, str] = {}
    for row in parsed.rows:
        file_teams.setdefault(row.team.casefold(), row.team)

    matched: dict[int, RosterRow] = {}
    targets: list[tuple[RosterRow, Any]] = []
    for row in parsed.rows:
        existing = by_slack.get(row.slack_user_id) if row.slack_user_id else None
        if existing is None and row.email and (owner := by_email.get(row.email)) is not None:
            if owner.slack_user_id and row.slack_user_id and owner.slack_user_id != row.slack_user_id:
                errors.append(
                    (
                        row.line,
                        f"email {row.email} belongs to Slack user {owner.slack_user_id} "
                        f"in the database, not {row.slack_user_id}",
                    )
                )
                continue
            existing = owner
        if existing is not None and row.email and row.email != existing.email:
            owner = by_email.get(row.email)
            if owner is not None and owner.id != existing.id:
                errors.append(
                    (
                        row.line,
                        f"email {row.email} already belongs to another person "
                        f"({owner.slack_user_id or owner.name or 'no Slack ID yet'})",
                    )
                )
                continue
        if existing is not None:
            if existing.id in matched:
                errors.append((row.line, f"same person as line {matched[existing.id].line}"))
                continue
            matched[existing.id] = row
        unknown = [t for t in row.leads if t.casefold() not in file_teams and t.casefold() not in team_ids]
        if unknown:
            errors.append((row.line, f"leads unknown team {unknown[0]!r} (not in the file nor the database)"))
            continue
        targets.append((row, existing))
    if errors:
        errors.sort(key=lambda item: item[0])
        raise RosterError([f"line {line}: {reason}" for line, reason in errors])
    gone = [p for p in people.values() if p.is_active and p.id not in matched] if prune else []
    active = sum(1 for p in people.values() if p.is_active)
    too_many: str | None = None
    if gone and len(gone) > active * PRUNE_MAX_SHARE:
        too_many = (
            f"--prune would deactivate {len(gone):,} of the {active:,} active people, more than a quarter: "
            "check the file (see them with --dry-run), or add --force to do it; nothing was imported."
        )
        if not force:
            raise PruneRefused(too_many)

    report = ImportReport(prune_needs_force=too_many)
    missing_teams = [name for key, name in file_teams.items() if key not in team_ids]
    if missing_teams:
        created = session.execute(
            insert(TEAMS).returning(TEAMS.c.id, TEAMS.c.name),
            [{"name": name, "created_at": now} for name in missing_teams],
        )
        team_ids.update({name.casefold(): id_ for id_, name in created})
        report.new_teams = missing_teams
    in_use = [team_ids[key] for key in file_teams if key in team_ids]
    session.execute(  # a team the identity provider retired is in use again once the roster names it
        update(TEAMS).where(TEAMS.c.id.in_(in_use), TEAMS.c.retired_at.is_not(None)).values(retired_at=None)
    )

    new_rows: list[RosterRow] = []
    changes: list[dict[str, Any]] = []
    for row, existing in targets:
        if existing is None:
            new_rows.append(row)
            continue
        wanted = _person_values(row, team_ids, existing)
        if any(getattr(existing, key) != value for key, value in wanted.items()):
            changes.append({"person_id": existing.id, **{f"new_{k}": v for k, v in wanted.items()}})
            report.updated_people.append(_label(row.name or existing.name, row.slack_user_id, row.email))
    person_ids = {existing.id: row for row, existing in targets if existing is not None}
    if new_rows:
        # A Core executemany without RETURNING, then one SELECT for the new ids: the fastest path on both
        # databases. (SQLAlchemy's ORM bulk insert splits rows into a batch per pattern of None values, and
        # RETURNING makes psycopg parse one huge multi-VALUES statement per thousand rows.)
        session.execute(
            insert(PEOPLE),
            [
                {**_person_values(row, team_ids, None), "created_at": now, "updated_at": now}
                for row in new_rows
            ],
        )
        new_by_key = {(row.slack_user_id, None if row.slack_user_id else row.email): row for row in new_rows}
        for id_, slack_id, email in session.execute(
            select(PEOPLE.c.id, PEOPLE.c.slack_user_id, PEOPLE.c.email)
        ):
            new_row = new_by_key.get((slack_id, None if slack_id else email))
            if new_row is not None and id_ not in people:
                person_ids[id_] = new_row
    if changes:
        columns: dict[str, Any] = {column: bindparam(f"new_{column}") for column in _PERSON_FIELDS}
        statement = update(PEOPLE).where(PEOPLE.c.id == bindparam("person_id"))
        session.execute(statement.values(**columns, updated_at=now), changes)

    changed_leads = _replace_leads(session, person_ids, team_ids)
    report.added = len(new_rows)
    report.added_people = [_label(row.name, row.slack_user_id, row.email) for row in new_rows]
    updated = {c["person_id"] for c in changes} | (changed_leads & matched.keys())
    report.updated_people += [
        _label(people[id_].name, people[id_].slack_user_id, people[id_].email)
        for id_ in sorted(changed_leads & matched.keys() - {c["person_id"] for c in changes})
    ]
    report.updated = len(updated)
    report.unchanged = len(matched) - report.updated
    deactivate(session, [p.id for p in gone], by=Deactivation.ROSTER, now=now)
    report.deactivated = len(gone)
    report.deactivated_people = [_label(p.name, p.slack_user_id, p.email) for p in gone]
    session.flush()
    return report


def deactivate(session: Session, person_ids: Sequence[int], *, by: Deactivation, now: datetime) -> None:
    """Deactivate these people and take their rights away (change manager, leads): a person who comes
    back (re-listed in the roster) gets the rights the roster gives them then, not the ones they had."""
    ids = sorted(person_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        session.execute(
            update(PEOPLE)
            .where(PEOPLE.c.id.in_(chunk))
            .values(
                is_active=False,
                deactivated_by=by.value,
                is_change_manager=False,
                leads_all=False,
                updated_at=now,
            )
        )
        session.execute(delete(TEAM_LEADS).where(TEAM_LEADS.c.person_id.in_(chunk)))


def _label(name: str | None, slack_user_id: str | None, email: str | None) -> str:
    return name or slack_user_id or email or "?"


def _person_values(row: RosterRow, team_ids: dict[str, int], existing: Any) -> dict[str, Any]:
    """The columns the roster decides; blank cells keep what Slack filled in (name, email, Slack ID)."""
    return {
        "slack_user_id": row.slack_user_id or (existing.slack_user_id if existing is not None else None),
        "email": row.email or (existing.email if existing is not None else None),
        "name": row.name or (existing.name if existing is not None else ""),
        "team_id": team_ids[row.team.casefold()],
        "role": row.role,
        "timezone": row.timezone,
        "is_active": True,
        "is_change_manager": row.change_manager,
        "leads_all": row.leads_all,
        "team_source": TeamSource.ROSTER.value,
        "deactivated_by": None,
        "tools": ";".join(row.tools) or None,
        "locale": row.locale,
    }


def _replace_leads(session: Session, rows: dict[int, RosterRow], team_ids: dict[str, int]) -> set[int]:
    """Make each listed person's led teams exactly the file's; return the ids whose leads changed."""
    current: dict[int, set[int]] = {}
    for person_id, team_id in session.execute(select(TeamLead.person_id, TeamLead.team_id)):
        current.setdefault(person_id, set()).add(team_id)
    changed: set[int] = set()
    for person_id, row in rows.items():
        wanted = {team_ids[t.casefold()] for t in row.leads}
        if wanted != current.get(person_id, set()):
            changed.add(person_id)
    stale = sorted(p for p in changed if current.get(p))
    for start in range(0, len(stale), _CHUNK):
        session.execute(delete(TeamLead).where(TeamLead.person_id.in_(stale[start : start + _CHUNK])))
    new = [
        {"person_id": p, "team_id": team_ids[t.casefold()]} for p in sorted(changed) for t in rows[p].leads
    ]
    if new:
        session.execute(insert(TEAM_LEADS), new)
    return changed
