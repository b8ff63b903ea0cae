"""The demo's first step: the organisation itself, its teams and people, leaders and change managers.

Every other demo step builds on what this one leaves in the context (`teams`, `people`, `persons`), so
`bot.wiring` registers it before any feature's. Rows go in with Core bulk inserts, as a roster
import does; every random choice comes from `ctx.rng`, so a seed always gives the same organisation.
"""

from __future__ import annotations

import random
import unicodedata
from collections import Counter
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update

from bot.demo.context import DemoPerson, DemoTeam
from bot.demo.names import FIRST_NAMES, LAST_NAMES, TeamTemplate, team_templates
from bot.errors import UsageError
from bot.models import Person
from bot.people.directory import counted, text_table
from bot.people.roster import PEOPLE, TEAM_LEADS, TEAMS

if TYPE_CHECKING:
    from bot.demo.context import DemoContext

DEMO_DOMAIN = "example.com"  # reserved for examples: no demo email can reach anyone


def seed_organisation(ctx: DemoContext) -> None:
    """Teams and people, with leaders and change managers."""
    rng = ctx.rng
    roles = list(ctx.library.roles)
    if not roles:
        raise UsageError("the content library has no roles; the demo needs at least one.")
    templates = [_fit_roles(t, roles, i) for i, t in enumerate(team_templates(ctx.team_count))]
    sizes = _team_sizes(rng, ctx.member_count, ctx.team_count)
    # Core inserts in batches (see bot.people.roster): rows come back in any order, matched by key.
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
    ctx.session.execute(insert(PEOPLE), rows)  # executemany, then one SELECT: see bot.people.roster
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
