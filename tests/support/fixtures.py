"""Pytest fixtures for the fake Slack and fake OpenAI servers (loaded from tests/conftest.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.config import Settings
from bot.slack.client import make_web_client
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_slack import FakeSlack

SLACK_BOT_TOKEN = "xoxb-test"
SLACK_SIGNING_SECRET = "test-secret"
# The outbox's pace in tests that do not measure it: 100 messages a second, a quarter of a second between two
# calls for one channel (instead of 20 and 1: a test's few messages to one person need not wait seconds). The
# interval stays well above the fake Slack's answer time, so one channel's messages still arrive in order.
FAST_PACE: dict[str, float] = {"send_rate": 100.0, "channel_interval": 0.25}


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A fake Slack Web API server, started for this test and stopped after it."""
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    """A fake OpenAI API server (`fake_openai.url` ends with /v1, for OPENAI_BASE_URL)."""
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def slack_settings(fake_slack: FakeSlack, db_url: str) -> Settings:
    """Settings for a bot talking to `fake_slack`, on this test's database.

    The outbox goes at a test's pace (FAST_PACE): a test that measures pacing sets its own rate and interval.
    """
    return dataclasses.replace(
        Settings(),
        database_url=db_url,
        slack_bot_token=SLACK_BOT_TOKEN,
        slack_signing_secret=SLACK_SIGNING_SECRET,
        slack_api_url=fake_slack.url,
        **FAST_PACE,
    )


@pytest.fixture
def slack_client(fake_slack: FakeSlack) -> WebClient:
    """The real slack_sdk WebClient (built by make_web_client) pointed at `fake_slack`; needs no database."""
    settings = dataclasses.replace(Settings(), slack_bot_token=SLACK_BOT_TOKEN, slack_api_url=fake_slack.url)
    return make_web_client(settings)
