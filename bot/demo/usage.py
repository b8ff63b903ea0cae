"""`adoptbot demo`: measured AI-tool usage, got the way a customer gets it: the vendors' weekly exports.

Two licence programmes:

- Microsoft 365 Copilot for everyone, rolled out team by team over the first half of the history. After
  their licence, people use it more week by week, each team at its own pace. The team stuck at the
  knowledge barrier (`bot.demo.pulses.stuck_team`) got its licences first, and most of them sit idle:
  licensed, and unused for weeks since a first try.
- GitHub Copilot for the engineering role, a seat each from their first week; most use it, more and more.

Every week of history has one report per tool, written as the vendor exports it: Microsoft 365 admin
center's Copilot usage, user detail, 7 days ending on Sunday (UTF-8 with a BOM, CRLF), and GitHub Copilot's
activity report with an `email` column added (GitHub gives logins only). The files go to
DIR/usage-reports/ and are imported through `bot.usage` exactly as `adoptbot usage import FILE --source
SOURCE` imports them (`parse_usage`, then `import_usage`); with --db and no folder the same text is
imported without being written.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.csv_files import decode
from bot.demo.context import DemoContext, DemoPerson, UsageImport
from bot.demo.pulses import stuck_team
from bot.models import Person
from bot.usage.parsers import parse_usage
from bot.usage.service import import_usage

M365 = "m365-copilot"
GITHUB = "github-copilot"
TOOL_NAMES = {M365: "Microsoft 365 Copilot", GITHUB: "GitHub Copilot"}  # when tools.toml lacks them
FOLDER = "usage-reports"
CODING_ROLES = frozenset({"engineering"})  # who gets a GitHub Copilot seat
IDLE_SHARE = 0.7  # of the stuck team's licences: tried once at most, then left idle
HABIT = 0.4  # someone who used a tool last week is this much likelier to use it again

# Microsoft's columns, in the order the admin center exports them.
M365_APPS = {
    "Microsoft Teams": "Microsoft Teams Copilot Last Activity Date",
    "Word": "Word Copilot Last Activity Date",
    "Excel": "Excel Copilot Last Activity Date",
    "PowerPoint": "PowerPoint Copilot Last Activity Date",
    "Outlook": "Outlook Copilot Last Activity Date",
    "OneNote": "OneNote Copilot Last Activity Date",
    "Loop": "Loop Copilot Last Activity Date",
    "Copilot Chat": "Copilot Chat Last Activity Date",
}
M365_HEADER = (
    "Report Refresh Date",
    "Report Period",
    "User Principal Name",
    "Display Name",
    "Last Activity Date",
    *M365_APPS.values(),
)
ROLE_APPS = {
    "sales": ("PowerPoint", "Outlook"),
    "engineering": ("Microsoft Teams", "Copilot Chat"),
    "support": ("Outlook", "Microsoft Teams"),
    "marketing": ("Word", "PowerPoint"),
    "finance": ("Excel", "Outlook"),
    "hr": ("Word", "Outlook"),
    "product": ("Loop", "Word"),
    "operations": ("Excel", "Microsoft Teams"),
    "legal": ("Word", "Outlook"),
    "leadership": ("Outlook", "PowerPoint"),
}
EVERYDAY_APPS = ("Microsoft Teams", "Outlook", "Copilot Chat", "Word", "OneNote")
GITHUB_HEADER = (
    "report_time",
    "login",
    "email",
    "last_authenticated_at",
    "last_activity_at",
    "last_surface_used",
)
SURFACES = (
    "vscode/1.95.3/copilot/1.245.0",
    "vscode/1.96.2/copilot-chat/0.23.2",
    "JetBrains-IU/243.21565.193/copilot-intellij/1.5.29.7524",
    "Neovim/0.10.2/copilot.vim/1.41.0",
)


@dataclass
class _Holder:
    """One person's licence for one tool: from which week, and the day of their activity in each week."""

    person: DemoPerson
    email: str
    name: str
    first_week: int  # index into ctx.week_starts
    active: dict[int, date] = field(default_factory=dict)  # week index -> a day of use that week
    apps: dict[str, str] = field(default_factory=dict)  # Microsoft: app -> last day of use so far (ISO)
    last_used: datetime | None = None  # GitHub: the last activity so far


