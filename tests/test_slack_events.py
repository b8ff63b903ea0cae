"""Events: a redelivery is processed once; team_join welcomes via the outbox; user_change updates people."""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot import outbox
from bot.config import Settings
from bot.models import OutboxMessage, Person, ProcessedEvent
from bot.slack import ids
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for


def _count(engine: Engine, model: Any, *where: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def _person(engine: Engine, user_id: str) -> Person | None:
    with Session(engine) as session:
        return session.scalars(select(Person).where(Person.slack_user_id == user_id)).first()


def _slack_user(user_id: str, **extra: Any) -> dict[str, Any]:
    """A user object as team_join / user_change carry it."""
    profile = {"real_name": extra.pop("real_name", user_id.lower()), "email": extra.pop("email", None)}
    profile.update(extra.pop("profile", {}))
    return {
        "id": user_id,
        "name": user_id.lower(),
        "deleted": False,
        "tz": "America/Los_Angeles",
        "profile": profile,
        **extra,
    }


def test_a_redelivered_event_is_acknowledged_and_not_processed_again(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP")
    session.commit()
    opened = {"type": "app_home_opened", "user": "U0EMP", "channel": "D0EMP", "tab": "home"}
    with SlackAppServer(slack_settings, engine) as server:
        first = server.event(opened, event_id="Ev0HOME1")
        wait_for(lambda: fake_slack.calls_to("views.publish"), what="the Home tab")
        again = server.event(opened, event_id="Ev0HOME1", retry_num=1, retry_reason="http_timeout")
        unmarked = server.event(opened, event_id="Ev0HOME1")  # a duplicate Slack did not flag as a retry
        other = server.event(opened, event_id="Ev0HOME2")
        wait_for(lambda: len(fake_slack.calls_to("views.publish")) == 2, what="the second event's Home tab")
        server.event({"type": "team_join", "user": _slack_user("U0NEW")}, event_id="Ev0JOIN")
        server.event({"type": "team_join", "user": _slack_user("U0NEW")}, event_id="Ev0JOIN", retry_num=2)
        wait_for(lambda: _count(engine, OutboxMessage) == 1, what="the welcome DM")
    assert (first, again, unmarked, other) == (200, 200, 200, 200)
    assert len(fake_slack.calls_to("views.publish")) == 2
    assert _count(engine, ProcessedEvent) == 3
    assert _count(engine, Person, Person.slack_user_id == "U0NEW") == 1


def test_team_join_records_the_newcomer_and_queues_one_welcome_dm(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    with SlackAppServer(slack_settings, engine) as server:
        joined = fake_slack.add_user("U0NEW", real_name="Grace Hopper", tz="Europe/Berlin").to_slack()
        assert server.event({"type": "team_join", "user": joined}) == 200
        wait_for(lambda: _count(engine, OutboxMessage) == 1, what="the welcome DM in the outbox")
        # Slack may deliver a second team_join for the same person under a new event ID: still one welcome.
        server.event({"type": "team_join", "user": joined})
    assert fake_slack.calls_to("chat.postMessage") == []  # queued, not sent by the request
    report = outbox.drain(engine, slack_client, slack_settings)
    assert report.sent == 1
    person = _person(engine, "U0NEW")
    assert person is not None
    assert (person.is_active, person.team_id, person.role) == (False, None, None)
    assert (person.name, person.slack_timezone) == ("Grace Hopper", "Europe/Berlin")
    [dm] = fake_slack.posted_to("U0NEW")
    assert dm.text == "Welcome! Pick your role and team so my tips fit your work."
    buttons = [e for b in dm.blocks or [] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["text"]["text"]) for b in buttons] == [
        (ids.OPEN_ROLE_MODAL, "Pick my role and team")
    ]
    assert _count(engine, OutboxMessage, OutboxMessage.key == "welcome:U0NEW") == 1
    assert outbox.drain(engine, slack_client, slack_settings).sent == 0


def test_team_join_of_someone_the_roster_knows_by_email_links_them_and_keeps_their_team(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    person = add_person(session, "U0PLACEHOLDER", team="Finance Ops", role="finance")
    session.commit()
    person.slack_user_id = None
    person.email = "ada@example.com"
    session.commit()
    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "team_join", "user": _slack_user("U0ADA", email="ada@example.com")})
        wait_for(lambda: _count(engine, OutboxMessage) == 1, what="the welcome DM")
    outbox.drain(engine, slack_client, slack_settings)
    linked = _person(engine, "U0ADA")
    assert linked is not None and (linked.id, linked.role, linked.is_active) == (person.id, "finance", True)
    [dm] = fake_slack.posted_to("U0ADA")
    assert "You're set up as *Finance* in *Finance Ops*" in dm.block_text()


def test_bots_joining_get_no_record_and_no_welcome(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "team_join", "user": _slack_user("U0BOTX", is_bot=True)})
        server.event({"type": "team_join", "user": _slack_user("U0HUMAN")})
        wait_for(lambda: _person(engine, "U0HUMAN"), what="the human's record")
    assert _person(engine, "U0BOTX") is None
    assert _count(engine, OutboxMessage) == 1


def test_user_change_updates_the_time_zone_and_deactivates_deleted_users(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP")
    session.commit()

    def now(attribute: str) -> Any:
        person = _person(engine, "U0EMP")
        return getattr(person, attribute) if person is not None else None

    away = {"status_text": "On vacation", "status_emoji": ":palm_tree:"}
    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "user_change", "user": _slack_user("U0EMP", tz="Asia/Tokyo")})
        wait_for(lambda: now("slack_timezone") == "Asia/Tokyo", what="the new time zone")
        server.event({"type": "user_change", "user": _slack_user("U0EMP", tz="Asia/Tokyo", profile=away)})
        wait_for(lambda: now("away_text") == "On vacation", what="the away status")
        server.event({"type": "user_change", "user": _slack_user("U0EMP", tz="Asia/Tokyo", deleted=True)})
        wait_for(lambda: now("is_active") is False, what="the deactivation")
    assert (now("slack_timezone"), now("away_text"), now("is_active")) == ("Asia/Tokyo", "On vacation", False)
