"""SCIM 2.0 shapes (RFC 7643): a person as a User, a team as a Group, list responses, errors, and PATCH
operations (RFC 7644 §3.5.2) applied to a resource's JSON, as Okta and Microsoft Entra ID send them.

Pure functions over dicts: the service reads and writes the database, these only translate. A PATCH is
applied to the resource as it stands (its full JSON) and the result is then stored like a PUT, so every
path a provider uses ends in the same code as a replace.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

JSON = dict[str, Any]


class ScimError(Exception):
    """A request Adoptbot refuses, answered as a SCIM error (RFC 7644 §3.12)."""

    def __init__(self, status: int, detail: str, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.scim_type = scim_type

    def body(self) -> JSON:
        found: JSON = {"schemas": [ERROR], "status": str(self.status), "detail": self.detail}
        if self.scim_type:
            found["scimType"] = self.scim_type
        return found


def invalid(detail: str, scim_type: str = "invalidValue") -> ScimError:
    return ScimError(400, detail, scim_type)


@dataclass(frozen=True)
class UserFields:
    """What Adoptbot keeps of a SCIM User."""

    user_name: str
    external_id: str | None
    name: str
    email: str | None
    active: bool
    title: str | None
    department: str | None


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat() + "Z"


def meta(kind: str, location: str, created: datetime, modified: datetime) -> JSON:
    return {
        "resourceType": kind,
        "created": _iso(created),
        "lastModified": _iso(modified),
        "location": location,
    }


def user_json(
    *,
    id_: int,
    user_name: str,
    external_id: str | None,
    name: str,
    email: str | None,
    active: bool,
    title: str | None,
    team: tuple[int, str] | None,
    location: str,
    created: datetime,
    modified: datetime,
) -> JSON:
    found: JSON = {
        "schemas": [USER, ENTERPRISE],
        "id": str(id_),
        "userName": user_name,
        "name": {"formatted": name},
        "displayName": name,
        "active": active,
        "emails": [{"value": email, "type": "work", "primary": True}] if email else [],
        ENTERPRISE: {"department": team[1]} if team else {},
        "groups": [{"value": str(team[0]), "display": team[1]}] if team else [],
        "meta": meta("User", location, created, modified),
    }
    if external_id:
        found["externalId"] = external_id
    if title:
        found["title"] = title
    return found


def group_json(
    *, id_: int, name: str, members: list[tuple[int, str]] | None, location: str, created: datetime
) -> JSON:
    found: JSON = {
        "schemas": [GROUP],
        "id": str(id_),
        "displayName": name,
        "meta": meta("Group", location, created, created),
    }
    if members is not None:
        found["members"] = [{"value": str(pid), "display": shown} for pid, shown in members]
    return found


def list_json(resources: list[JSON], *, total: int, start: int) -> JSON:
    return {
        "schemas": [LIST],
        "totalResults": total,
        "itemsPerPage": len(resources),
        "startIndex": start,
        "Resources": resources,
    }


def _text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"{what} must be a string.")
    return value.strip() or None


def _bool(value: Any, what: str) -> bool:
    """SCIM booleans, also as Entra sometimes sends them ("True", "false")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise invalid(f"{what} must be true or false.")


def user_fields(body: Mapping[str, Any]) -> UserFields:
    """The fields Adoptbot keeps from a User's JSON (a POST, a PUT, or a PATCH's result)."""
    if not isinstance(body, Mapping):
        raise invalid("The body must be a JSON object.", "invalidSyntax")
    user_name = _text(body.get("userName"), "userName")
    if not user_name:
        raise invalid("userName is required.")
    name_part = body.get("name") if isinstance(body.get("name"), Mapping) else {}
    assert isinstance(name_part, Mapping)
    given, family = (
        _text(name_part.get("givenName"), "name.givenName"),
        _text(name_part.get("familyName"), "name.familyName"),
    )
    name = (
        " ".join(p for p in (given, family) if p)
        or _text(name_part.get("formatted"), "name.formatted")
        or _text(body.get("displayName"), "displayName")
        or user_name
    )
    emails = body.get("emails") or []
    if not isinstance(emails, list):
        raise invalid("emails must be a list.")
    chosen = [e for e in emails if isinstance(e, Mapping) and e.get("primary")] or [
        e for e in emails if isinstance(e, Mapping)
    ]
    email = _text(chosen[0].get("value"), "emails.value") if chosen else None
    if email is None and "@" in user_name:
        email = user_name
    enterprise = body.get(ENTERPRISE) if isinstance(body.get(ENTERPRISE), Mapping) else {}
    assert isinstance(enterprise, Mapping)
    return UserFields(
        user_name=user_name,
        external_id=_text(body.get("externalId"), "externalId"),
        name=name[:200],
        email=email.lower() if email else None,
        active=_bool(body.get("active", True), "active"),
        title=_text(body.get("title"), "title"),
        department=_text(enterprise.get("department"), "department"),
    )


# --- PATCH ----------------------------------------------------------------------------------------------


