"""`adoptbot pulse start [SURVEY_ID]` and `adoptbot pulse status`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from bot.cli.context import add_db_option

if TYPE_CHECKING:
    from bot.cli.context import Context


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pulse = subparsers.add_parser("pulse", help="pulse surveys", description="Pulse surveys.")
    actions = pulse.add_subparsers(dest="pulse_command", metavar="ACTION")
    actions.required = True
    start = actions.add_parser(
        "start",
        help="open a pulse run now and invite everyone active",
        description=(
            "Open a pulse run now and invite everyone active whose team the roster (or a change manager) "
            "set; people who chose their own team are not asked. Invitations reach each person at their "
            "local nudge hour on a working day (or at once during their working day); the run closes after "
            "ADOPTBOT_PULSE_CLOSE_DAYS days. Messages go out through `adoptbot serve` or `adoptbot tick`."
        ),
    )
    start.add_argument("survey_id", nargs="?", metavar="SURVEY_ID", help="survey id (default: the first)")
    add_db_option(start)
    start.set_defaults(handler=start_run)
    status = actions.add_parser(
        "status",
        help="response counts of the latest run, per team",
        description="Invited and answered counts of the latest pulse run, per team (counts only).",
    )
    add_db_option(status)
    status.set_defaults(handler=show_status)


def start_run(args: argparse.Namespace, ctx: Context) -> int:
    from bot.clock import utcnow
    from bot.db import session_scope
    from bot.pulses.service import local_date_label, open_run

    library = ctx.library
    with session_scope(ctx.engine()) as session:
        opened = open_run(
            session, library=library, settings=ctx.settings, now=utcnow(), survey_id=args.survey_id
        )
    closes = local_date_label(opened.closes_at, ctx.settings.timezone)
    people = "person" if opened.invited == 1 else "people"
    print(f"Opened pulse run #{opened.run_id} ({opened.survey_id}): invited {opened.invited} {people}.")
    print(
        f"Invitations reach each person in their working day (from {ctx.settings.nudge_hour}:00 local); "
        f"it closes {closes}."
    )
    return 0


def show_status(args: argparse.Namespace, ctx: Context) -> int:
    from bot.clock import utcnow
    from bot.db import session_scope
    from bot.pulses.blocks import rate_label
    from bot.pulses.service import local_date_label, run_status

    with session_scope(ctx.existing_engine(), readonly=True) as session:
        status = run_status(session, library=ctx.library, now=utcnow())
    if status is None:
        print("No pulse run yet; start one with `adoptbot pulse start`.")
        return 0
    state = "open until" if status.is_open else "closed"
    print(
        f"Pulse run #{status.run_id} ({status.survey_id}), {state} "
        f"{local_date_label(status.closes_at, ctx.settings.timezone) if status.is_open else ''}".rstrip()
    )
    print(f"Answered: {rate_label(status.answered, status.invited)}")
    width = max((len(t.team) for t in status.teams), default=4)
    for team in status.teams:
        print(f"  {team.team.ljust(width)}  {rate_label(team.answered, team.invited)}")
    return 0
