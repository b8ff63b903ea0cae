"""SCIM 2.0 provisioning over real HTTP, with the requests Okta and Microsoft Entra ID send: create, replace,
patch, deactivate, filter, list; groups as teams; errors in SCIM's shape; the CSV roster and SCIM never
both owning people."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.models import Person, Team, TeamLead
from bot.people.profile import team_choices
from tests.support.factories import add_person, add_team
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer
from tests.support.web import Browser, dashboard_settings

TOKEN = "scim-token-0123456789abcdef0123"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


@pytest.fixture
def settings(slack_settings: Settings) -> Settings:
    return dataclasses.replace(
        slack_settings, scim_token=TOKEN, people_source="scim", default_role="operations"
    )


@pytest.fixture
def server(settings: Settings, engine: Engine) -> Iterator[SlackAppServer]:
    with SlackAppServer(settings, engine) as running:
        yield running


def call(
    server: SlackAppServer, method: str, path: str, body: Any = None, *, token: str | None = TOKEN
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/scim+json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        server.url + "/scim/v2" + path, data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def okta_user(
    email: str, *, given: str = "Ava", family: str = "Author", title: str = "Sales", department: str = "Alpha"
) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "userName": email,
        "name": {"givenName": given, "familyName": family},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": f"{given} {family}",
        "title": title,
        "externalId": f"okta-{given.lower()}",
        "active": True,
        ENTERPRISE: {"department": department},
    }


def person(engine: Engine, email: str) -> Person:
    with session_scope(engine, readonly=True) as session:
        found = session.scalar(select(Person).where(Person.email == email))
        assert found is not None
        session.expunge(found)
        return found


def team_name(engine: Engine, email: str) -> str | None:
    with session_scope(engine, readonly=True) as session:
        return session.scalar(
            select(Team.name).join(Person, Person.team_id == Team.id).where(Person.email == email)
        )


def test_a_request_without_the_token_gets_401_in_scim_shape(server: SlackAppServer) -> None:
    for token in (None, "wrong-token"):
        status, body = call(server, "GET", "/Users", token=token)
        assert status == 401
        assert body["schemas"] == [ERROR] and body["status"] == "401"
    status, _ = call(server, "POST", "/Users", okta_user("x@example.com"), token="wrong-token")
    assert status == 401


def test_okta_creates_updates_and_deactivates_a_person(
    server: SlackAppServer, fake_slack: FakeSlack, engine: Engine
) -> None:
    fake_slack.add_user("UAVA", email="ava@example.com")
    status, found = call(
        server, "GET", "/Users?filter=userName%20eq%20%22ava@example.com%22&startIndex=1&count=100"
    )
    assert status == 200 and found["totalResults"] == 0 and found["Resources"] == []

    status, created = call(server, "POST", "/Users", okta_user("ava@example.com"))
    assert status == 201
    assert created["userName"] == "ava@example.com" and created["active"] is True
    assert created[ENTERPRISE] == {"department": "Alpha"}
    ava = person(engine, "ava@example.com")
    assert (ava.name, ava.role, ava.slack_user_id, ava.external_id, ava.is_active) == (
        "Ava Author",
        "sales",
        "UAVA",
        "okta-ava",
        True,
    )
    assert team_name(engine, "ava@example.com") == "Alpha"

    status, found = call(server, "GET", "/Users?filter=userName%20eq%20%22AVA@example.com%22")
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == created["id"]

    status, _replaced = call(
        server,
        "PUT",
        f"/Users/{created['id']}",
        okta_user("ava@example.com", title="Unknown job", department="Beta"),
    )
    assert status == 200
    ava = person(engine, "ava@example.com")
    assert ava.role == "operations", "a title naming no role gives ADOPTBOT_DEFAULT_ROLE"
    assert team_name(engine, "ava@example.com") == "Beta"

    # A change manager who leads a team: deactivation takes both, as a pruning roster import does.
    with session_scope(engine) as session:
        row = session.get(Person, ava.id)
        assert row is not None
        row.is_change_manager = True
        beta = session.scalar(select(Team).where(Team.name == "Beta"))
        assert beta is not None
        session.add(TeamLead(person_id=row.id, team_id=beta.id))
    deactivate = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": False}}]}
    for _ in range(2):  # Okta retries: the same PATCH twice is the same result
        status, patched = call(server, "PATCH", f"/Users/{created['id']}", deactivate)
        assert status == 200 and patched["active"] is False
    ava = person(engine, "ava@example.com")
    assert not ava.is_active and not ava.is_change_manager
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(TeamLead).where(TeamLead.person_id == ava.id)) is None

    back = {"schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": True}}]}
    status, patched = call(server, "PATCH", f"/Users/{created['id']}", back)
    assert patched["active"] is True
    ava = person(engine, "ava@example.com")
    assert ava.is_active and not ava.is_change_manager, "coming back gives no rights back"


def test_entra_id_shapes_create_and_patch(server: SlackAppServer, engine: Engine) -> None:
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": "0a1b2c",
        "userName": "ben.builder@contoso.example",
        "active": True,
        "displayName": "Ben Builder",
        "emails": [{"primary": True, "type": "work", "value": "ben.builder@contoso.example"}],
        "name": {"formatted": "Ben Builder", "familyName": "Builder", "givenName": "Ben"},
        "title": "engineering",
        ENTERPRISE: {"department": "Platform"},
    }
    status, created = call(server, "POST", "/Users", body)
    assert status == 201
    status, found = call(server, "GET", "/Users?filter=externalId%20eq%20%220a1b2c%22")
    assert found["totalResults"] == 1
    patch = {
        "schemas": [PATCH],
        "Operations": [
            {"op": "Replace", "path": "displayName", "value": "Benjamin Builder"},
            {"op": "Replace", "path": "name.givenName", "value": "Benjamin"},
            {"op": "Add", "path": 'emails[type eq "work"].value', "value": "benjamin@contoso.example"},
            {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Data"},
            {"op": "Replace", "path": "active", "value": "False"},
        ],
    }
    status, _patched = call(server, "PATCH", f"/Users/{created['id']}", patch)
    assert status == 200
    ben = person(engine, "benjamin@contoso.example")
    assert (ben.name, ben.role, ben.is_active) == ("Benjamin Builder", "engineering", False)
    assert team_name(engine, "benjamin@contoso.example") == "Data"


def test_a_title_that_names_no_role_gets_the_default_role(server: SlackAppServer, engine: Engine) -> None:
    status, _ = call(
        server, "POST", "/Users", okta_user("cy@example.com", given="Cy", title="Chief Vibes Officer")
    )
    assert status == 201
    assert person(engine, "cy@example.com").role == "operations"


def test_groups_are_teams_and_membership_moves_people(server: SlackAppServer, engine: Engine) -> None:
    ids = []
    for name in ("dee", "eve"):
        _, made = call(
            server, "POST", "/Users", okta_user(f"{name}@example.com", given=name.title(), department="Alpha")
        )
        ids.append(made["id"])
    status, group = call(
        server,
        "POST",
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Delta",
            "members": [{"value": ids[0]}],
        },
    )
    assert status == 201 and [m["value"] for m in group["members"]] == [ids[0]]
    assert team_name(engine, "dee@example.com") == "Delta"
    # Okta adds a member, Entra removes one with its own shape.
    status, _ = call(
        server,
        "PATCH",
        f"/Groups/{group['id']}",
        {
            "schemas": [PATCH],
            "Operations": [
                {"op": "add", "path": "members", "value": [{"value": ids[1], "display": "eve@example.com"}]}
            ],
        },
    )
    assert status == 204 and team_name(engine, "eve@example.com") == "Delta"
    status, _ = call(
        server,
        "PATCH",
        f"/Groups/{group['id']}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "Remove", "path": "members", "value": [{"value": ids[0]}]}],
        },
    )
    assert status == 204 and team_name(engine, "dee@example.com") is None
    status, _ = call(
        server,
        "PATCH",
        f"/Groups/{group['id']}",
        {"schemas": [PATCH], "Operations": [{"op": "remove", "path": f'members[value eq "{ids[1]}"]'}]},
    )
    assert team_name(engine, "eve@example.com") is None
    status, found = call(
        server, "GET", "/Groups?filter=displayName%20eq%20%22Delta%22&excludedAttributes=members"
    )
    assert found["totalResults"] == 1 and "members" not in found["Resources"][0]
    status, _renamed = call(
        server,
        "PATCH",
        f"/Groups/{group['id']}",
        {
            "schemas": [PATCH],
            "Operations": [{"op": "replace", "value": {"id": group["id"], "displayName": "Delta Force"}}],
        },
    )
    assert status == 204
    status, fetched = call(server, "GET", f"/Groups/{group['id']}")
    assert fetched["displayName"] == "Delta Force"


def test_a_deleted_group_is_no_longer_listed_nor_offered_and_keeps_its_history(
    server: SlackAppServer, engine: Engine
) -> None:
    call(server, "POST", "/Users", okta_user("fay@example.com", given="Fay", department="Omega"))
    _, omega = call(server, "GET", "/Groups?filter=displayName%20eq%20%22Omega%22")
    [group] = omega["Resources"]
    assert call(server, "DELETE", f"/Groups/{group['id']}")[0] == 204
    assert team_name(engine, "fay@example.com") is None
    assert call(server, "GET", f"/Groups/{group['id']}")[0] == 404
    _, listed = call(server, "GET", "/Groups")
    assert "Omega" not in [g["displayName"] for g in listed["Resources"]]
    with session_scope(engine, readonly=True) as session:
        assert "Omega" not in [name for _, name in team_choices(session)]  # Slack's and the dashboard's menus
        assert session.scalar(select(Team.id).where(Team.name == "Omega")) == int(group["id"])  # history kept
    # created again under the same name, it is the same team again
    status, again = call(
        server,
        "POST",
        "/Groups",
        {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Omega"},
    )
    assert status == 201 and again["id"] == group["id"]
    assert call(server, "GET", f"/Groups/{group['id']}")[0] == 200


def test_lists_page_with_start_index_and_count(server: SlackAppServer) -> None:
    made = [
        call(server, "POST", "/Users", okta_user(f"p{n}@example.com", given=f"P{n}"))[1]["id"]
        for n in range(3)
    ]
    _status, page = call(server, "GET", "/Users?startIndex=2&count=1")
    assert page["totalResults"] == 3 and page["itemsPerPage"] == 1 and page["startIndex"] == 2
    assert [r["id"] for r in page["Resources"]] == [made[1]]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "scim_type"),
    [
        ("POST", "/Users", {"name": {"givenName": "No"}}, 400, "invalidValue"),
        ("POST", "/Users", {"userName": "x@example.com", "active": "maybe"}, 400, "invalidValue"),
        ("PATCH", "/Users/1", {"schemas": [PATCH]}, 400, "invalidSyntax"),
        ("GET", "/Users?filter=userName%20eq", None, 400, "invalidFilter"),
        ("GET", "/Users/999999", None, 404, None),
        ("GET", "/Groups/abc", None, 404, None),
    ],
)
def test_bad_requests_are_scim_errors_and_change_nothing(
    server: SlackAppServer,
    engine: Engine,
    method: str,
    path: str,
    body: Any,
    status: int,
    scim_type: str | None,
) -> None:
    call(server, "POST", "/Users", okta_user("keep@example.com"))
    got, answer = call(server, method, path, body)
    assert got == status
    assert answer["schemas"] == [ERROR] and answer["status"] == str(status) and answer["detail"]
    assert answer.get("scimType") == scim_type
    with session_scope(engine, readonly=True) as session:
        assert session.scalars(select(Person.email)).all() == ["keep@example.com"]


def test_a_second_user_with_the_same_user_name_is_a_uniqueness_error(server: SlackAppServer) -> None:
    assert call(server, "POST", "/Users", okta_user("dup@example.com"))[0] == 201
    status, answer = call(server, "POST", "/Users", okta_user("dup@example.com"))
    assert status == 409 and answer["scimType"] == "uniqueness"


def test_a_person_from_the_csv_roster_is_taken_over_not_doubled(
    server: SlackAppServer, engine: Engine
) -> None:
    with session_scope(engine) as session:
        add_team(session, "Alpha")
        add_person(session, "UOLD", team="Alpha", name="Old Timer", email="old@example.com")
    status, created = call(
        server, "POST", "/Users", okta_user("old@example.com", given="Old", family="Timer")
    )
    assert status == 201
    old = person(engine, "old@example.com")
    assert old.slack_user_id == "UOLD" and created["id"] == str(old.id)


def test_with_the_csv_roster_in_charge_scim_only_reads(slack_settings: Settings, engine: Engine) -> None:
    settings = dataclasses.replace(slack_settings, scim_token=TOKEN, people_source="csv")
    with SlackAppServer(settings, engine) as server:
        assert call(server, "GET", "/Users")[0] == 200
        status, answer = call(server, "POST", "/Users", okta_user("x@example.com"))
        assert status == 403 and "ADOPTBOT_PEOPLE_SOURCE" in answer["detail"]
    with session_scope(engine, readonly=True) as session:
        assert session.scalars(select(Person.id)).all() == []


def test_with_scim_in_charge_the_csv_import_is_refused(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    roster = tmp_path / "people.csv"
    roster.write_text("email,name,team,role\nzed@example.com,Zed,Alpha,sales\n")
    monkeypatch.setenv("ADOPTBOT_SCIM_TOKEN", TOKEN)
    monkeypatch.setenv("ADOPTBOT_PEOPLE_SOURCE", "scim")
    assert main(["roster", "import", str(roster), "--db", db_url]) == 2
    assert "ADOPTBOT_PEOPLE_SOURCE=scim" in capsys.readouterr().err


def test_the_scim_settings_are_checked_in_one_sentence() -> None:
    from bot.config import ConfigError, load_settings

    loaded = load_settings(
        {"ADOPTBOT_SCIM_TOKEN": TOKEN, "ADOPTBOT_PEOPLE_SOURCE": "SCIM", "ADOPTBOT_DEFAULT_ROLE": "Sales"},
        env_file=None,
    )
    assert (loaded.scim_token, loaded.people_source, loaded.default_role) == (TOKEN, "scim", "sales")
    with pytest.raises(ConfigError, match="at least 24 characters"):
        load_settings({"ADOPTBOT_SCIM_TOKEN": "short"}, env_file=None)
    with pytest.raises(ConfigError, match="needs ADOPTBOT_SCIM_TOKEN"):
        load_settings({"ADOPTBOT_PEOPLE_SOURCE": "scim"}, env_file=None)
    with pytest.raises(ConfigError, match="'csv' or 'scim'"):
        load_settings({"ADOPTBOT_PEOPLE_SOURCE": "ldap"}, env_file=None)


def test_the_dashboard_refuses_a_roster_upload_while_scim_owns_people(
    settings: Settings, fake_slack: FakeSlack, engine: Engine
) -> None:

    dashboard = dashboard_settings(settings, fake_slack)
    with session_scope(engine) as session:
        add_team(session, "Alpha")
        add_person(session, "UCM", team="Alpha", name="Chris Manager", change_manager=True)
    with SlackAppServer(dashboard, engine, public=True) as server:
        browser = Browser(server.url)
        browser.sign_in(fake_slack, "UCM")
        csrf = browser.get("/dashboard/people").csrf
        roster = b"email,name,team,role\nzed@example.com,Zed,Alpha,sales\n"
        page = browser.post_file("/dashboard/people/upload", {"csrf": csrf}, "roster", "p.csv", roster)
        assert page.status == 409 and "ADOPTBOT_PEOPLE_SOURCE=scim" in page.visible_text()
    with session_scope(engine, readonly=True) as session:
        assert session.scalar(select(Person.id).where(Person.email == "zed@example.com")) is None
