"""`adoptbot usage import FILE --source SOURCE`: the AI tools' own usage reports, as weekly facts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli.context import add_db_option

if TYPE_CHECKING:
    from bot.cli.context import Context
    from bot.usage.parsers import UsageFileError

# The parsers' names, repeated here so that `adoptbot --help` does not import them.
SOURCES = ("m365-copilot", "chatgpt-enterprise", "github-copilot", "gemini", "generic")

IMPORT_HELP = """\
Import an AI tool's own usage report (the admin console's export) as weekly facts per person: whether
they held a licence for the tool and whether the report shows them active, per ISO week.
Sources (--source) and the fields read (others are ignored):
  m365-copilot        Microsoft 365 admin center > Reports > Usage > Copilot, user detail (or Graph's
                      getMicrosoft365CopilotUsageUserDetail as CSV): Report Refresh Date, Report Period,
                      User Principal Name, Last Activity Date and each "<App> Copilot Last Activity Date"
  chatgpt-enterprise  ChatGPT Enterprise/Edu workspace analytics, user export (weekly or monthly): email,
                      period_start, period_end, first_day_active_in_period, last_day_active_in_period
  github-copilot      either the Copilot activity report CSV (access management page): report_time,
                      login, last_activity_at; or the per-user Copilot usage metrics report (NDJSON or a
                      JSON array, the files the users-1-day / users-28-day endpoints link to): user_login,
                      day, user_initiated_interaction_count, code_acceptance_activity_count, used_chat,
                      used_agent, used_cli, used_copilot_code_review_active. Matched by an email field
                      when the file has one, else by --logins FILE (login,email); else unmatched
  gemini              Gemini use per user and day from the Google Admin console (CSV): User (or Email,
                      Actor) and Date (or Last active, Last used); or the Reports API's activities of
                      gemini_in_workspace_apps (JSON): actor.email, id.time
  generic             email,date,tool,active (active: 1/0, true/false, yes/no), or
                      email,last_active,tool[,period_start,period_end]; tool = an id from tools.toml
Dates: YYYY-MM-DD or ISO 8601 date and time, or the exporter's locale: 30.11.2026, 30/11/2026 or
11/30/2026 (day or month first: read off the file, or --date-order dmy|mdy). People are matched by
email, case-insensitive; rows that match nobody are counted (--show-unmatched lists their emails or
logins), never guessed. Facts only ever turn on: re-importing a file changes nothing, overlapping reports
merge. All or nothing: any bad row aborts with `line N: reason` (`record N` in a JSON array) for every
bad row, and nothing changes. --dry-run shows the summary and writes nothing. Only counts are printed;
no one's usage is ever shown."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    usage = subparsers.add_parser(
        "usage",
        help="import the AI tools' own usage reports (licences and activity per person and week)",
        description="Measured adoption: the AI tools' own usage reports.",
    )
    actions = usage.add_subparsers(dest="usage_command", metavar="ACTION")
    actions.required = True
    imp = actions.add_parser(
        "import",
        help="import a usage report (all or nothing)",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", metavar="FILE", help="the report (CSV or JSON; `-` reads standard input)")
    imp.add_argument("--source", required=True, choices=SOURCES, help="which tool's report the file is")
    imp.add_argument(
        "--date-order",
        choices=("dmy", "mdy"),
        help="how to read dates like 03/04/2026 (day/month or month/day) when the file does not show it",
    )
    imp.add_argument("--dry-run", action="store_true", help="show what the import would do; change nothing")
    imp.add_argument(
        "--show-unmatched", action="store_true", help="list the emails (or accounts) that match nobody"
    )
    imp.add_argument(
        "--logins",
        metavar="FILE",
        help="github-copilot: a CSV with login and email columns that says whose each GitHub login is",
    )
    add_db_option(imp)
    imp.set_defaults(handler=import_usage)


def import_usage(args: argparse.Namespace, ctx: Context) -> int:
    from bot.csv_files import decode
    from bot.db import session_scope
    from bot.errors import UsageError
    from bot.usage.parsers import UsageFileError, parse_logins, parse_usage
    from bot.usage.service import import_usage

    if args.file == "-":
        name, data = "stdin", sys.stdin.buffer.read()
    else:
        name, data = _read(args.file)
    logins = None
    if args.logins is not None:
        if args.source != "github-copilot":
            raise UsageError("--logins maps GitHub logins to emails: it goes with --source github-copilot.")
        logins_name, logins_data = _read(args.logins)
        try:
            logins = parse_logins(decode(logins_data, logins_name), logins_name)
        except UsageFileError as error:
            _list_bad_rows(args.logins, error)
            raise UsageError(f"{args.logins}: {error}") from None
    parsed = parse_usage(
        decode(data, name),
        args.source,
        ctx.library.tools.keys(),
        name=name,
        logins=logins,
        date_order=args.date_order,
    )
    # A dry run is a read: it neither creates nor migrates the database, and rolls its import back.
    engine = ctx.existing_engine() if args.dry_run else ctx.engine()
    try:
        with session_scope(engine) as session:
            try:
                report = import_usage(session, parsed)
            finally:
                if args.dry_run:
                    session.rollback()
    except UsageFileError as error:
        _list_bad_rows(args.file, error)
        raise
    prefix = "Dry run, nothing was changed. The import would do: " if args.dry_run else ""
    print(prefix + report.summary())
    if report.rows and report.without_email == report.rows:
        hint = {
            "m365-copilot": " If the Microsoft 365 admin center shows concealed user names in reports, turn "
            "that off (Settings > Org settings > Reports) and export again.",
            "github-copilot": " None of its logins is in the --logins file."
            if logins is not None
            else " GitHub's reports name logins only: give --logins FILE (login,email) to match people.",
        }.get(args.source, "")
        print(f"No row names an email address, so nobody could be matched.{hint}")
    if args.show_unmatched and report.unmatched:
        print(f"Unmatched ({len(report.unmatched):,}, not in the roster by email):")
        for who in sorted(report.unmatched, key=str.casefold):
            print(f"  {who}")
    return 0


def _read(file: str) -> tuple[str, bytes]:
    """The file's name and bytes; one sentence when it cannot be read."""
    from bot.errors import UsageError

    path = Path(file)
    try:
        return path.name, path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file.") from None
    except OSError as error:
        raise UsageError(f"{path}: cannot read it ({error.strerror or error}).") from None


def _list_bad_rows(file: str, error: UsageFileError) -> None:
    if len(error.errors) > 1:
        print(f"{file}: {len(error.errors)} bad rows:", file=sys.stderr)
        for line in error.errors:
            print(f"  {line}", file=sys.stderr)