def usage_history(ctx: DemoContext) -> None:
    """Usage reports: Microsoft 365 Copilot and GitHub Copilot, written as exported and imported."""
    rng = ctx.rng
    found = ctx.session.execute(select(Person.id, Person.email, Person.name).where(Person.email.is_not(None)))
    who = {person_id: (str(email), name) for person_id, email, name in found}
    people = [ctx.persons[p] for team in ctx.teams for p in team.member_ids if p in who]
    m365 = _m365_plan(ctx, rng, people, who)
    github = _github_plan(ctx, rng, people, who)
    folder = _folder(ctx)
    for source, holders, write in ((M365, m365, _m365_report), (GITHUB, github, _github_report)):
        if not holders:
            continue
        reports = (write(ctx, rng, holders, index) for index in range(ctx.weeks))  # each imported as made
        ctx.usage_imports.append(_import(ctx, source, (r for r in reports if r is not None), folder))
    for done in ctx.usage_imports:
        ctx.progress(
            f"{done.reports} {done.tool} reports imported: {done.rows:,} rows, {done.added:,} weekly facts"
        )


def tool_name(ctx: DemoContext, tool: str) -> str:
    """The tool's name as tools.toml gives it."""
    found = ctx.library.tools.get(tool)
    return found.name if found is not None else TOOL_NAMES.get(tool, tool)


