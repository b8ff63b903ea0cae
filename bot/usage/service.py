"""Importing usage reports: per person, tool and ISO week, whether a licence and activity were shown.

The rows of a parsed report (`bot.usage.parsers`) are matched to the roster by email (case-insensitive;
`Person.email` is stored lower-case); rows that match nobody are counted and never guessed. The facts are
merged with those already stored: `licensed` and `active` only ever turn on (an OR per person, tool and
week), so importing the same file again changes nothing and overlapping reports add up. Written with one
bulk INSERT for new facts and one bulk UPDATE for changed ones, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from bot.models import Person, UsageFact
from bot.usage.parsers import ParsedUsage, UsageFileError

FACTS = cast(Table, UsageFact.__table__)
PEOPLE = cast(Table, Person.__table__)  # read as plain rows: a roster has up to hundreds of thousands
Key = tuple[int, str, date]  # person id, tool, week (Monday)
_CHUNK = 50_000
# PostgreSQL: one statement per chunk with each column as one array parameter (an executemany of
# hundreds of thousands of rows costs the driver far more than the server). A fact another import added
# meanwhile is merged, not refused.
_PG_INSERT = text(
    "INSERT INTO usage_facts (person_id, tool, week, licensed, active) "
    "SELECT person_id, :tool, CAST(:first_week AS date) + 7 * offset_weeks, true, active "
    "FROM ROWS FROM (unnest(CAST(:person_ids AS integer[])), unnest(CAST(:offsets AS integer[])), "
    "unnest(CAST(:actives AS boolean[]))) AS u(person_id, offset_weeks, active) "
    "ON CONFLICT (person_id, tool, week) DO UPDATE "
    "SET licensed = true, active = usage_facts.active OR excluded.active"
)
_PG_UPDATE = text(
    "UPDATE usage_facts SET licensed = true, active = usage_facts.active OR u.active "
    "FROM ROWS FROM (unnest(CAST(:ids AS integer[])), unnest(CAST(:actives AS boolean[]))) AS u(id, active) "
    "WHERE usage_facts.id = u.id"
)


@dataclass
class UsageReport:
    """What an import did (or, in a dry run, would do): counts only, never a person's usage."""

    source: str
    rows: int = 0
    people: int = 0
    unmatched: list[str] = field(default_factory=list)  # distinct, as the file gives them (no person)
    unmatched_rows: int = 0
    without_email: int = 0  # rows naming an account that is not an email (a GitHub login, a hidden name)
    first_week: date | None = None
    last_week: date | None = None
    weeks: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0

    def summary(self) -> str:
        covered = (
            f"{self.weeks:,} week{'s' if self.weeks != 1 else ''} covered "
            f"(weeks of {self.first_week:%Y-%m-%d} to {self.last_week:%Y-%m-%d})"
            if self.first_week and self.last_week
            else "no week covered"
        )
        return (
            f"{self.rows:,} row{'s' if self.rows != 1 else ''} read ({self.source}): "
            f"{self.people:,} {'person' if self.people == 1 else 'people'} matched, "
            f"{len(self.unmatched):,} unmatched ({self.unmatched_rows:,} rows); {covered}; "
            f"weekly facts: {self.added:,} added, {self.changed:,} changed, {self.unchanged:,} unchanged."
        )


