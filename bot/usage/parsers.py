"""Reading the AI tools' own usage reports: each vendor's admin export, checked row by row.

Every parser turns a CSV file into `UsageRow`s: who (an email, lower-case, or the account name the report
gives when it has no email), which tool, the ISO weeks (Mondays) in which the report says the person held
a licence, and those in which it shows activity. Rules, per source (`SOURCES`):

- `m365-copilot`: the Microsoft 365 admin center's Copilot usage report, user detail (also what Microsoft
  Graph's getMicrosoft365CopilotUsageUserDetail returns as CSV): `Report Refresh Date`, `Report Period`
  (days), `User Principal Name`, `Last Activity Date` and a `<App> Copilot Last Activity Date` per app.
  The period is the `Report Period` days ending on the refresh date: everyone listed is licensed in each
  of its weeks, and active in the week of each last-activity date that falls in it.
- `chatgpt-enterprise`: ChatGPT Enterprise/Edu workspace analytics, user engagement export (weekly or
  monthly): `email`, `period_start`, `period_end`, `first_day_active_in_period`,
  `last_day_active_in_period` (and `last_day_active`). Licensed in each week of the period, active in the
  weeks of the first and last active day in it.
- `github-copilot`, either of two exports, told apart by their content:
  - the activity report (CSV, from the organisation's or enterprise's Copilot access management page):
    `report_time`, `login`, `last_authenticated_at`, `last_activity_at`, `last_surface_used`. A seat at
    `report_time` is a licence in that week; the week of `last_activity_at` is active (and licensed: the
    activity used the seat).
  - the per-user Copilot usage metrics report (NDJSON, one record per user and day, or a JSON array of
    them: the files that `GET /enterprises/{enterprise}/copilot/metrics/reports/users-1-day` or
    `users-28-day`, and the organisation's equivalents, link to): `user_login`, `day`, and the day's
    `user_initiated_interaction_count`, `code_acceptance_activity_count` and `used_chat`, `used_agent`,
    `used_cli`, `used_copilot_code_review_active`. A listed user-day is licensed in its week (only seated
    users are reported) and active when one of those counts is above 0 or one of those flags is true
    (suggestions merely shown, `code_generation_activity_count`, and passive code review do not count).
  Both are matched by an `email` when the file has one, else through the `login,email` mapping the
  customer gives (`logins`); a login neither names is unmatched, never guessed.
- `gemini`: a per-user, per-day listing of Gemini for Google Workspace use saved from the Admin
  console (a user email column: `User`, `Email`, `User email` or `Actor`; a date column: `Date`,
  `Event date`, `Last active` or `Last used`), or the Admin SDK Reports API's activities of
  `applicationName=gemini_in_workspace_apps` as JSON (the `activities.list` answer, its `items`, one per
  line or in an array): `actor.email`, `id.time`. Each row or activity: licensed and active in its week.
- `generic`: `email,date,tool,active` (one row per person, tool and day; `active` 1/0, true/false or
  yes/no), or `email,last_active,tool` with optional `period_start,period_end` (licensed in each week of
  the period, or else the week of `last_active`; active in the week of `last_active`). `tool` is a tool
  id of the content library (tools.toml).

Dates: `YYYY-MM-DD`, or an ISO 8601 date and time (`2026-11-30T14:05:00Z`, `2026-11-30 14:05:00`;
with an offset it is taken in UTC); or as a spreadsheet saves them in the exporter's locale: `30.11.2026`
(day first), `30/11/2026` or `11/30/2026`, with or without a time after it. Which of day and month comes
first in a slashed date is read off the file (a first number above 12 means day first, a second one
above 12 month first) or given with `--date-order dmy|mdy`; a file that says neither, or both, stops
with a one-line error (`date_order`).
Files: UTF-8 with or without a BOM (or UTF-16 with one); CSV `,` or `;` separated, quoted cells; JSON
reports are numbered by line (NDJSON) or by record (a JSON array).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from bot import csv_files
from bot.errors import UsageError

SOURCES = ("m365-copilot", "chatgpt-enterprise", "github-copilot", "gemini", "generic")
MAX_PERIOD_DAYS = 400  # a longer report period is far likelier a wrong date than a real export
_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TRUE = frozenset({"1", "true", "yes", "y"})
_FALSE = frozenset({"0", "false", "no", "n"})
_DATE_HELP = "use YYYY-MM-DD, an ISO 8601 date and time, or the locale's D.M.YYYY, D/M/YYYY or M/D/YYYY"
_LOCAL_DATE = re.compile(
    r"^(\d{1,2})([./])(\d{1,2})\2(\d{4})(?:[ T,]+\d{1,2}:\d{2}(?::\d{2})?(?: ?[AaPp][Mm])?)?$"
)
_SLASHED = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\d/])")
DATE_ORDERS = ("dmy", "mdy")
# The order of day and month in this file's slashed dates (set by parse_usage for the file it reads).
_ORDER: ContextVar[str | None] = ContextVar("usage_date_order", default=None)


class UsageRow(NamedTuple):
    """One valid row: who, which tool, the weeks (Mondays) licensed and the weeks active (a named tuple:
    a report has hundreds of thousands)."""

    line: int
    who: str  # the email, lower-case; else the account name the report gives (listed as unmatched)
    email: str | None
    tool: str
    licensed: frozenset[date]
    active: frozenset[date]


@dataclass
class ParsedUsage:
    source: str
    rows: list[UsageRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    unit: str = "line"  # what the numbers count: a line of the file, or a record of a JSON array


class UsageFileError(UsageError):
    """The file has bad rows; `errors` lists every one as `line N: reason` (or `record N: reason`), in
    file order."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        more = len(errors) - 1
        tail = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{errors[0]}{tail}; nothing was imported.")


