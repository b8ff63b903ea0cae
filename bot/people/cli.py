"""`adoptbot roster import|list|teams|sync`: who is in, in which team and role, and what Slack says."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.context import add_db_option
from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.cli.context import Context
    from bot.people.roster import ImportReport

IMPORT_HELP = """\
Upsert people from a CSV file with a header row. Columns (extra ones are ignored):
  slack_user_id   Slack user ID (U0123ABCD); or leave it empty and give `email`: `roster sync` fills it in
  email           work email (matches people already known by email)
  name            display name (empty: keep the one Slack gave)
  team            required; missing teams are created
  role            required: a role id from the content library (roles.toml)
  timezone        IANA name such as Europe/Berlin (empty: Slack's, else ADOPTBOT_TIMEZONE)
  leads           team names separated by `;` whose digest this person gets; `*` = every team
  change_manager  true/false (also yes/no, 1/0; empty = false)
  tools           the person's AI tools, tool ids from tools.toml separated by `;` (chooses their tool
                  nudges while no usage report measures them; empty = none)
  locale          language tag such as de or pt-BR (empty: Slack's, else ADOPTBOT_LOCALE)
All or nothing: any bad row aborts with `line N: reason` for every bad row, and nothing changes.
People are matched by slack_user_id, else by email; their team, role and leads become exactly the file's.
--prune deactivates active people the file does not list and takes their rights (change manager, leads);
it refuses to deactivate more than a quarter of the active people unless --force is given.
--dry-run shows who would be added, updated and deactivated, and changes nothing."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    roster = subparsers.add_parser(
        "roster",
        help="import, list and sync the people Adoptbot works with",
        description="The roster: people, their teams and roles, who leads which team.",
    )
    actions = roster.add_subparsers(dest="roster_command", metavar="ACTION")
    actions.required = True

    imp = actions.add_parser(
        "import",
        help="upsert people from a CSV file (all or nothing)",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", metavar="FILE.csv", help="the roster file (UTF-8 CSV; `-` reads standard input)")
    imp.add_argument(
        "--prune",
        action="store_true",
        help="deactivate active people the file does not list; they lose their rights",
    )
    imp.add_argument(
        "--force", action="store_true", help="let --prune deactivate more than a quarter of the active people"
    )
    imp.add_argument(
        "--dry-run", action="store_true", help="show what the import would change, and change nothing"
    )
    add_db_option(imp)
    imp.set_defaults(handler=import_roster)

    people = actions.add_parser(
        "list",
        help="list people with team, role, time zone and leads",
        description="List people. `--format csv` writes the import columns (plus active, slack_timezone, "
        "away_until, slack_locale), so the output can be edited and imported again.",
    )
    people.add_argument("--team", metavar="NAME", help="only this team")
    people.add_argument("--all", action="store_true", help="include deactivated people")
    people.add_argument(
        "--format", choices=("table", "csv"), default="table", help="output format (default: table)"
    )
    add_db_option(people)
    people.set_defaults(handler=list_people)

    teams = actions.add_parser(
        "teams",
        help="teams with member counts, roles, time zones and leaders",
        description="Teams with their active members by role and time zone, and who gets each team's digest.",
    )
    teams.add_argument(
        "--format", choices=("table", "csv"), default="table", help="output format (default: table)"
    )
    add_db_option(teams)
    teams.set_defaults(handler=list_teams)

    sync = actions.add_parser(
        "sync",
        help="fill Slack IDs, time zones, names and emails from Slack; deactivate deleted users",
        description="Read Slack's users.list: fill the Slack ID of people known by email, time zones, "
        "locales (the roster's `locale` wins), "
        "names (where the roster gave none) and emails; deactivate deleted users; note who is away. "
        "Needs SLACK_BOT_TOKEN.",
    )
    add_db_option(sync)
    sync.set_defaults(handler=sync_roster)


def import_roster(args: argparse.Namespace, ctx: Context) -> int:
    from bot.csv_files import decode
    from bot.db import session_scope
    from bot.people.roster import RosterError, import_roster, parse_roster, read_roster, scim_owns_people

    if scim_owns_people(ctx.settings):
        raise UsageError(scim_owns_people(ctx.settings) or "")
    roles, tools = ctx.library.roles.keys(), ctx.library.tools.keys()
    if args.file == "-":
        parsed = parse_roster(decode(sys.stdin.buffer.read(), "stdin"), roles, tools=tools, source="stdin")
    else:
        parsed = read_roster(Path(args.file), roles, tools)
    # A dry run is a read: it neither creates nor migrates the database, and rolls its import back.
    engine = ctx.existing_engine() if args.dry_run else ctx.engine()
    try:
        with session_scope(engine) as session:
            try:
                report = import_roster(session, parsed, prune=args.prune, force=args.force or args.dry_run)
                if not args.dry_run:
                    from bot import audit
                    from bot.models import AuditAction

                    detail = f"Roster {args.file} imported: {report.summary()}" + (
                        " (pruned)" if args.prune else ""
                    )
                    audit.record(
                        session, actor=audit.COMMAND_LINE, action=AuditAction.ROSTER_IMPORT, detail=detail
                    )
            finally:
                if args.dry_run:
                    session.rollback()
    except RosterError as error:
        if len(error.errors) > 1:
            print(f"{args.file}: {len(error.errors)} bad rows:", file=sys.stderr)
            for line in error.errors:
                print(f"  {line}", file=sys.stderr)
        raise
    if args.dry_run:
        _print_dry_run(report, refused=None if args.force else report.prune_needs_force)
        return 0
    print(report.summary())
    if report.new_teams:
        print(f"New teams ({len(report.new_teams)}): {', '.join(report.new_teams)}")
    return 0


def _print_dry_run(report: ImportReport, *, refused: str | None) -> None:
    print(f"Dry run, nothing was changed. The import would do: {report.summary()}.")
    if report.new_teams:
        print(f"New teams ({len(report.new_teams)}): {', '.join(report.new_teams)}")
    for sign, names in (
        ("+", report.added_people),
        ("~", report.updated_people),
        ("-", report.deactivated_people),
    ):
        for name in sorted(names, key=str.casefold):
            print(f"  {sign} {name}")
    if refused is not None:
        print(f"Without --force the import would stop: {refused}")


def list_people(args: argparse.Namespace, ctx: Context) -> int:
    from bot import csv_safe
    from bot.db import session_scope
    from bot.people.directory import list_people, text_table
    from bot.people.roster import ROSTER_COLUMNS

    with session_scope(ctx.existing_engine(), readonly=True) as session:
        people = list_people(session, team=args.team, include_inactive=args.all)
    if args.format == "csv":
        writer = csv_safe.writer(sys.stdout)
        writer.writerow([*ROSTER_COLUMNS, "active", "slack_timezone", "away_until", "slack_locale"])
        for p in people:
            writer.writerow(
                [
                    p.slack_user_id or "",
                    p.email or "",
                    p.name,
                    p.team or "",
                    p.role or "",
                    p.timezone or "",
                    ";".join(p.leads),
                    "true" if p.change_manager else "false",
                    p.tools or "",
                    p.locale or "",
                    "true" if p.active else "false",
                    p.slack_timezone or "",
                    f"{p.away_until:%Y-%m-%d %H:%M}" if p.away_until else "",
                    p.slack_locale or "",
                ]
            )
        return 0
    if not people:
        print("No people yet: import a roster with `adoptbot roster import FILE.csv`.")
        return 0
    rows = []
    for p in people:
        flags = ["change manager"] if p.change_manager else []
        if p.status:
            flags.append(p.status)
        if p.away_until:
            flags.append(f"away until {p.away_until:%Y-%m-%d}")
        tz = p.timezone or (f"{p.slack_timezone} (Slack)" if p.slack_timezone else "-")
        rows.append(
            [
                p.name or "-",
                p.slack_user_id or "-",
                p.email or "-",
                p.team or "-",
                p.role or "-",
                tz,
                "; ".join(p.leads) or "-",
                ", ".join(flags),
            ]
        )
    print(text_table(["name", "slack id", "email", "team", "role", "time zone", "leads", ""], rows))
    print(f"\n{len(people)} {'person' if len(people) == 1 else 'people'}")
    return 0


def list_teams(args: argparse.Namespace, ctx: Context) -> int:
    from bot import csv_safe
    from bot.db import session_scope
    from bot.people.directory import counted, org_wide_leaders, team_overview, text_table

    with session_scope(ctx.existing_engine(), readonly=True) as session:
        teams = team_overview(session, default_timezone=ctx.settings.timezone)
        everyone = org_wide_leaders(session)
    if args.format == "csv":
        writer = csv_safe.writer(sys.stdout)
        writer.writerow(["team", "members", "inactive", "roles", "timezones", "leaders"])
        for t in teams:
            writer.writerow(
                [
                    t.name,
                    t.members,
                    t.inactive,
                    counted(t.roles, limit=99),
                    counted(t.timezones, limit=99),
                    "; ".join(t.leaders),
                ]
            )
        return 0
    if not teams:
        print("No teams yet: import a roster with `adoptbot roster import FILE.csv`.")
        return 0
    rows = [
        [t.name, t.members, counted(t.roles), counted(t.timezones), ", ".join(t.leaders) or "-"]
        for t in teams
    ]
    print(text_table(["team", "members", "roles", "time zones", "leaders"], rows))
    total = sum(t.members for t in teams)
    print(f"\n{len(teams)} teams, {total} active members.", end=" ")
    print(
        f"Org-wide leaders (every team): {', '.join(everyone)}."
        if everyone
        else "No org-wide leader (leads = *)."
    )
    return 0


def sync_roster(args: argparse.Namespace, ctx: Context) -> int:
    from bot.people.slack_sync import sync_from_slack
    from bot.slack.client import make_web_client

    ctx.settings.require_slack()
    sdk_logger = logging.getLogger("slack_sdk")
    level = sdk_logger.level
    if not args.verbose:
        # slack_sdk logs each failed request at ERROR; the Failure raised instead says it in one line.
        sdk_logger.setLevel(logging.CRITICAL)
    try:
        report = sync_from_slack(ctx.engine(), make_web_client(ctx.settings))
    finally:
        sdk_logger.setLevel(level)
    print(report.summary())
    for note in report.notes:
        print(note)
    return 0