def import_usage(session: Session, parsed: ParsedUsage) -> UsageReport:
    """Store the report's weekly facts in `session`'s transaction; UsageFileError (nothing written) if a
    row is bad."""
    if parsed.errors:
        errors = sorted(parsed.errors)
        raise UsageFileError([f"{parsed.unit} {number}: {reason}" for number, reason in errors])
    report = UsageReport(parsed.source, rows=len(parsed.rows))
    emails = {row.email for row in parsed.rows if row.email}
    person_of: dict[str, int] = {}
    if emails:
        everyone = session.execute(select(PEOPLE.c.email, PEOPLE.c.id).where(PEOPLE.c.email.is_not(None)))
        person_of = {email: id_ for email, id_ in everyone.all() if email in emails}

    wanted: dict[Key, bool] = {}  # every fact a report gives is licensed; the value says active
    unmatched: dict[str, None] = {}
    matched: set[int] = set()
    for row in parsed.rows:
        person_id = person_of.get(row.email) if row.email else None
        if person_id is None:
            report.unmatched_rows += 1
            report.without_email += row.email is None
            unmatched.setdefault(row.who, None)
            continue
        matched.add(person_id)
        tool, active_weeks = row.tool, row.active
        for week in row.licensed:
            key = (person_id, tool, week)
            if week in active_weeks:
                wanted[key] = True
            elif key not in wanted:
                wanted[key] = False
    report.people = len(matched)
    report.unmatched = list(unmatched)
    if not wanted:
        return report
    weeks = {key[2] for key in wanted}
    report.first_week, report.last_week, report.weeks = min(weeks), max(weeks), len(weeks)

    existing: dict[Key, tuple[int, bool, bool]] = {}
    tools = sorted({key[1] for key in wanted})
    for id_, person_id, tool, week, licensed, active in session.execute(
        select(FACTS.c.id, FACTS.c.person_id, FACTS.c.tool, FACTS.c.week, FACTS.c.licensed, FACTS.c.active)
        .where(FACTS.c.tool.in_(tools))
        .where(and_(FACTS.c.week >= report.first_week, FACTS.c.week <= report.last_week))
    ):
        existing[(person_id, tool, week)] = (id_, bool(licensed), bool(active))

    new: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for key, active in wanted.items():
        found = existing.get(key)
        if found is None:
            person_id, tool, week = key
            new.append(
                {"person_id": person_id, "tool": tool, "week": week, "licensed": True, "active": active}
            )
            continue
        id_, was_licensed, was_active = found
        if not was_licensed or (active and not was_active):
            changes.append({"fact_id": id_, "new_licensed": True, "new_active": was_active or active})
    if session.get_bind().dialect.name == "postgresql":
        _write_postgresql(session, new, changes)
    else:
        if new:
            session.execute(insert(FACTS), new)
        if changes:
            session.execute(
                update(FACTS)
                .where(FACTS.c.id == bindparam("fact_id"))
                .values(licensed=bindparam("new_licensed"), active=bindparam("new_active")),
                changes,
            )
    report.added, report.changed = len(new), len(changes)
    report.unchanged = len(wanted) - len(new) - len(changes)
    session.flush()
    return report


def _write_postgresql(session: Session, new: list[dict[str, Any]], changes: list[dict[str, Any]]) -> None:
    """Weeks travel as whole weeks after the first, one statement per tool, and each array as one text
    literal of numbers (`{1,2,3}`): the driver would otherwise check every element for quoting."""
    by_tool: dict[str, list[dict[str, Any]]] = {}
    for row in new:
        by_tool.setdefault(row["tool"], []).append(row)
    for tool, rows in by_tool.items():
        first_week = min(row["week"] for row in rows)
        for start in range(0, len(rows), _CHUNK):
            part = rows[start : start + _CHUNK]
            session.execute(
                _PG_INSERT,
                {
                    "tool": tool,
                    "first_week": first_week,
                    "person_ids": _array(row["person_id"] for row in part),
                    "offsets": _array((row["week"] - first_week).days // 7 for row in part),
                    "actives": _array("t" if row["active"] else "f" for row in part),
                },
            )
    for start in range(0, len(changes), _CHUNK):
        part = changes[start : start + _CHUNK]
        session.execute(
            _PG_UPDATE,
            {
                "ids": _array(row["fact_id"] for row in part),
                "actives": _array("t" if row["new_active"] else "f" for row in part),
            },
        )


def _array(values: Iterable[object]) -> str:
    """A PostgreSQL array literal of numbers or t/f, which need no quoting."""
    return "{" + ",".join(map(str, values)) + "}"