class _BadRow(Exception):
    """A reason to reject the row being read (caught per row, collected with its line number)."""


@lru_cache(maxsize=4096)  # a report repeats the same few hundred dates
def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


@lru_cache(maxsize=1024)
def weeks_between(first: date, last: date) -> frozenset[date]:
    """The Mondays of every ISO week that has a day in [first, last]."""
    start, end = monday(first), monday(last)
    return frozenset(start + timedelta(weeks=i) for i in range((end - start).days // 7 + 1))


def parse_usage(
    text: str,
    source: str,
    tools: Collection[str],
    *,
    name: str = "usage",
    logins: Mapping[str, str] | None = None,
    date_order: str | None = None,
) -> ParsedUsage:
    """Check every row of a `source` report; collect `(line, reason)` for each bad one. `logins` maps
    GitHub logins (lower-case) to emails, for `github-copilot` only; `date_order` ("dmy" or "mdy") says
    how to read slashed dates (default: read off the file)."""
    if source not in SOURCES:
        raise UsageError(f"unknown source {source!r} (one of: {', '.join(SOURCES)}).")
    if logins is not None and source != "github-copilot":
        raise UsageError("--logins maps GitHub logins to emails: it goes with --source github-copilot only.")
    if text.lstrip()[:1] in ("{", "["):
        return _parse_json(text, source, name, logins or {})  # JSON exports use ISO 8601 dates only
    token = _ORDER.set(file_date_order(text, name, date_order))
    try:
        return _parse(text, source, tools, name, logins)
    finally:
        _ORDER.reset(token)


def file_date_order(text: str, name: str, declared: str | None = None) -> str | None:
    """Whether the file's slashed dates put the day or the month first: `declared`, else what the dates
    themselves show; None when there are none. UsageError when they cannot tell, or contradict."""
    if declared is not None:
        if declared not in DATE_ORDERS:
            raise UsageError(f"unknown date order {declared!r} (dmy or mdy).")
        return declared
    day_first = month_first = None
    example = None
    # Each distinct date once, in the order the file first writes it (a report repeats a few hundred).
    for found in dict.fromkeys(_SLASHED.findall(text) if "/" in text else ()):
        written = "/".join(found)
        first, second = int(found[0]), int(found[1])
        example = example or written
        if first > 12 and day_first is None:
            day_first = written
        if second > 12 and month_first is None:
            month_first = written
        if day_first and month_first:
            raise UsageError(
                f"{name}: the dates {day_first} and {month_first} disagree on whether the day or the month "
                "comes first; export the report again with YYYY-MM-DD dates."
            )
    if day_first:
        return "dmy"
    if month_first:
        return "mdy"
    if example is not None:
        raise UsageError(
            f"{name}: dates such as {example} may be day/month or month/day and none in the file tells "
            "which; say it with --date-order dmy or --date-order mdy."
        )
    return None


def _parse(
    text: str,
    source: str,
    tools: Collection[str],
    name: str,
    logins: Mapping[str, str] | None,
) -> ParsedUsage:
    reader = csv_files.reader(text)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise UsageError(f"{name}: line 1 is not valid CSV ({error}).") from None
    if header is None or not any(h.strip() for h in header):
        raise UsageError(f"{name} is empty; it needs the report's header row.")
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        columns.setdefault(_key(raw), index)
    if source == "github-copilot":
        row_reader = _github(columns, header, name, logins or {})
    else:
        row_reader = _READERS[source](columns, header, name, tools)
    parsed = ParsedUsage(source)
    for line, record in csv_files.records(reader, name):
        if len(record) > len(header):
            parsed.errors.append(
                (line, f"{len(record)} fields but the header has {len(header)} (quote cells with commas)")
            )
            continue
        try:
            parsed.rows.append(row_reader(line, [value.strip() for value in record]))
        except _BadRow as reason:
            parsed.errors.append((line, str(reason)))
    return parsed


def _key(name: str) -> str:
    """A header cell compared without case, spaces or punctuation: `Last Activity Date` = lastactivitydate."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


RowReader = Callable[[int, list[str]], UsageRow]


class _Columns:
    """The columns a parser needs, found in the header (a missing required one stops the whole file)."""

    def __init__(self, columns: dict[str, int], header: list[str], name: str) -> None:
        self.columns, self.header, self.name = columns, header, name

    def need(self, *names: str) -> int:
        for candidate in names:
            if _key(candidate) in self.columns:
                return self.columns[_key(candidate)]
        wanted = " or ".join(f"'{n}'" for n in names)
        raise UsageError(
            f"{self.name}: the header (line 1) has no column {wanted}: is this the right --source?"
        )

    def maybe(self, *names: str) -> int | None:
        for candidate in names:
            if _key(candidate) in self.columns:
                return self.columns[_key(candidate)]
        return None


def _cell(record: list[str], index: int | None) -> str:
    return record[index] if index is not None and index < len(record) else ""


def _date(value: str, what: str) -> date:
    day = _day(value, _ORDER.get())
    if day is None:
        raise _BadRow(f"bad {what} {value!r} ({_DATE_HELP})")
    return day


@lru_cache(maxsize=65536)  # a report repeats the same few hundred dates on every row
def _day(value: str, order: str | None = None) -> date | None:
    local = _LOCAL_DATE.match(value)
    if local is not None:
        first, sep, second, year = local.groups()
        day_first = sep == "." or order == "dmy"
        if sep == "/" and order is None:
            return None
        day, month = (int(first), int(second)) if day_first else (int(second), int(first))
        try:
            return date(int(year), month, day)
        except ValueError:
            return None
    try:
        if _DATE.match(value):
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _optional_date(value: str, what: str) -> date | None:
    return _date(value, what) if value else None


def _email(value: str, what: str) -> str:
    if not value:
        raise _BadRow(f"missing {what}")
    return value.lower()


def _is_email(value: str) -> bool:
    return bool(_EMAIL.match(value)) and len(value) <= 254


def _row(
    line: int,
    who: str,
    tool: str,
    licensed: AbstractSet[date],
    active: AbstractSet[date],
    email: str | None = None,
) -> UsageRow:
    """`email`: the address `who` (a login) is known by; else `who` itself when it is an email. A
    `licensed` frozenset that holds every active week is kept as it is (rows of a report share one)."""
    if email is None:
        email = who if _is_email(who) else None
    held = frozenset(licensed) if active <= licensed else frozenset(licensed | active)
    return _new_row(UsageRow, (line, who, email, tool, held, frozenset(active)))


_new_row = tuple.__new__  # a UsageRow from its six fields, without NamedTuple's keyword-taking __new__


def _in(period: frozenset[date], day: date | None) -> set[date]:
    if day is None:
        return set()
    week = monday(day)
    return {week} if week in period else set()


def _period(first: date, last: date) -> frozenset[date]:
    if last < first:
        raise _BadRow(f"the period ends ({last}) before it starts ({first})")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise _BadRow(f"a period of {(last - first).days + 1:,} days (at most {MAX_PERIOD_DAYS} are read)")
    return weeks_between(first, last)


# --- Microsoft 365 Copilot ---------------------------------------------------------------------------


def _m365(columns: dict[str, int], header: list[str], name: str, tools: Collection[str]) -> RowReader:
    found = _Columns(columns, header, name)
    refresh = found.need("Report Refresh Date")
    period = found.need("Report Period")
    upn = found.need("User Principal Name")
    found.need("Last Activity Date", "Last activity date of Microsoft 365 Copilot (UTC)")
    activity = [(i, h.strip()) for i, h in enumerate(header) if "lastactivitydate" in _key(h)]

    def read(line: int, record: list[str]) -> UsageRow:
        who = _email(_cell(record, upn), "User Principal Name")
        refreshed = _date(_cell(record, refresh), "Report Refresh Date")
        days = _cell(record, period)
        if not days.isdigit() or not 1 <= int(days) <= MAX_PERIOD_DAYS:
            raise _BadRow(f"bad Report Period {days!r} (the number of days, such as 7, 30, 90 or 180)")
        weeks = _period(refreshed - timedelta(days=int(days) - 1), refreshed)
        active: set[date] = set()
        size = len(record)
        for index, column in activity:
            if index < size and record[index]:
                week = monday(_date(record[index], column))
                if week in weeks:
                    active.add(week)
        return _row(line, who, "m365-copilot", weeks, active)

    return read


# --- ChatGPT Enterprise / Edu ------------------------------------------------------------------------


def _chatgpt(columns: dict[str, int], header: list[str], name: str, tools: Collection[str]) -> RowReader:
    found = _Columns(columns, header, name)
    email = found.need("email")
    start, end = found.need("period_start"), found.need("period_end")
    first = found.maybe("first_day_active_in_period")
    last = found.maybe("last_day_active_in_period")
    last_ever = found.maybe("last_day_active")

    def read(line: int, record: list[str]) -> UsageRow:
        who = _email(_cell(record, email), "email")
        weeks = _period(_date(_cell(record, start), "period_start"), _date(_cell(record, end), "period_end"))
        active = _in(weeks, _optional_date(_cell(record, first), "first_day_active_in_period"))
        active |= _in(weeks, _optional_date(_cell(record, last), "last_day_active_in_period"))
        if first is None and last is None:
            active |= _in(weeks, _optional_date(_cell(record, last_ever), "last_day_active"))
        return _row(line, who, "chatgpt-enterprise", set(weeks), active)

    return read


# --- GitHub Copilot ----------------------------------------------------------------------------------


def _github(columns: dict[str, int], header: list[str], name: str, logins: Mapping[str, str]) -> RowReader:
    found = _Columns(columns, header, name)
    report_time = found.need("report_time")
    login = found.need("login")
    last_activity = found.need("last_activity_at")
    email = found.maybe("email")

    def read(line: int, record: list[str]) -> UsageRow:
        address = _cell(record, email).lower()
        account = _cell(record, login)
        if not address and not account:
            raise _BadRow("missing login")
        seat = monday(_date(_cell(record, report_time), "report_time"))
        used = _optional_date(_cell(record, last_activity), "last_activity_at")
        active = {monday(used)} if used is not None and monday(used) <= seat else set()
        if address:
            return _row(line, address, "github-copilot", {seat}, active)
        return _row(line, account, "github-copilot", {seat}, active, logins.get(account.lower()))

    return read


# --- Gemini for Google Workspace ---------------------------------------------------------------------


def _gemini(columns: dict[str, int], header: list[str], name: str, tools: Collection[str]) -> RowReader:
    found = _Columns(columns, header, name)
    email = found.need("User", "Email", "User email", "Actor")
    day = found.need("Date", "Event date", "Last active", "Last used")
    day_name = header[day].strip()

    def read(line: int, record: list[str]) -> UsageRow:
        who = _email(_cell(record, email), "user email")
        week = monday(_date(_cell(record, day), day_name))
        return _row(line, who, "gemini", {week}, {week})

    return read


# --- generic -----------------------------------------------------------------------------------------


def _generic(columns: dict[str, int], header: list[str], name: str, tools: Collection[str]) -> RowReader:
    found = _Columns(columns, header, name)
    email = found.need("email")
    tool = found.need("tool")
    day = found.maybe("date")
    flag = found.maybe("active")
    last_active = found.maybe("last_active")
    start, end = found.maybe("period_start"), found.maybe("period_end")
    if day is None and last_active is None:
        raise UsageError(
            f"{name}: the header (line 1) needs 'email,date,tool,active' or 'email,last_active,tool'."
        )
    if day is not None and flag is None:
        raise UsageError(f"{name}: the header (line 1) has 'date' but no 'active' column.")
    if (start is None) != (end is None):
        raise UsageError(
            f"{name}: the header (line 1) needs both 'period_start' and 'period_end', or neither."
        )
    known = sorted(tools)

    def read(line: int, record: list[str]) -> UsageRow:
        who = _email(_cell(record, email), "email")
        tool_id = _cell(record, tool).lower()
        if tool_id not in tools:
            listed = ", ".join(known) or "none: the content library has no tools.toml"
            raise _BadRow(f"unknown tool {_cell(record, tool)!r} (tool ids: {listed})")
        if day is not None:
            week = monday(_date(_cell(record, day), "date"))
            value = _cell(record, flag).lower()
            if value not in _TRUE and value not in _FALSE:
                raise _BadRow(f"bad active value {_cell(record, flag)!r} (use 1/0, true/false or yes/no)")
            return _row(line, who, tool_id, {week}, {week} if value in _TRUE else set())
        used = _optional_date(_cell(record, last_active), "last_active")
        if start is not None and end is not None:
            weeks = _period(
                _date(_cell(record, start), "period_start"), _date(_cell(record, end), "period_end")
            )
            return _row(line, who, tool_id, set(weeks), _in(weeks, used))
        if used is None:
            raise _BadRow("missing last_active (and no period_start/period_end to say when)")
        return _row(line, who, tool_id, {monday(used)}, {monday(used)})

    return read


# --- JSON reports: GitHub Copilot usage metrics, Google Workspace Reports API ------------------------

_GITHUB_COUNTS = ("user_initiated_interaction_count", "code_acceptance_activity_count")
_GITHUB_FLAGS = ("used_chat", "used_agent", "used_cli", "used_copilot_code_review_active")
_GEMINI_APP = "gemini_in_workspace_apps"
JsonReader = Callable[[int, object, Mapping[str, str]], UsageRow]


def _parse_json(text: str, source: str, name: str, logins: Mapping[str, str]) -> ParsedUsage:
    """A JSON report: records numbered by line (NDJSON, or concatenated documents) or, when the file is
    one JSON value (an array, or one answer of an API), by record."""
    if source not in ("github-copilot", "gemini"):
        raise UsageError(f"{name} is JSON: --source {source} reads the admin console's CSV export.")
    whole, documents, errors = _json_documents(text, name)
    unit = "line"
    if whole:
        unit = "record"
        only = documents[0][1]
        documents = list(enumerate(only, 1)) if isinstance(only, list) else [(1, only)]
    parsed = ParsedUsage(source, errors=errors, unit=unit)
    read: JsonReader = _github_record if source == "github-copilot" else _gemini_activity
    for position, prefix, record in _json_records(documents, unit, source, name):
        try:
            parsed.rows.append(read(position, record, logins))
        except _BadRow as reason:
            parsed.errors.append((position, f"{prefix}{reason}"))
    return parsed


def _json_documents(text: str, name: str) -> tuple[bool, list[tuple[int, object]], list[tuple[int, str]]]:
    """`(whole, documents with their line, (line, reason) for bad lines)`. NDJSON (the first line is a
    JSON document and more lines follow) is read line by line; anything else is one JSON value, and a
    fault in it stops the whole file."""
    lines = text.split("\n")
    first = next((number for number, line in enumerate(lines) if line.strip()), 0)
    try:
        json.loads(lines[first])
        ndjson = any(line.strip() for line in lines[first + 1 :])
    except json.JSONDecodeError:
        ndjson = False
    if not ndjson:
        try:
            return True, [(first + 1, json.loads(text))], []
        except json.JSONDecodeError as error:
            raise UsageError(f"{name}: line {error.lineno} is not valid JSON ({error.msg}).") from None
    documents: list[tuple[int, object]] = []
    errors: list[tuple[int, str]] = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                documents.append((number, json.loads(line)))
            except json.JSONDecodeError as error:
                errors.append((number, f"not valid JSON ({error.msg})"))
    return False, documents, errors


def _json_records(
    documents: list[tuple[int, object]], unit: str, source: str, name: str
) -> Iterator[tuple[int, str, object]]:
    """`(position, prefix of its errors, record)`: the Reports API's pages give their `items`."""
    count = 0
    for position, document in documents:
        if isinstance(document, dict):
            _refuse(document, source, name)
            if source == "gemini" and (
                document.get("kind") == "admin#reports#activities" or "items" in document
            ):
                items = document.get("items") or []
                if not isinstance(items, list):
                    raise UsageError(f"{name}: 'items' is not a list of activities.")
                for index, item in enumerate(items, 1):
                    count += 1
                    yield (count, "", item) if unit == "record" else (position, f"item {index}: ", item)
                continue
        count += 1
        yield (count if unit == "record" else position), "", document


def _refuse(document: dict[str, object], source: str, name: str) -> None:
    """Stop at a JSON answer that is not a per-user report, saying which one to import instead."""
    if source == "github-copilot":
        if "download_links" in document:
            raise UsageError(
                f"{name} is the API's answer with download links: download the files its download_links "
                "point to (NDJSON, one record per user and day) and import those."
            )
        if "day_totals" in document:
            raise UsageError(
                f"{name} is an enterprise or organisation total (day_totals), with no user in it: import "
                "the per-user report (users-1-day or users-28-day)."
            )
        if "seats" in document:
            raise UsageError(
                f"{name} is the Copilot seat list, which has no report date: import the activity report "
                "CSV (report_time, login, last_activity_at) or the per-user usage metrics report."
            )
    elif "usageReports" in document:
        raise UsageError(
            f"{name} is a Reports API usage report (usageReports): import the activities of "
            f"{_GEMINI_APP} (activities.list) instead."
        )


def _json_text(record: dict[str, object], key: str) -> str:
    value = record.get(key)
    return value.strip() if isinstance(value, str) else ""


def _github_record(position: int, record: object, logins: Mapping[str, str]) -> UsageRow:
    if not isinstance(record, dict):
        raise _BadRow("not a JSON object (the report has one object per user and day)")
    login = _json_text(record, "user_login")
    if not login:
        raise _BadRow("missing user_login")
    day = _json_text(record, "day")
    if not day:
        raise _BadRow("missing day")
    week = monday(_date(day, "day"))
    active = False
    for key in _GITHUB_COUNTS:
        count = record.get(key)
        if count is None:
            continue
        if isinstance(count, bool) or not isinstance(count, int | float) or count < 0:
            raise _BadRow(f"bad {key} {count!r} (a count: 0 or more)")
        active = active or count > 0
    for key in _GITHUB_FLAGS:
        flag = record.get(key)
        if flag is None:
            continue
        if not isinstance(flag, bool):
            raise _BadRow(f"bad {key} {flag!r} (true or false)")
        active = active or flag
    used = {week} if active else set()
    address = (_json_text(record, "email") or _json_text(record, "user_email")).lower()
    if address:
        return _row(position, address, "github-copilot", {week}, used)
    return _row(position, login, "github-copilot", {week}, used, logins.get(login.lower()))


def _gemini_activity(position: int, item: object, logins: Mapping[str, str]) -> UsageRow:
    if not isinstance(item, dict):
        raise _BadRow("not a JSON object (an activity of the Reports API)")
    ident = item.get("id")
    if not isinstance(ident, dict):
        raise _BadRow("missing id.time")
    application = ident.get("applicationName")
    if application is not None and application != _GEMINI_APP:
        raise _BadRow(f"an activity of {application!r}, not of {_GEMINI_APP}")
    when = _json_text(ident, "time")
    if not when:
        raise _BadRow("missing id.time")
    week = monday(_date(when, "id.time"))
    actor = item.get("actor")
    email = _json_text(actor, "email").lower() if isinstance(actor, dict) else ""
    if not email:
        raise _BadRow("missing actor.email")
    return _row(position, email, "gemini", {week}, {week})


# --- the customer's GitHub login -> email mapping ----------------------------------------------------


def parse_logins(text: str, name: str) -> dict[str, str]:
    """A CSV with `login` and `email` columns as {login, lower-case: email, lower-case}; a UsageFileError
    lists every bad line."""
    reader = csv_files.reader(text)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise UsageError(f"{name}: line 1 is not valid CSV ({error}).") from None
    keys = [_key(cell) for cell in header or []]
    if "login" not in keys or "email" not in keys:
        raise UsageError(f"{name}: the header (line 1) needs a 'login' and an 'email' column.")
    login_at, email_at = keys.index("login"), keys.index("email")
    mapping: dict[str, str] = {}
    errors: list[str] = []
    for line, record in csv_files.records(reader, name):
        login, email = _cell(record, login_at).strip(), _cell(record, email_at).strip().lower()
        known = mapping.get(login.lower())
        if not login:
            errors.append(f"line {line}: missing login")
        elif not _is_email(email):
            errors.append(f"line {line}: bad email {email!r} for login {login!r}")
        elif known is not None and known != email:
            errors.append(f"line {line}: login {login!r} has two emails ({known} and {email})")
        else:
            mapping[login.lower()] = email
    if errors:
        raise UsageFileError(errors)
    return mapping


_READERS: dict[str, Callable[[dict[str, int], list[str], str, Collection[str]], RowReader]] = {
    "m365-copilot": _m365,
    "chatgpt-enterprise": _chatgpt,
    "gemini": _gemini,
    "generic": _generic,
}
