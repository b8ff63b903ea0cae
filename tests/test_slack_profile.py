"""Role and team: the modal (from `/adopt role`, App Home and the welcome DM), its validation, App Home."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import Person, Team, TeamSource
from bot.slack import ids
from tests.support import signing
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, button_in, library, wait_for


def _opened_modal(fake_slack: FakeSlack) -> dict[str, Any]:
    call = wait_for(lambda: fake_slack.calls_to("views.open", ok=True), what="the role modal")[-1]
    view: dict[str, Any] = call.params["view"]
    return view


def _block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id)


def _picked_own_team(session: Session, *user_ids: str) -> None:
    """These people chose their team in the modal (the roster gave them none), so they may change it."""
    session.execute(
        update(Person).where(Person.slack_user_id.in_(user_ids)).values(team_source=TeamSource.SELF)
    )
    session.commit()


def _person(engine: Engine, user_id: str) -> Person | None:
    with Session(engine) as session:
        return session.scalars(select(Person).where(Person.slack_user_id == user_id)).first()


def _submit(
    server: SlackAppServer, user_id: str, role: str | None, team: str | None, view_blocks: list[Any]
) -> Any:
    state: dict[str, dict[str, Any]] = {}
    if role is not None:
        state[ids.ROLE_BLOCK] = {ids.ROLE_SELECT: signing.selected_option(role)}
    if team is not None:
        state[ids.TEAM_BLOCK] = {ids.TEAM_SELECT: signing.selected_option(team)}
    payload = signing.view_submission_payload(user_id, ids.ROLE_MODAL, state, blocks=view_blocks)
    return server.interact(payload)


def test_adopt_role_opens_the_modal_with_the_library_roles_and_the_teams_preselected(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP", team="Sales EMEA", role="sales")
    add_person(session, "U0OTHER", team="Platform", role="engineering")
    _picked_own_team(session, "U0EMP")
    with SlackAppServer(slack_settings, engine) as server:
        status, answer = server.command("role", user_id="U0EMP")
        view = _opened_modal(fake_slack)
    assert (status, answer) == (200, {})
    assert view["callback_id"] == ids.ROLE_MODAL
    role_menu = _block(view, ids.ROLE_BLOCK)["element"]
    assert {o["value"] for o in role_menu["options"]} == set(library().roles)
    assert role_menu["initial_option"]["value"] == "sales"
    team_menu = _block(view, ids.TEAM_BLOCK)["element"]
    assert [o["text"]["text"] for o in team_menu["options"]] == ["Platform", "Sales EMEA"]
    assert team_menu["initial_option"]["text"]["text"] == "Sales EMEA"


def test_saving_the_modal_persists_role_and_team_and_refreshes_app_home(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP", team="Sales EMEA", role="sales")
    platform = add_person(session, "U0OTHER", team="Platform", role="engineering").team_id
    _picked_own_team(session, "U0EMP")
    with SlackAppServer(slack_settings, engine) as server:
        server.command("role", user_id="U0EMP")
        view = _opened_modal(fake_slack)
        status, answer = _submit(server, "U0EMP", "engineering", str(platform), view["blocks"])
        home = wait_for(lambda: fake_slack.home_views.get("U0EMP"), what="the refreshed Home tab")
    assert (status, answer) == (200, {})
    person = _person(engine, "U0EMP")
    assert person is not None and (person.role, person.team_id, person.is_active) == (
        "engineering",
        platform,
        True,
    )
    text = str(home["blocks"])
    assert "Engineering" in text and "Platform" in text


def test_someone_adoptbot_did_not_know_joins_by_picking_role_and_team(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    team_id = add_person(session, "U0OTHER", team="Support", role="support").team_id
    session.commit()
    fake_slack.add_user("U0NEW", real_name="Grace Hopper", tz="Europe/Berlin")
    with SlackAppServer(slack_settings, engine) as server:
        status, answer = _submit(server, "U0NEW", "support", str(team_id), [])
        wait_for(lambda: (p := _person(engine, "U0NEW")) and p.slack_timezone, what="the Slack time zone")
    assert (status, answer) == (200, {})
    person = _person(engine, "U0NEW")
    assert person is not None
    assert (person.role, person.team_id, person.is_active) == ("support", team_id, True)
    assert (person.slack_timezone, person.name) == ("Europe/Berlin", "u0new")


def test_bad_input_is_answered_inline_and_nothing_is_saved(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP", team="Sales EMEA", role="sales")
    session.commit()
    blocks = [{"type": "input", "block_id": ids.ROLE_BLOCK}, {"type": "input", "block_id": ids.TEAM_BLOCK}]
    _picked_own_team(session, "U0EMP")
    with SlackAppServer(slack_settings, engine) as server:
        team_id = str(_person(engine, "U0EMP").team_id)  # type: ignore[union-attr]
        unknown_role = _submit(server, "U0EMP", "astronaut", team_id, blocks)
        no_team = _submit(server, "U0EMP", "engineering", None, blocks)
        gone_team = _submit(server, "U0EMP", "engineering", "99999", blocks)
    assert unknown_role == (
        200,
        {"response_action": "errors", "errors": {ids.ROLE_BLOCK: "Pick one of the roles in the list."}},
    )
    assert no_team == (200, {"response_action": "errors", "errors": {ids.TEAM_BLOCK: "Pick your team."}})
    assert gone_team[1]["errors"] == {ids.TEAM_BLOCK: "That team no longer exists; pick another one."}
    person = _person(engine, "U0EMP")
    assert person is not None and person.role == "sales"
    assert fake_slack.calls_to("views.publish") == []


def test_with_no_teams_yet_the_role_alone_is_saved_and_the_person_waits_inactive(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with SlackAppServer(slack_settings, engine) as server:
        server.command("role", user_id="U0FIRST")
        view = _opened_modal(fake_slack)
        assert all(b.get("block_id") != ids.TEAM_BLOCK for b in view["blocks"])
        status, answer = _submit(server, "U0FIRST", "hr", None, view["blocks"])
    assert (status, answer) == (200, {})
    person = _person(engine, "U0FIRST")
    assert person is not None and (person.role, person.team_id, person.is_active) == ("hr", None, False)


def test_app_home_shows_the_profile_and_a_button_to_change_it(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP", team="Sales <EMEA> & Co", role="sales", name="Ada")
    session.commit()
    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "app_home_opened", "user": "U0EMP", "channel": "D0EMP", "tab": "home"})
        home = wait_for(lambda: fake_slack.home_views.get("U0EMP"), what="the Home tab")
    fields = next(b for b in home["blocks"] if b["type"] == "section" and "fields" in b)["fields"]
    shown = {f["text"].split("\n", 1)[0]: f["text"].split("\n", 1)[1] for f in fields}
    assert shown["*Role*"] == "Sales"
    assert shown["*Team*"] == "Sales &lt;EMEA&gt; &amp; Co (from the roster)"  # typed by a person: escaped
    assert shown["*Time zone*"] == "UTC (the organisation's default)"
    assert shown["*Nudges*"].startswith("Up to two a week, on Tue and Thu around 10:00")
    buttons = [e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]
    profile_buttons = [b["text"]["text"] for b in buttons if b["action_id"] == ids.OPEN_ROLE_MODAL]
    assert profile_buttons == ["Change role"]  # the team is the roster's
    assert home["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Your profile", "emoji": True},
    }


def test_app_home_for_someone_new_asks_them_to_pick_role_and_team(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "app_home_opened", "user": "U0NEW", "channel": "D0NEW", "tab": "home"})
        home = wait_for(lambda: fake_slack.home_views.get("U0NEW"), what="the Home tab")
        server.event({"type": "app_home_opened", "user": "U0NEW", "channel": "D0NEW", "tab": "messages"})
    buttons = [e for b in home["blocks"] if b["type"] == "actions" for e in b["elements"]]
    profile_button = next(b for b in buttons if b["action_id"] == ids.OPEN_ROLE_MODAL)
    assert profile_button["text"]["text"] == "Pick my role and team"
    assert profile_button["style"] == "primary"
    assert len(fake_slack.calls_to("views.publish")) == 1  # the Messages tab publishes nothing


def test_the_home_button_opens_the_modal_preset_to_what_the_home_shows(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    add_person(session, "U0EMP", team="Sales EMEA", role="sales")
    add_person(session, "U0OTHER", team="Platform", role="engineering")
    _picked_own_team(session, "U0EMP")
    with SlackAppServer(slack_settings, engine) as server:
        server.event({"type": "app_home_opened", "user": "U0EMP", "channel": "D0EMP", "tab": "home"})
        home = wait_for(lambda: fake_slack.home_views.get("U0EMP"), what="the Home tab")
        button = button_in(home, ids.OPEN_ROLE_MODAL)
        click = signing.block_actions_payload(
            "U0EMP", ids.OPEN_ROLE_MODAL, button["value"], view=home, block_id="home.profile"
        )
        status, _ = server.interact(click)
        view = _opened_modal(fake_slack)
    assert status == 200
    assert view["callback_id"] == ids.ROLE_MODAL
    assert _block(view, ids.ROLE_BLOCK)["element"]["initial_option"]["value"] == "sales"
    team_menu = _block(view, ids.TEAM_BLOCK)["element"]
    assert [o["text"]["text"] for o in team_menu["options"]] == ["Platform", "Sales EMEA"]
    assert team_menu["initial_option"]["text"]["text"] == "Sales EMEA"


def test_a_button_that_carries_no_choice_presets_the_modal_from_the_database(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    """The welcome DM's button, or a Home published before buttons carried the choice."""
    add_person(session, "U0EMP", team="Support", role="support")
    _picked_own_team(session, "U0EMP")
    with SlackAppServer(slack_settings, engine) as server:
        home = {"id": "V0HOME", "type": "home", "blocks": []}
        status, _ = server.interact(signing.block_actions_payload("U0EMP", ids.OPEN_ROLE_MODAL, view=home))
        view = _opened_modal(fake_slack)
    assert status == 200
    assert _block(view, ids.ROLE_BLOCK)["element"]["initial_option"]["value"] == "support"
    assert _block(view, ids.TEAM_BLOCK)["element"]["initial_option"]["text"]["text"] == "Support"