def _week_index(ctx: DemoContext, day: date) -> int:
    return max(0, (day - ctx.start).days // 7)


def _m365_plan(
    ctx: DemoContext, rng: random.Random, people: list[DemoPerson], who: dict[int, tuple[str, str]]
) -> list[_Holder]:
    """Everyone, team by team: the stuck team first, the others over the first half of the history."""
    idle_team = stuck_team(ctx.teams)
    others = [team for team in ctx.teams if team is not idle_team]
    rng.shuffle(others)
    order = [idle_team, *others]
    rollout = max(1, (ctx.weeks + 1) // 2)
    wave = {team.id: position * rollout // len(order) for position, team in enumerate(order)}
    # A team's chance of use in a holder's first week, and its gain a week; a few teams stall.
    pace = {
        team.id: (
            rng.uniform(0.25, 0.45),
            rng.uniform(0.0, 0.02) if rng.random() < 0.15 else rng.uniform(0.04, 0.09),
        )
        for team in ctx.teams
    }
    idle = {p for p in idle_team.member_ids if p != idle_team.leader_id and rng.random() < IDLE_SHARE}
    holders = []
    for person in people:
        email, name = who[person.id]
        holder = _Holder(person, email, name, max(wave[person.team_id], _week_index(ctx, person.started_on)))
        base, gain = pace[person.team_id]
        keenness = rng.uniform(0.7, 1.3)
        for index in range(holder.first_week, ctx.weeks):
            weeks_on = index - holder.first_week
            if person.id in idle:
                chance = 0.5 if weeks_on == 0 else 0.0
            else:
                chance = min(0.9, (base + gain * weeks_on) * keenness)
                if index - 1 in holder.active:
                    chance += (1 - chance) * HABIT
            if rng.random() < chance:
                holder.active[index] = ctx.week_starts[index] + timedelta(days=rng.randrange(5))
        holders.append(holder)
    return holders


def _github_plan(
    ctx: DemoContext, rng: random.Random, people: list[DemoPerson], who: dict[int, tuple[str, str]]
) -> list[_Holder]:
    """The engineering role: a seat from their first week; most use it, a little more every week."""
    holders = []
    team_pace = {team.id: rng.uniform(0.8, 1.1) for team in ctx.teams}
    for person in people:
        if person.role not in CODING_ROLES:
            continue
        email, name = who[person.id]
        holder = _Holder(person, email, name, _week_index(ctx, person.started_on))
        keenness = rng.uniform(0.6, 1.3) * team_pace[person.team_id]
        for index in range(holder.first_week, ctx.weeks):
            chance = min(0.9, (0.4 + 0.05 * (index - holder.first_week)) * keenness)
            if index - 1 in holder.active:
                chance += (1 - chance) * HABIT
            if rng.random() < chance:
                holder.active[index] = ctx.week_starts[index] + timedelta(days=rng.randrange(5))
        holders.append(holder)
    return holders


def _csv(rows: Iterable[Iterable[object]], *, line_end: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=line_end).writerows(rows)
    return out.getvalue()


def _m365_report(
    ctx: DemoContext, rng: random.Random, holders: list[_Holder], index: int
) -> tuple[str, bytes] | None:
    """The user detail report refreshed on the week's Sunday, over its 7 days: everyone licensed by then,
    with the last day each app was used (which may be weeks ago, or never)."""
    refreshed = ctx.week_starts[index] + timedelta(days=6)
    refresh_cell = refreshed.isoformat()
    rows: list[list[object]] = [list(M365_HEADER)]
    days: dict[date, str] = {}  # each day of use, written once (a week has five)
    for holder in holders:
        if holder.first_week > index:
            continue
        day = holder.active.get(index)
        if day is not None:
            favourites = ROLE_APPS.get(holder.person.role, EVERYDAY_APPS[:2])
            used = {rng.choice(favourites)}
            if rng.random() < 0.5:
                used.add(rng.choice(EVERYDAY_APPS))
            written = days.get(day) or days.setdefault(day, day.isoformat())
            for app in used:
                holder.apps[app] = written
        apps = holder.apps
        # ISO 8601 dates compare as the days they name; "" where an app was never used.
        last = max(apps.values(), default="")
        per_app = [apps.get(app, "") for app in M365_APPS]
        rows.append([refresh_cell, 7, holder.email, holder.name, last, *per_app])
    if len(rows) == 1:
        return None
    name = f"{M365}-{refreshed.isoformat()}.csv"
    return name, _csv(rows, line_end="\r\n").encode("utf-8-sig")


def _github_report(
    ctx: DemoContext, rng: random.Random, holders: list[_Holder], index: int
) -> tuple[str, bytes] | None:
    """The activity report taken on the week's Sunday evening: every seat, with its last activity so far."""
    sunday = ctx.week_starts[index] + timedelta(days=6)
    taken = f"{sunday.isoformat()}T20:00:00Z"
    rows: list[list[object]] = [list(GITHUB_HEADER)]
    for holder in holders:
        if holder.first_week > index:
            continue
        day = holder.active.get(index)
        if day is not None:
            holder.last_used = datetime.combine(day, time(rng.randrange(7, 17), rng.randrange(60)))
        last = holder.last_used
        authenticated = last - timedelta(minutes=rng.randrange(5, 240)) if last else None
        rows.append(
            [
                taken,
                holder.email.split("@")[0].replace(".", "-") + "-ex",
                holder.email,
                f"{authenticated.isoformat()}Z" if authenticated else "",  # whole minutes: ...T09:37:00Z
                f"{last.isoformat()}Z" if last else "",
                SURFACES[holder.person.id % len(SURFACES)] if last else "",
            ]
        )
    if len(rows) == 1:
        return None
    name = f"{GITHUB}-{sunday.isoformat()}.csv"
    return name, _csv(rows, line_end="\n").encode("utf-8")


def _folder(ctx: DemoContext) -> Path | None:
    """DIR/usage-reports, emptied of the reports an earlier demo wrote there (nothing else is touched)."""
    if ctx.out_dir is None:
        return None
    folder = ctx.out_dir / FOLDER
    folder.mkdir(exist_ok=True)
    for source in (M365, GITHUB):
        for stale in folder.glob(f"{source}-*.csv"):
            stale.unlink()
    return folder


def _import(
    ctx: DemoContext, source: str, reports: Iterable[tuple[str, bytes]], folder: Path | None
) -> UsageImport:
    """Write each report and import it as `adoptbot usage import FILE --source SOURCE` does."""
    files: list[Path] = []
    count = rows = people = unmatched = added = changed = 0
    for name, data in reports:
        count += 1
        if folder is not None:
            path = folder / name
            path.write_bytes(data)
            files.append(path)
        parsed = parse_usage(decode(data, name), source, ctx.library.tools.keys(), name=name)
        report = import_usage(ctx.session, parsed)
        rows += report.rows
        people = report.people  # licences are never taken back: the latest report lists everyone
        unmatched += report.unmatched_rows
        added += report.added
        changed += report.changed
    return UsageImport(
        tool_name(ctx, source), source, tuple(files), count, rows, people, unmatched, added, changed
    )


def usage_section(ctx: DemoContext) -> str:
    """What was imported from the usage reports, and where the files are (counts only, as the import)."""
    if not ctx.usage_imports:
        return "No usage report: nobody in the demo holds a licence."
    lines = []
    for done in ctx.usage_imports:
        reports = f"{done.reports} weekly report{'s' if done.reports != 1 else ''}"
        lines.append(
            f"{done.tool} (--source {done.source}): {reports}, {done.rows:,} rows, "
            f"{done.people:,} people in the latest, {done.unmatched:,} unmatched rows; "
            f"weekly facts: {done.added:,} added, {done.changed:,} changed."
        )
    example = next((done for done in ctx.usage_imports if done.files), None)
    if example is not None:
        lines.append(
            f"\nThe reports are in {example.files[0].parent}; each was imported the way "
            f"`adoptbot usage import FILE --source {'|'.join(d.source for d in ctx.usage_imports)}` "
            "imports it (importing one again changes nothing)."
        )
    return "\n".join(lines)
