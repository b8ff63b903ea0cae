"""`adoptbot demo`: a believable synthetic organisation, seeded offline, in steps that features extend.

The run: a `DemoContext` is built, every function in `DEMO_STEPS` seeds part of the organisation's
history into one transaction, then every `ReportSection` in `REPORT_SECTIONS` renders a block of text
for the terminal. Features add their own history and output from their own module:

    from bot.services.demo import DemoContext, demo_step, report_section

    @demo_step
    def nudge_history(ctx: DemoContext) -> None:
        "nudge history"             # the docstring's first line is the progress label
        ...                         # bulk inserts through ctx.session

    @report_section("Nudges")
    def nudge_section(ctx: DemoContext) -> str: ...

and list the module in `DEMO_MODULES` below (one line). Steps run in the order they were registered:
the organisation first, then the modules in `DEMO_MODULES` order.
"""

from __future__ import annotations

import importlib
import random
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.orm import Session

from bot.clock import to_naive_utc
from bot.config import Settings
from bot.db import session_scope
from bot.errors import UsageError
from bot.models import Person
from bot.services.people import counted, text_table
from bot.services.roster import PEOPLE, TEAM_LEADS, TEAMS

if TYPE_CHECKING:
    from bot.content import Library

# Modules that register more demo steps and report sections (imported once, before the first run).
DEMO_MODULES: tuple[str, ...] = (
    "bot.services.demo_nudges",
    "bot.services.demo_pulses",
    "bot.services.demo_digest",
)

DEMO_DOMAIN = "example.com"  # reserved for examples: no demo email can reach anyone
MAX_TEAMS = 1_000
MAX_MEMBERS = 200_000
MAX_WEEKS = 104


@dataclass(frozen=True)
class DemoPerson:
    id: int
    team_id: int
    role: str
    timezone: str  # effective time zone
    started_on: date  # first Monday this person was on the roster (nudges may start)
    slack_user_id: str


@dataclass
class DemoTeam:
    id: int
    name: str
    role: str  # the team's main role
    timezones: tuple[str, ...]
    leader_id: int = 0
    member_ids: list[int] = field(default_factory=list)


@dataclass
class DemoContext:
    """What demo steps and report sections get; `teams`, `people`, `persons` come from the first step."""

    session: Session
    engine: Engine
    rng: random.Random  # the only source of randomness: same seed, same organisation and history
    settings: Settings
    library: Library
    team_count: int  # as asked for
    member_count: int
    weeks: int
    start: date  # Monday of the first week of history
    end: date  # Monday of the current week: history covers [start, end), `weeks` complete ISO weeks
    now: datetime  # naive UTC: `end` at 09:00 in the org time zone
    out_dir: Path | None  # where files go (None with --db)
    progress: Callable[[str], None]
    teams: list[DemoTeam] = field(default_factory=list)
    people: dict[int, list[int]] = field(default_factory=dict)  # team id -> active member ids
    persons: dict[int, DemoPerson] = field(default_factory=dict)
    org_leader_id: int | None = None
    change_manager_ids: list[int] = field(default_factory=list)

    @property
    def week_starts(self) -> list[date]:
        """Monday of every week of history, oldest first."""
        return [self.start + timedelta(weeks=i) for i in range(self.weeks)]


DemoStep = Callable[[DemoContext], None]


@dataclass(frozen=True)
class ReportSection:
    title: str
    render: Callable[[DemoContext], str]


DEMO_STEPS: list[DemoStep] = []
REPORT_SECTIONS: list[ReportSection] = []


def demo_step(step: DemoStep) -> DemoStep:
    """Register a seeding step (decorator); registering the same function twice is a no-op."""
    if step not in DEMO_STEPS:
        DEMO_STEPS.append(step)
    return step


def report_section(title: str) -> Callable[[Callable[[DemoContext], str]], Callable[[DemoContext], str]]:
    """Register a section of the demo's printed report (decorator), rendered after seeding."""

    def register(render: Callable[[DemoContext], str]) -> Callable[[DemoContext], str]:
        if all(section.render is not render for section in REPORT_SECTIONS):
            REPORT_SECTIONS.append(ReportSection(title, render))
        return render

    return register


def load_demo_modules() -> None:
    for name in DEMO_MODULES:
        importlib.import_module(name)


