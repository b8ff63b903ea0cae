"""`adoptbot demo`: wins people share, each true to its author's role and to a tool they hold.

A win comes from someone the imported usage reports show active with an AI tool that week (the facts
`bot.demo.usage` imported), and tells what a person in their role does with that tool: a finance analyst
reconciles in Excel with Microsoft 365 Copilot, an engineer has GitHub Copilot write tests. So the more a
team uses its licences, the more wins it shares, and the team whose licences sit idle shares few.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import NamedTuple

from sqlalchemy import func, select

from bot.clock import to_naive_utc
from bot.demo.bulk import bulk_insert
from bot.demo.context import DemoContext
from bot.demo.usage import GITHUB, M365, tool_name
from bot.models import Activity, UsageFact, Win, WinStatus


class Story(NamedTuple):
    what: str
    hours: float  # typical hours saved a week
    tool: str  # the tool id it was done with


ROLE_STORIES: dict[str, tuple[Story, ...]] = {
    "sales": (
        Story("Drafted the quarterly business review deck from my account notes", 2.0, M365),
        Story("Summarised a 40-page RFP into a one-page brief", 3.0, M365),
        Story("Wrote the follow-up emails from the recap of a customer call", 1.5, M365),
        Story("Prepared an account brief before a renewal call", 1.0, M365),
    ),
    "engineering": (
        Story("Generated test cases for the billing service", 2.5, GITHUB),
        Story("Refactored the payments client's retry logic, reviewing each suggestion", 2.0, GITHUB),
        Story("Wrote a database migration and its rollback from the ticket", 1.5, GITHUB),
        Story("Had a legacy module explained before changing it", 1.0, GITHUB),
        Story("Wrote the first draft of the release notes from the merged pull requests", 0.5, GITHUB),
        Story("Turned the incident review call into a timeline and an action list", 1.5, M365),
    ),
    "support": (
        Story("Wrote first replies to the support backlog, then edited them", 4.0, M365),
        Story("Summarised long ticket threads before escalating them", 2.0, M365),
        Story("Turned recurring questions into help-centre article drafts", 2.5, M365),
    ),
    "marketing": (
        Story("Turned a webinar transcript into a blog post draft", 2.0, M365),
        Story("Drafted subject-line variants for the monthly newsletter", 0.5, M365),
        Story("Adapted the product launch copy for three regions", 1.5, M365),
    ),
    "finance": (
        Story("Cleaned up the month-end reconciliation notes", 1.0, M365),
        Story("Explained the budget variances in plain words for the board pack", 2.0, M365),
        Story("Built and checked the spreadsheet formulas for the expense audit", 1.5, M365),
        Story("Summarised the new travel expense policy for the team", 0.5, M365),
    ),
    "hr": (
        Story("Drafted job descriptions from the hiring manager's bullet points", 1.0, M365),
        Story("Grouped the engagement survey comments into themes", 2.5, M365),
        Story("Translated the onboarding guide for the Berlin office", 1.5, M365),
    ),
    "product": (
        Story("Turned twelve customer interview notes into one problem statement", 2.0, M365),
        Story("Drafted user stories from the roadmap review recording", 1.5, M365),
        Story("Summarised competitors' release notes for the planning meeting", 1.0, M365),
    ),
    "operations": (
        Story("Turned meeting transcripts into action lists", 1.5, M365),
        Story("Merged three supplier onboarding checklists into one", 1.0, M365),
        Story("Summarised the weekly incident log for the leadership meeting", 1.0, M365),
    ),
    "legal": (
        Story("Compared three vendor contracts clause by clause", 2.0, M365),
        Story("Drafted a first-pass checklist for NDA reviews", 1.0, M365),
        Story("Summarised a new data protection guideline in one page", 1.5, M365),
    ),
    "leadership": (
        Story("Prepared the all-hands talking points from last quarter's reports", 1.5, M365),
        Story("Summarised the board pack into a one-page brief", 1.0, M365),
        Story("Caught up on a week of team threads in ten minutes", 1.0, M365),
    ),
}
# For a role of a custom content library that the stories above do not know.
ANY_ROLE = (
    Story("Summarised a long email thread before a meeting", 0.5, M365),
    Story("Turned meeting notes into an action list", 1.0, M365),
    Story("Generated unit tests for a module I maintain", 1.5, GITHUB),
)

WIN_COLUMNS = (
    "author_id",
    "team_id",
    "what",
    "tool",
    "hours_per_week",
    "share",
    "status",
    "submitted_at",
    "reviewed_at",
    "shared_at",
)
ACTIVITY_COLUMNS = ("person_id", "team_id", "kind", "occurred_at")


def stories_for(role: str, tool: str) -> tuple[Story, ...]:
    """What someone in `role` tells of `tool` (their role's stories, else any role's)."""
    own = tuple(s for s in ROLE_STORIES.get(role, ()) if s.tool == tool)
    return own or tuple(s for s in ANY_ROLE if s.tool == tool)


def win_history(ctx: DemoContext) -> None:
    """Wins: approved stories from people active with a tool that week, true to their role.

    Skipped when the database already holds wins.
    """
    if ctx.session.scalar(select(func.count()).select_from(Win)):
        return
    rng = ctx.rng
    # Who the imported reports show active, per week and team: (person, tool), in a stable order.
    users: dict[tuple[int, int], list[tuple[int, str]]] = {}
    index_of = {monday: index for index, monday in enumerate(ctx.week_starts)}
    active = select(UsageFact.person_id, UsageFact.tool, UsageFact.week).where(UsageFact.active.is_(True))
    for person_id, tool, week in ctx.session.execute(
        active.order_by(UsageFact.week, UsageFact.person_id, UsageFact.tool)
    ):
        person = ctx.persons.get(person_id)
        if person is not None and week in index_of and stories_for(person.role, tool):
            users.setdefault((index_of[week], person.team_id), []).append((person_id, tool))
    wins: list[tuple[object, ...]] = []
    activity: list[tuple[object, ...]] = []
    for index, monday in enumerate(ctx.week_starts):
        for team in ctx.teams:
            candidates = users.get((index, team.id), [])
            expected = len(candidates) * (0.04 + 0.04 * index / max(1, ctx.weeks - 1)) * rng.uniform(0.5, 1.5)
            count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
            for _ in range(count):
                author, tool = rng.choice(candidates)
                story = rng.choice(stories_for(ctx.persons[author].role, tool))
                submitted = to_naive_utc(
                    datetime.combine(
                        monday + timedelta(days=rng.randrange(5)),
                        time(rng.randrange(9, 18)),
                        tzinfo=ctx.settings.tz,
                    )
                )
                status = (
                    WinStatus.APPROVED
                    if rng.random() < 0.85
                    else rng.choice((WinStatus.PENDING, WinStatus.REJECTED))
                )
                reviewed = submitted + timedelta(hours=6)
                wins.append(
                    (
                        author,
                        team.id,
                        story.what,
                        tool_name(ctx, tool),
                        max(0.5, round(story.hours * rng.uniform(0.5, 1.5) * 2) / 2),  # to the half hour
                        rng.choice(("named", "named", "anonymous")),
                        status,
                        submitted,
                        reviewed if status != WinStatus.PENDING else None,
                        reviewed if status == WinStatus.APPROVED else None,
                    )
                )
                activity.append((author, team.id, "win", submitted))
    bulk_insert(ctx.session, Win, WIN_COLUMNS, wins)
    bulk_insert(ctx.session, Activity, ACTIVITY_COLUMNS, activity)
    approved = sum(1 for w in wins if w[6] == WinStatus.APPROVED)
    ctx.progress(f"{len(wins):,} wins shared, {approved:,} approved")
