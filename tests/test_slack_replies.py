"""What a click queues reaches Slack right after the answer, from the instance that handled the click,
also when it runs no scheduler and no outbox worker (`serve --no-scheduler` next to a cron tick)."""

from __future__ import annotations

import dataclasses

from sqlalchemy import Engine, func, select

from bot.config import Settings
from bot.db import session_scope
from bot.models import OutboxMessage
from bot.slack import ids
from tests import test_broadcasts_slack as broadcasts_slack
from tests import test_wins_slack as wins_slack
from tests.support.factories import add_person
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for


def _unsent(engine: Engine) -> int:
    with session_scope(engine, readonly=True) as session:
        query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.state != "sent")
        return int(session.scalar(query) or 0)


def test_the_broadcast_preview_arrives_without_any_tick(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with session_scope(engine) as session:
        add_person(session, broadcasts_slack.MANAGER, team="Change", role="hr", change_manager=True)
        add_person(session, "USALES1", team="Sales", role="sales")
    # The harness runs the app as a web instance does with --no-scheduler: no scheduler, no outbox worker.
    with SlackAppServer(slack_settings, engine, send_replies=True) as server:
        modal = broadcasts_slack.composer(server, fake_slack)
        answer = broadcasts_slack.submit(server, modal, message="Office hours on Friday", everyone=True)
        assert answer == {}
        preview = wait_for(
            lambda: [
                m for m in fake_slack.messages(broadcasts_slack.MANAGER) if "Office hours" in m.block_text()
            ],
            what="the preview DM",
        )
    assert len(preview) == 1
    assert _unsent(engine) == 0


def test_a_shared_win_reaches_the_reviewers_and_an_approval_reaches_the_channel_without_any_tick(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    settings = dataclasses.replace(slack_settings, wins_channel=wins_slack.CHANNEL)
    with session_scope(engine) as session:
        add_person(session, wins_slack.AUTHOR, team="Sales EMEA", name=wins_slack.AUTHOR_NAME)
        add_person(session, wins_slack.MANAGER, team="People Ops", change_manager=True)
    with SlackAppServer(settings, engine, send_replies=True) as server:
        wins_slack.share_win(server, fake_slack, engine)
        review = wait_for(
            lambda: [m for m in fake_slack.messages(wins_slack.MANAGER) if m.text.startswith("New AI win")],
            what="the moderation DM",
        )[0]
        wins_slack.click(server, review, wins_slack.MANAGER, ids.WIN_APPROVE)
        [posted] = wait_for(lambda: fake_slack.messages(wins_slack.CHANNEL), what="the win in the channel")
        wait_for(
            lambda: [m for m in fake_slack.messages(wins_slack.AUTHOR) if m.text == "Your win is approved!"],
            what="the author's news",
        )
    assert wins_slack.STORY in wins_slack.text_of(posted)
    assert len(fake_slack.messages(wins_slack.CHANNEL)) == 1