def demo_now(settings: Settings, today: date | None = None) -> datetime:
    """Monday of the current ISO week, 09:00 in the org time zone, as naive UTC."""
    local_today = today or datetime.now(settings.tz).date()
    monday = local_today - timedelta(days=local_today.weekday())
    return to_naive_utc(datetime(monday.year, monday.month, monday.day, 9, tzinfo=settings.tz))


@dataclass(frozen=True)
class DemoOptions:
    teams: int = 6
    members: int = 120
    weeks: int = 8
    seed: int = 42

    def check(self) -> None:
        if not 1 <= self.teams <= MAX_TEAMS:
            raise UsageError(f"--teams must be between 1 and {MAX_TEAMS:,}, not {self.teams}.")
        if not self.teams <= self.members <= MAX_MEMBERS:
            raise UsageError(
                f"--members must be between --teams ({self.teams}) and {MAX_MEMBERS:,}, not {self.members}."
            )
        if not 1 <= self.weeks <= MAX_WEEKS:
            raise UsageError(f"--weeks must be between 1 and {MAX_WEEKS}, not {self.weeks}.")


def run_demo(
    engine: Engine,
    settings: Settings,
    library: Library,
    options: DemoOptions,
    *,
    out_dir: Path | None,
    progress: Callable[[str], None],
    now: datetime | None = None,
) -> list[tuple[str, str]]:
    """Seed an empty database with the demo organisation and its history; return the report sections."""
    options.check()
    load_demo_modules()
    now = now or demo_now(settings)
    local_today = now.replace(tzinfo=UTC).astimezone(settings.tz).date()
    end = local_today - timedelta(days=local_today.weekday())
    with session_scope(engine) as session:
        existing = session.scalar(select(func.count()).select_from(Person)) or 0
        if existing:
            raise UsageError(
                f"the database already has {existing:,} people; the demo only seeds an empty database "
                "(leave out --db to get a fresh SQLite file)."
            )
        ctx = DemoContext(
            session=session,
            engine=engine,
            rng=random.Random(options.seed),
            settings=settings,
            library=library,
            team_count=options.teams,
            member_count=options.members,
            weeks=options.weeks,
            start=end - timedelta(weeks=options.weeks),
            end=end,
            now=now,
            out_dir=out_dir,
            progress=progress,
        )
        for step in DEMO_STEPS:
            began = time.perf_counter()
            step(ctx)
            session.flush()
            label = (step.__doc__ or step.__name__).strip().splitlines()[0].rstrip(".")
            progress(f"{label} ({time.perf_counter() - began:.1f} s)")
        return [(section.title, section.render(ctx)) for section in REPORT_SECTIONS]


# --- the organisation -------------------------------------------------------------------------------------