def _operations(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    ops = body.get("Operations") if isinstance(body, Mapping) else None
    if not isinstance(ops, list) or not ops:
        raise invalid("A PATCH needs Operations, a list of add, replace or remove.", "invalidSyntax")
    for op in ops:
        if not isinstance(op, Mapping) or str(op.get("op", "")).lower() not in ("add", "replace", "remove"):
            raise invalid("Each operation's op is add, replace or remove.", "invalidSyntax")
    return ops


def _split(path: str) -> tuple[str | None, str]:
    """(schema URN or None, attribute path) of a PATCH path."""
    if path.startswith("urn:"):
        urn, _, attribute = path.rpartition(":")
        return urn, attribute
    return None, path


def patch_user(current: JSON, body: Mapping[str, Any]) -> JSON:
    """`current` (a User's JSON) with the PATCH's operations applied."""
    found = copy.deepcopy(current)
    for op in _operations(body):
        kind, path, value = str(op["op"]).lower(), op.get("path"), op.get("value")
        if not path:
            if kind == "remove" or not isinstance(value, Mapping):
                raise invalid("An operation without a path needs an object value.", "noTarget")
            for key, item in value.items():
                _set_user(found, key, item)
            continue
        if not isinstance(path, str):
            raise invalid("path must be a string.", "invalidPath")
        _set_user(found, path, None if kind == "remove" else value)
    return found


def _set_user(found: JSON, path: str, value: Any) -> None:
    urn, attribute = _split(path)
    if urn == ENTERPRISE or path == ENTERPRISE:
        target = found.setdefault(ENTERPRISE, {})
        if path == ENTERPRISE:
            if isinstance(value, Mapping):
                target.update(value)
            return
        target[attribute] = value
        return
    if urn is not None and urn != USER:
        raise invalid(f"Unknown schema in path {path!r}.", "invalidPath")
    lowered = attribute.lower()
    if lowered.startswith("emails"):
        # emails, emails[type eq "work"].value, emails[primary eq true].value
        email = value if isinstance(value, str) or value is None else None
        if isinstance(value, list):
            found["emails"] = value
        else:
            found["emails"] = [{"value": email, "type": "work", "primary": True}] if email else []
        return
    if lowered.startswith("name."):
        name = found.setdefault("name", {})
        part = attribute.split(".", 1)[1]
        if part in ("givenName", "familyName"):
            # Only the whole name is kept: a change to one part keeps the other part of it.
            formatted = name.pop("formatted", None)
            if formatted and "givenName" not in name and "familyName" not in name:
                given, _, family = str(formatted).partition(" ")
                name.update({"givenName": given, "familyName": family})
        name[part] = value
        return
    plain = {"username": "userName", "externalid": "externalId", "displayname": "displayName"}
    key = plain.get(lowered, attribute)
    if key == "displayName":
        found["name"] = {"formatted": value} if value else {}
    found[key] = value


@dataclass(frozen=True)
class GroupChange:
    """What a Group PATCH or PUT asks: a new name, members to add, to remove, or the whole member list."""

    name: str | None = None
    add: tuple[int, ...] = ()
    remove: tuple[int, ...] = ()
    replace: tuple[int, ...] | None = None


def member_ids(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        value = [value]
    found = []
    for item in value:
        raw = item.get("value") if isinstance(item, Mapping) else item
        if not isinstance(raw, str | int) or not str(raw).isdigit():
            raise invalid(f"Unknown member {raw!r}.")
        found.append(int(raw))
    return tuple(found)


def patch_group(body: Mapping[str, Any]) -> list[GroupChange]:
    """A Group PATCH as a list of changes, in order (Okta's and Entra's shapes alike)."""
    changes = []
    for op in _operations(body):
        kind, path, value = str(op["op"]).lower(), op.get("path"), op.get("value")
        path_text = str(path or "")
        if not path_text:
            if not isinstance(value, Mapping):
                raise invalid("An operation without a path needs an object value.", "noTarget")
            if "displayName" in value:
                changes.append(GroupChange(name=_text(value["displayName"], "displayName")))
            if "members" in value:
                ids = member_ids(value["members"])
                changes.append(GroupChange(replace=ids) if kind == "replace" else GroupChange(add=ids))
            continue
        lowered = path_text.lower()
        if lowered == "displayname":
            changes.append(GroupChange(name=_text(value, "displayName")))
        elif lowered == "members":
            ids = member_ids(value)
            if kind == "add":
                changes.append(GroupChange(add=ids))
            elif kind == "remove":
                changes.append(GroupChange(remove=ids) if ids else GroupChange(replace=()))
            else:
                changes.append(GroupChange(replace=ids))
        elif lowered.startswith("members[") and kind == "remove":
            # members[value eq "123"]
            inner = path_text[path_text.index("[") + 1 : path_text.rindex("]")]
            wanted = inner.split("eq", 1)[-1].strip().strip('"')
            changes.append(GroupChange(remove=member_ids([wanted])))
        else:
            raise invalid(
                f"Groups take changes to displayName and members, not {path_text!r}.", "invalidPath"
            )
    return changes
