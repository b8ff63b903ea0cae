"""The demo organisation's raw material: the names people get and the teams they work in.

Data, not logic: names from many cultures, and teams whose names, main roles and time zones go together
(Sales APAC works from Tokyo and Sydney, not from Berlin), so that a demo of any size reads like a real
company. `team_templates` is deterministic: a demo of N teams always has the same N.
"""

from __future__ import annotations

from dataclasses import dataclass

# --- the names people get -----------------------------------------------------------------------------------

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


# --- the teams they work in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamTemplate:
    name: str
    role: str
    related: tuple[str, ...]  # roles a few members of the team have instead (sales ops in Sales, ...)
    timezones: tuple[str, ...]


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