@demo_step
def seed_organisation(ctx: DemoContext) -> None:
    """Teams and people, with leaders and change managers."""
    rng = ctx.rng
    roles = list(ctx.library.roles)
    if not roles:
        raise UsageError("the content library has no roles; the demo needs at least one.")
    templates = [_fit_roles(t, roles, i) for i, t in enumerate(team_templates(ctx.team_count))]
    sizes = _team_sizes(rng, ctx.member_count, ctx.team_count)
    # Core inserts in batches (see bot.services.roster): rows come back in any order, matched by key.
    created = dict(
        (name, id_)
        for id_, name in ctx.session.execute(
            insert(TEAMS).returning(TEAMS.c.id, TEAMS.c.name),
            [{"name": t.name, "created_at": ctx.now - timedelta(weeks=ctx.weeks + 4)} for t in templates],
        )
    )
    ctx.teams = [
        DemoTeam(id=created[t.name], name=t.name, role=t.role, timezones=t.timezones) for t in templates
    ]
    org_team = _org_leader_team(ctx.teams, sizes)
    leadership = "leadership" if "leadership" in ctx.library.roles else None
    names = _NameSource(rng)
    rows: list[dict[str, object]] = []
    people: list[tuple[DemoTeam, str, str, date]] = []  # team, role, time zone, started_on of each row
    for team, template, size in zip(ctx.teams, templates, sizes, strict=True):
        for position in range(size):
            name, email = names.next()
            role = template.role if position == 0 or rng.random() < 0.88 else rng.choice(template.related)
            if team is org_team and position == 1 and leadership:
                role = leadership  # the org-wide sponsor
            tz = rng.choice(template.timezones)
            joined_late = ctx.weeks > 2 and position > 1 and rng.random() < 0.06
            started = ctx.start + timedelta(weeks=rng.randrange(1, ctx.weeks) if joined_late else 0)
            rows.append(
                {
                    "slack_user_id": f"UDEMO{len(rows) + 1:06d}",
                    "email": email,
                    "name": name,
                    "team_id": team.id,
                    "role": role,
                    "timezone": tz if rng.random() < 0.15 else None,  # the roster sets a few; Slack the rest
                    "slack_timezone": tz,
                    "is_active": True,
                    "started_on": started,
                    "created_at": datetime.combine(started, datetime.min.time())
                    - timedelta(days=rng.randrange(1, 30)),
                    "updated_at": ctx.now,
                }
            )
            people.append((team, role, tz, started))
    ctx.session.execute(insert(PEOPLE), rows)  # executemany, then one SELECT: see bot.services.roster
    ids = {
        slack_id: id_ for id_, slack_id in ctx.session.execute(select(PEOPLE.c.id, PEOPLE.c.slack_user_id))
    }
    for row, (team, role, tz, started) in zip(rows, people, strict=True):
        person_id = ids[str(row["slack_user_id"])]
        team.member_ids.append(person_id)
        ctx.persons[person_id] = DemoPerson(person_id, team.id, role, tz, started, str(row["slack_user_id"]))
    ctx.people = {team.id: list(team.member_ids) for team in ctx.teams}
    _assign_leaders(ctx, org_team)
    ctx.progress(f"{len(ctx.teams):,} teams, {len(ctx.persons):,} people")


@dataclass(frozen=True)
class TeamTemplate:
    name: str
    role: str
    related: tuple[str, ...]  # roles a few members of the team have instead (sales ops in Sales, ...)
    timezones: tuple[str, ...]


def _fit_roles(template: TeamTemplate, roles: list[str], index: int) -> TeamTemplate:
    """Keep the template's roles the library has; a custom library without them gets its own roles."""
    main = template.role if template.role in roles else roles[index % len(roles)]
    related = tuple(r for r in template.related if r in roles) or (main,)
    return TeamTemplate(template.name, main, related, template.timezones)