def test_a_modal_opened_before_the_first_team_shows_the_teams_imported_since(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    """The team menu is kept for a while (TeamMenu); the modal that asks again reads the teams afresh."""
    with SlackAppServer(slack_settings, engine) as server:
        server.command("role", user_id="U0FIRST")
        view = _opened_modal(fake_slack)
        assert all(b.get("block_id") != ids.TEAM_BLOCK for b in view["blocks"])
        add_person(session, "U0OTHER", team="Finance", role="finance")  # a roster import, meanwhile
        session.commit()
        status, answer = _submit(server, "U0FIRST", "hr", None, view["blocks"])
    assert status == 200 and answer["response_action"] == "update"
    team_menu = _block(answer["view"], ids.TEAM_BLOCK)["element"]
    assert [o["text"]["text"] for o in team_menu["options"]] == ["Finance"]
    assert _person(engine, "U0FIRST") is None  # nothing saved until the team is picked


def test_more_teams_than_a_menu_holds_are_searched_as_you_type(
    slack_settings: Settings, engine: Engine, session: Session, fake_slack: FakeSlack
) -> None:
    session.add_all([Team(name=f"Team {n:03d}") for n in range(120)])
    session.commit()
    add_person(session, "U0EMP", team="Team 007")
    _picked_own_team(session, "U0EMP")
    with SlackAppServer(slack_settings, engine) as server:
        server.command("role", user_id="U0EMP")
        menu = _block(_opened_modal(fake_slack), ids.TEAM_BLOCK)["element"]
        suggestion = {
            "type": "block_suggestion",
            "user": {"id": "U0EMP"},
            "team": {"id": signing.TEAM_ID},
            "api_app_id": signing.API_APP_ID,
            "action_id": ids.TEAM_SELECT,
            "block_id": ids.TEAM_BLOCK,
            "value": "team 11",
            "view": {"id": "V1", "type": "modal", "callback_id": ids.ROLE_MODAL},
        }
        status, answer = server.interact(suggestion)
    assert menu["type"] == "external_select"
    assert menu["initial_option"]["text"]["text"] == "Team 007"
    assert status == 200
    assert [o["text"]["text"] for o in answer["options"]] == [f"Team {n}" for n in range(110, 120)]
