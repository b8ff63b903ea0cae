"""The HTTP surface `adoptbot serve` offers Slack: paths, methods, URL verification, body size."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from bot.config import Settings
from tests.support import signing
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer


def test_unknown_paths_are_404_and_events_only_take_post(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    import urllib.error
    import urllib.request

    with SlackAppServer(slack_settings, engine) as server:
        for path, expected in (("/", 404), ("/slack/other", 404), ("/slack/events", 405)):
            with pytest.raises(urllib.error.HTTPError) as raised:
                urllib.request.urlopen(server.url + path, timeout=5)
            assert raised.value.code == expected, path
            raised.value.close()


def test_slack_url_verification_is_answered_with_the_challenge(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    with SlackAppServer(slack_settings, engine) as server:
        status, text = server.post(signing.url_verification_body("abc123"))
    assert status == 200
    assert json.loads(text) == {"challenge": "abc123"}


def test_an_absurdly_large_body_is_refused_unread(
    slack_settings: Settings, engine: Engine, fake_slack: FakeSlack
) -> None:
    import http.client

    with SlackAppServer(slack_settings, engine) as server:
        connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=5)
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", signing.FORM)
        connection.putheader("Content-Length", "1100000")
        connection.endheaders()  # the body is never sent: the answer must not wait for it
        response = connection.getresponse()
        status = response.status
        response.read()
        connection.close()
    assert status == 413