def _team_sizes(rng: random.Random, members: int, teams: int) -> list[int]:
    """Uneven but plausible sizes (0.5x to 1.6x the mean), each at least 1, summing to `members`."""
    weights = [rng.uniform(0.5, 1.6) for _ in range(teams)]
    spare = members - teams
    shares = [spare * w / sum(weights) for w in weights]
    sizes = [1 + int(s) for s in shares]
    by_remainder = sorted(range(teams), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    for i in by_remainder[: members - sum(sizes)]:
        sizes[i] += 1
    return sizes


def _org_leader_team(teams: list[DemoTeam], sizes: list[int]) -> DemoTeam:
    """The sponsor sits in Operations or HR when there is such a team with room for them."""
    for role in ("operations", "hr"):
        for team, size in zip(teams, sizes, strict=True):
            if team.role == role and size > 1:
                return team
    return teams[0]


def _assign_leaders(ctx: DemoContext, org_team: DemoTeam) -> None:
    """Each team's first member leads it; a sponsor leads all; a few change managers run the rollout."""
    for team in ctx.teams:
        team.leader_id = team.member_ids[0]
    ctx.session.execute(insert(TEAM_LEADS), [{"person_id": t.leader_id, "team_id": t.id} for t in ctx.teams])
    ctx.org_leader_id = org_team.member_ids[1] if len(org_team.member_ids) > 1 else org_team.leader_id
    taken = {t.leader_id for t in ctx.teams} | {ctx.org_leader_id}
    wanted = min(max(2, ctx.member_count // 400), 25)
    preferred = sorted(
        ctx.teams, key=lambda t: t.role not in ("hr", "operations")
    )  # stable: keeps team order
    ctx.change_manager_ids = [p for t in preferred for p in t.member_ids if p not in taken][:wanted]
    ctx.session.execute(update(Person).where(Person.id == ctx.org_leader_id).values(leads_all=True))
    if ctx.change_manager_ids:
        ctx.session.execute(
            update(Person).where(Person.id.in_(ctx.change_manager_ids)).values(is_change_manager=True)
        )


class _NameSource:
    """Deterministic names with unique example.com addresses."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.emails: set[str] = set()

    def next(self) -> tuple[str, str]:
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        plain = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode("ascii")
        local = "".join(c for c in plain.lower() if c.isalnum() or c == ".")
        email, suffix = f"{local}@{DEMO_DOMAIN}", 1
        while email in self.emails:
            suffix += 1
            email = f"{local}{suffix}@{DEMO_DOMAIN}"
        self.emails.add(email)
        return f"{first} {last}", email


@report_section("Teams")
def team_summary(ctx: DemoContext) -> str:
    """The per-team table (members, roles, time zones, leader), then the sponsor and change managers."""
    wanted = {t.leader_id for t in ctx.teams} | set(ctx.change_manager_ids) | {ctx.org_leader_id or 0}
    found = ctx.session.execute(select(Person.id, Person.name).where(Person.id.in_(sorted(wanted))))
    names = {id_: name for id_, name in found}
    rows = []
    for team in ctx.teams:
        members = [ctx.persons[p] for p in team.member_ids]
        rows.append(
            [
                team.name,
                len(members),
                counted(Counter(p.role for p in members), limit=2),
                counted(Counter(p.timezone for p in members), limit=2),
                names.get(team.leader_id, "-"),
            ]
        )
    managers = ", ".join(names.get(p, "-") for p in ctx.change_manager_ids) or "none"
    return (
        text_table(["team", "members", "roles", "time zones", "leader"], rows)
        + f"\n\n{len(ctx.persons):,} people in {len(ctx.teams):,} teams. Org-wide leader (leads every team): "
        f"{names.get(ctx.org_leader_id or 0, '-')}. Change managers: {managers}."
    )


# --- names and teams ----------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Aisha",
    "Akira",
    "Alejandro",
    "Amara",
    "Ana",
    "Anders",
    "Ankit",
    "Arjun",
    "Astrid",
    "Ben",
    "Bianca",
    "Carlos",
    "Chen",
    "Chloe",
    "Chiara",
    "Daniel",
    "Diego",
    "Dmitri",
    "Elena",
    "Emeka",
    "Emma",
    "Fatima",
    "Felix",
    "Gabriel",
    "Grace",
    "Hana",
    "Hannah",
    "Hiroshi",
    "Ibrahim",
    "Ingrid",
    "Isabela",
    "Jakub",
    "James",
    "Javier",
    "Jin",
    "Jonas",
    "Julia",
    "Kai",
    "Kavya",
    "Kenji",
    "Kofi",
    "Lars",
    "Laura",
    "Leila",
    "Liam",
    "Lucas",
    "Lucía",
    "Maya",
    "Mei",
    "Mateo",
    "Mohammed",
    "Nadia",
    "Naledi",
    "Nikhil",
    "Noah",
    "Olivia",
    "Omar",
    "Oscar",
    "Paulo",
    "Priya",
    "Rafael",
    "Rahul",
    "Rania",
    "Ravi",
    "Rosa",
    "Ryan",
    "Saanvi",
    "Samuel",
    "Sara",
    "Sebastian",
    "Sipho",
    "Sofia",
    "Sophie",
    "Sven",
    "Takumi",
    "Tariq",
    "Thomas",
    "Tomás",
    "Valentina",
    "Victor",
    "Wei",
    "Yara",
    "Yuki",
    "Yusuf",
    "Zanele",
    "Zoe",
    "Zeynep",
    "Aleksander",
    "Beatriz",
    "Camille",
    "Dara",
    "Eitan",
    "Freya",
    "Giulia",
    "Hugo",
    "Ines",
    "Joon",
    "Keira",
    "Lena",
    "Mira",
)
LAST_NAMES = (
    "Abe",
    "Adeyemi",
    "Ahmed",
    "Almeida",
    "Andersson",
    "Bakker",
    "Banerjee",
    "Becker",
    "Bianchi",
    "Brown",
    "Castillo",
    "Chen",
    "Cohen",
    "Costa",
    "Dubois",
    "Dvořák",
    "Eriksen",
    "Fernández",
    "Fischer",
    "García",
    "Gonzalez",
    "Gupta",
    "Haddad",
    "Hansen",
    "Hernández",
    "Hoffmann",
    "Ito",
    "Iyer",
    "Jansen",
    "Johnson",
    "Kamau",
    "Kapoor",
    "Kelly",
    "Khan",
    "Kim",
    "Kowalski",
    "Kumar",
    "Larsen",
    "Lee",
    "Lopez",
    "Martin",
    "Martínez",
    "Mensah",
    "Meyer",
    "Moreau",
    "Murphy",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Nowak",
    "O'Brien",
    "Okafor",
    "Olsen",
    "Patel",
    "Pereira",
    "Petrov",
    "Popescu",
    "Reddy",
    "Ribeiro",
    "Rossi",
    "Sato",
    "Schmidt",
    "Schneider",
    "Silva",
    "Singh",
    "Smith",
    "Sokolov",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Taylor",
    "Thompson",
    "Tran",
    "Van Dijk",
    "Wagner",
    "Walker",
    "Wang",
    "Watanabe",
    "Weber",
    "Williams",
    "Wilson",
    "Wong",
    "Yamamoto",
    "Yilmaz",
    "Zhang",
    "Zhou",
    "Ferreira",
    "Lindqvist",
    "Mahlangu",
    "Dlamini",
    "Santos",
    "Rao",
    "Choi",
    "Park",
    "Horvat",
    "Virtanen",
    "Nielsen",
    "Romano",
    "Alvarez",
    "Morales",
)

_EMEA = (
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Stockholm",
)
_AMERICAS = (
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Sao_Paulo",
    "America/Mexico_City",
)
_APAC = ("Asia/Tokyo", "Asia/Singapore", "Asia/Kolkata", "Australia/Sydney", "Asia/Seoul")
_ENGINEERING = (
    "Europe/Berlin",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Europe/London",
    "America/New_York",
    "Europe/Warsaw",
)
_FOLLOW_THE_SUN = (
    "America/New_York",
    "America/Los_Angeles",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Asia/Tokyo",
    "America/Sao_Paulo",
)
_HQ = ("Europe/London", "America/New_York", "Europe/Berlin")

_CORE_TEAMS = (  # in this order: the default six first
    TeamTemplate("Sales EMEA", "sales", ("marketing", "operations"), _EMEA),
    TeamTemplate("Platform Engineering", "engineering", ("product",), _ENGINEERING),
    TeamTemplate("Customer Support", "support", ("operations",), _FOLLOW_THE_SUN),
    TeamTemplate(
        "Marketing", "marketing", ("sales", "product"), ("America/New_York", "Europe/London", "Europe/Berlin")
    ),
    TeamTemplate("Finance", "finance", ("operations", "legal"), _HQ),
    TeamTemplate(
        "People & HR", "hr", ("operations", "legal"), ("Europe/London", "America/New_York", "Asia/Kolkata")
    ),
    TeamTemplate("Sales Americas", "sales", ("marketing", "operations"), _AMERICAS),
    TeamTemplate(
        "Product Management",
        "product",
        ("engineering", "marketing"),
        ("America/Los_Angeles", "Europe/Berlin", "America/New_York"),
    ),
    TeamTemplate("Operations", "operations", ("finance", "hr"), (*_HQ, "Asia/Singapore")),
    TeamTemplate("Sales APAC", "sales", ("marketing", "operations"), _APAC),
    TeamTemplate(
        "Mobile Engineering",
        "engineering",
        ("product",),
        ("Europe/Berlin", "Europe/Warsaw", "Asia/Kolkata", "America/Sao_Paulo"),
    ),
    TeamTemplate(
        "Legal & Compliance", "legal", ("finance", "operations"), ("Europe/London", "America/New_York")
    ),
    TeamTemplate(
        "Customer Success",
        "support",
        ("sales",),
        ("America/New_York", "America/Chicago", "Europe/London", "Australia/Sydney"),
    ),
    TeamTemplate("Data Engineering", "engineering", ("product", "operations"), _ENGINEERING),
    TeamTemplate(
        "Revenue Operations", "operations", ("sales", "finance"), ("America/New_York", "Europe/London")
    ),
    TeamTemplate("Brand & Content", "marketing", ("product",), ("Europe/London", "America/Los_Angeles")),
    TeamTemplate(
        "Talent Acquisition", "hr", ("operations",), ("America/New_York", "Europe/Berlin", "Asia/Kolkata")
    ),
    TeamTemplate("Security Engineering", "engineering", ("operations", "legal"), _ENGINEERING),
    TeamTemplate(
        "Partnerships",
        "sales",
        ("marketing", "legal"),
        ("America/Los_Angeles", "Europe/London", "Asia/Singapore"),
    ),
    TeamTemplate(
        "IT Operations", "operations", ("engineering",), ("Asia/Kolkata", "Europe/Warsaw", "America/Chicago")
    ),
)
_REGIONS = (
    ("DACH", ("Europe/Berlin", "Europe/Vienna", "Europe/Zurich")),
    ("US East", ("America/New_York", "America/Toronto")),
    ("Japan", ("Asia/Tokyo",)),
    ("UK & Ireland", ("Europe/London", "Europe/Dublin")),
    ("US West", ("America/Los_Angeles", "America/Vancouver")),
    ("India", ("Asia/Kolkata",)),
    ("Nordics", ("Europe/Stockholm", "Europe/Oslo", "Europe/Copenhagen", "Europe/Helsinki")),
    ("Brazil", ("America/Sao_Paulo",)),
    ("ANZ", ("Australia/Sydney", "Australia/Melbourne", "Pacific/Auckland")),
    ("France", ("Europe/Paris",)),
    ("US Central", ("America/Chicago", "America/Denver")),
    ("Southeast Asia", ("Asia/Singapore", "Asia/Jakarta", "Asia/Manila", "Asia/Bangkok")),
    ("Benelux", ("Europe/Amsterdam", "Europe/Brussels")),
    ("Mexico", ("America/Mexico_City",)),
    ("Iberia", ("Europe/Madrid", "Europe/Lisbon")),
    ("Canada", ("America/Toronto", "America/Vancouver")),
    ("Middle East", ("Asia/Dubai", "Asia/Riyadh")),
    ("Italy", ("Europe/Rome",)),
    ("Korea", ("Asia/Seoul",)),
    ("Africa", ("Africa/Johannesburg", "Africa/Lagos", "Africa/Nairobi")),
)
_SQUADS = (
    "Payments",
    "Search",
    "Identity",
    "Checkout",
    "Billing",
    "Growth",
    "Web",
    "Core API",
    "Integrations",
    "Observability",
    "Infrastructure",
    "Machine Learning",
    "Developer Experience",
    "Reliability",
    "Analytics",
    "Messaging",
    "Notifications",
    "Onboarding",
    "Pricing",
    "Marketplace",
)
_REGIONAL = (  # name pattern, role, related roles
    ("Sales {}", "sales", ("marketing", "operations")),
    ("Customer Support {}", "support", ("operations",)),
    ("Marketing {}", "marketing", ("sales",)),
    ("Finance {}", "finance", ("operations",)),
    ("People Partners {}", "hr", ("operations",)),
    ("Operations {}", "operations", ("finance",)),
    ("Legal {}", "legal", ("finance",)),
)


def team_templates(count: int) -> list[TeamTemplate]:
    """`count` distinct, believable teams: the core ones, then regional and squad teams, then numbered."""
    extra: list[TeamTemplate] = []
    for i in range(len(_REGIONS)):
        region, zones = _REGIONS[i]
        extra += [
            TeamTemplate(pattern.format(region), role, related, zones) for pattern, role, related in _REGIONAL
        ]
        extra.append(TeamTemplate(f"{_SQUADS[i]} Engineering", "engineering", ("product",), _ENGINEERING))
        extra.append(
            TeamTemplate(f"{_SQUADS[i]} Product", "product", ("engineering", "marketing"), _ENGINEERING)
        )
    base = [*_CORE_TEAMS, *extra]
    templates = base[:count]
    round_ = 2
    while len(templates) < count:
        templates += [
            TeamTemplate(f"{t.name} {round_}", t.role, t.related, t.timezones)
            for t in base[: count - len(templates)]
        ]
        round_ += 1
    return templates
