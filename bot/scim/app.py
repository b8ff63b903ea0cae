"""The SCIM 2.0 endpoints (RFC 7644) under `/scim/v2` on `adoptbot serve`: Users, Groups, and the discovery
resources identity providers read first (ServiceProviderConfig, ResourceTypes, Schemas).

Every request needs `Authorization: Bearer ADOPTBOT_SCIM_TOKEN` (compared in constant time; 401 with a
SCIM error otherwise). Changes are refused (403) unless ADOPTBOT_PEOPLE_SOURCE=scim, so a CSV roster and an
identity provider never both own people. Bodies are `application/scim+json` (plain JSON is accepted);
every refusal is a SCIM error with a `detail` sentence.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from bot import clock
from bot.db import session_scope
from bot.models import Person, Team
from bot.scim import resources, service, slack_link
from bot.scim.resources import ScimError
from bot.slack.runtime import Runtime

log = logging.getLogger(__name__)
MEDIA = "application/scim+json"


def _reply(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype=MEDIA)


def create_app(runtime: Runtime) -> Flask:
    settings, library = runtime.settings, runtime.library
    app = Flask(__name__)
    app.url_map.strict_slashes = False

    def lookup(email: str) -> tuple[str, str | None] | None:
        return slack_link.user_id_for(settings, email)

    def location(kind: str, id_: int) -> str:
        return f"{request.host_url.rstrip('/')}{request.script_root}/{kind}/{id_}"

    def user_out(person: Person, team: Team | None) -> dict[str, Any]:
        title = library.roles[person.role].name if person.role in library.roles else None
        return resources.user_json(
            id_=person.id,
            user_name=person.scim_user_name or person.email or str(person.id),
            external_id=person.external_id,
            name=person.name,
            email=person.email,
            active=person.is_active,
            title=title,
            team=(team.id, team.name) if team is not None else None,
            location=location("Users", person.id),
            created=person.created_at,
            modified=person.updated_at,
        )

    def group_out(db: Any, team: Team, *, with_members: bool = True) -> dict[str, Any]:
        return resources.group_json(
            id_=team.id,
            name=team.name,
            members=service.members(db, team) if with_members else None,
            location=location("Groups", team.id),
            created=team.created_at,
        )

    def body() -> Any:
        try:
            return json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise resources.invalid("The body is not JSON.", "invalidSyntax") from None

    def paging() -> tuple[int, int]:
        try:
            start = int(request.args.get("startIndex", "1"))
            count = int(request.args.get("count", "100"))
        except ValueError:
            raise resources.invalid("startIndex and count are whole numbers.") from None
        return max(start, 1), max(min(count, service.MAX_COUNT), 0)

    def writable() -> None:
        if settings.people_source != "scim":
            raise ScimError(
                403,
                "People come from the CSV roster on this installation (ADOPTBOT_PEOPLE_SOURCE=csv); "
                "set ADOPTBOT_PEOPLE_SOURCE=scim to provision them here.",
            )

    @app.before_request
    def authenticate() -> Response | None:
        sent = request.headers.get("Authorization", "")
        expected = f"Bearer {settings.scim_token or ''}"
        if not settings.scim_token or not hmac.compare_digest(sent.encode(), expected.encode()):
            failure = ScimError(401, "A valid bearer token is required.")
            response = _reply(failure.body(), 401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="Adoptbot SCIM"'
            return response
        return None

    @app.errorhandler(ScimError)
    def refused(error: ScimError) -> Response:
        return _reply(error.body(), error.status)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        return _reply(ScimError(code, error.description or error.name).body(), code)

    # --- discovery ----------------------------------------------------------------------------------------

    @app.get("/ServiceProviderConfig")
    def provider_config() -> Response:
        return _reply(
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                "patch": {"supported": True},
                "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
                "filter": {"supported": True, "maxResults": service.MAX_COUNT},
                "changePassword": {"supported": False},
                "sort": {"supported": False},
                "etag": {"supported": False},
                "authenticationSchemes": [
                    {"type": "oauthbearertoken", "name": "Bearer token", "description": "ADOPTBOT_SCIM_TOKEN"}
                ],
            }
        )

    @app.get("/ResourceTypes")
    def resource_types() -> Response:
        kinds: list[dict[str, Any]] = [
            {
                "id": "User",
                "name": "User",
                "endpoint": "/Users",
                "schema": resources.USER,
                "schemaExtensions": [{"schema": resources.ENTERPRISE, "required": False}],
            },
            {"id": "Group", "name": "Group", "endpoint": "/Groups", "schema": resources.GROUP},
        ]
        for kind in kinds:
            kind["schemas"] = ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]
        return _reply(resources.list_json(kinds, total=len(kinds), start=1))

    @app.get("/Schemas")
    def schemas() -> Response:
        found = [
            {"id": urn, "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"]}
            for urn in (resources.USER, resources.GROUP, resources.ENTERPRISE)
        ]
        return _reply(resources.list_json(found, total=len(found), start=1))

    # --- users ------------------------------------------------------------------------------------------

    @app.get("/Users")
    def list_users() -> Response:
        start, count = paging()
        with session_scope(runtime.engine, readonly=True) as db:
            found, total = service.users(db, filter_text=request.args.get("filter"), start=start, count=count)
            return _reply(resources.list_json([user_out(p, t) for p, t in found], total=total, start=start))

    @app.get("/Users/<user_id>")
    def get_user(user_id: str) -> Response:
        with session_scope(runtime.engine, readonly=True) as db:
            person = service.user(db, user_id)
            return _reply(user_out(person, db.get(Team, person.team_id) if person.team_id else None))

    @app.post("/Users")
    def create_user() -> Response:
        writable()
        fields = resources.user_fields(body())
        with session_scope(runtime.engine) as db:
            person = service.create_user(
                db, fields, library=library, settings=settings, now=clock.utcnow(), lookup=lookup
            )
            answer = user_out(person, db.get(Team, person.team_id) if person.team_id else None)
        response = _reply(answer, 201)
        response.headers["Location"] = answer["meta"]["location"]
        return response

    @app.put("/Users/<user_id>")
    def replace_user(user_id: str) -> Response:
        writable()
        fields = resources.user_fields(body())
        with session_scope(runtime.engine) as db:
            person = service.replace_user(
                db,
                service.user(db, user_id),
                fields,
                library=library,
                settings=settings,
                now=clock.utcnow(),
                lookup=lookup,
            )
            return _reply(user_out(person, db.get(Team, person.team_id) if person.team_id else None))

    @app.patch("/Users/<user_id>")
    def patch_user(user_id: str) -> Response:
        writable()
        changes = body()
        with session_scope(runtime.engine) as db:
            person = service.user(db, user_id)
            current = user_out(person, db.get(Team, person.team_id) if person.team_id else None)
            fields = resources.user_fields(resources.patch_user(current, changes))
            service.replace_user(
                db, person, fields, library=library, settings=settings, now=clock.utcnow(), lookup=lookup
            )
            return _reply(user_out(person, db.get(Team, person.team_id) if person.team_id else None))

    @app.delete("/Users/<user_id>")
    def delete_user(user_id: str) -> Response:
        writable()
        with session_scope(runtime.engine) as db:
            service.delete_user(db, service.user(db, user_id), now=clock.utcnow())
        return Response(status=204)

    # --- groups ---------------------------------------------------------------------------------------

    def with_members() -> bool:
        return "members" not in request.args.get("excludedAttributes", "")

    @app.get("/Groups")
    def list_groups() -> Response:
        start, count = paging()
        with session_scope(runtime.engine, readonly=True) as db:
            found, total = service.groups(
                db, filter_text=request.args.get("filter"), start=start, count=count
            )
            listed = [group_out(db, team, with_members=with_members()) for team in found]
            return _reply(resources.list_json(listed, total=total, start=start))

    @app.get("/Groups/<group_id>")
    def get_group(group_id: str) -> Response:
        with session_scope(runtime.engine, readonly=True) as db:
            return _reply(group_out(db, service.group(db, group_id), with_members=with_members()))

    @app.post("/Groups")
    def create_group() -> Response:
        writable()
        given = body()
        if not isinstance(given, dict):
            raise resources.invalid("The body must be a JSON object.", "invalidSyntax")
        name = given.get("displayName")
        with session_scope(runtime.engine) as db:
            team = service.create_group(
                db,
                name.strip() if isinstance(name, str) else None,
                resources.member_ids(given.get("members")),
                now=clock.utcnow(),
            )
            answer = group_out(db, team)
        response = _reply(answer, 201)
        response.headers["Location"] = answer["meta"]["location"]
        return response

    @app.put("/Groups/<group_id>")
    def replace_group(group_id: str) -> Response:
        writable()
        given = body()
        if not isinstance(given, dict):
            raise resources.invalid("The body must be a JSON object.", "invalidSyntax")
        name = given.get("displayName")
        change = resources.GroupChange(
            name=name.strip() if isinstance(name, str) and name.strip() else None,
            replace=resources.member_ids(given.get("members")),
        )
        with session_scope(runtime.engine) as db:
            team = service.group(db, group_id)
            service.change_group(db, team, [change], now=clock.utcnow())
            return _reply(group_out(db, team))

    @app.patch("/Groups/<group_id>")
    def patch_group(group_id: str) -> Response:
        writable()
        changes = resources.patch_group(body())
        with session_scope(runtime.engine) as db:
            team = service.group(db, group_id)
            service.change_group(db, team, changes, now=clock.utcnow())
        return Response(status=204)

    @app.delete("/Groups/<group_id>")
    def delete_group(group_id: str) -> Response:
        writable()
        with session_scope(runtime.engine) as db:
            service.delete_group(db, service.group(db, group_id), now=clock.utcnow())
        return Response(status=204)

    return app
