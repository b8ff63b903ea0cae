"""The fakes answer the real slack_sdk and openai clients like the real services do."""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.slack.client import make_web_client
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_slack import FakeSlack, Message, remote_stats

ROOT = Path(__file__).resolve().parents[1]


def client_for(fake: FakeSlack, *, retry_rate_limits: bool = True, timeout: int = 30) -> WebClient:
    settings = dataclasses.replace(Settings(), slack_bot_token="xoxb-test", slack_api_url=fake.url)
    return make_web_client(settings, retry_rate_limits=retry_rate_limits, timeout=timeout)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


# ---- chat.postMessage and friends -------------------------------------------------------------------------


def test_a_message_to_a_user_lands_in_their_dm_with_a_unique_ts(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    first = slack_client.chat_postMessage(channel="U123", text="Try AI for your meeting notes")
    second = slack_client.chat_postMessage(
        channel="U123", text="Second tip", blocks=[section("*Second* tip")]
    )

    assert first["channel"] == second["channel"] == "DU123"
    assert float(first["ts"]) < float(second["ts"])
    assert [m.text for m in fake_slack.posted_to("U123")] == ["Try AI for your meeting notes", "Second tip"]
    assert fake_slack.posted_to("DU123")[1].blocks == [section("*Second* tip")]
    call = fake_slack.calls_to("chat.postMessage")[1]
    assert call.ok and call.token == "xoxb-test"
    assert call.params["blocks"] == [section("*Second* tip")]  # decoded, not a JSON string


def test_form_encoded_calls_are_decoded_like_json_ones(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    blocks = [section("from a form")]
    slack_client.api_call(
        "chat.postMessage",
        params={
            "channel": "C0WINS",
            "text": "form",
            "blocks": '[{"type": "section", "text": {"type": "mrkdwn", "text": "from a form"}}]',
        },
    )

    assert fake_slack.messages("C0WINS")[0].blocks == blocks
    assert fake_slack.calls_to("chat.postMessage")[0].params["blocks"] == blocks


def test_a_message_without_text_or_blocks_is_refused(slack_client: WebClient) -> None:
    error = slack_error(lambda: slack_client.api_call("chat.postMessage", json={"channel": "C1"}))
    assert error.response["error"] == "no_text"


def test_unknown_and_deactivated_people_cannot_be_messaged_when_users_are_strict(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    fake_slack.add_user("U1", name="ana")
    fake_slack.add_user("U2", name="ben", deleted=True)
    slack_client.chat_postMessage(channel="U9", text="lenient by default")  # any ID is accepted
    fake_slack.strict_users = True

    unknown = slack_error(lambda: slack_client.chat_postMessage(channel="U9", text="hi"))
    gone = slack_error(lambda: slack_client.chat_postMessage(channel="U2", text="hi"))
    opened = slack_error(lambda: slack_client.conversations_open(users="U9"))

    assert unknown.response["error"] == "channel_not_found"
    assert gone.response["error"] == "user_disabled"
    assert opened.response["error"] == "user_not_found"
    assert slack_client.chat_postMessage(channel="U1", text="hi")["channel"] == "DU1"


def test_archived_and_deleted_channels_refuse_posts(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    fake_slack.archive_channel("C0OLD")
    fake_slack.delete_channel("C0GONE")

    assert (
        slack_error(lambda: slack_client.chat_postMessage(channel="C0OLD", text="x")).response["error"]
        == "is_archived"
    )
    assert (
        slack_error(lambda: slack_client.chat_postMessage(channel="C0GONE", text="x")).response["error"]
        == "channel_not_found"
    )


def test_chat_update_changes_the_message_in_place(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    posted = slack_client.chat_postMessage(channel="C0ANN", text="Broadcast: 0 acknowledged")
    slack_client.chat_update(channel=posted["channel"], ts=posted["ts"], text="Broadcast: 3 acknowledged")

    [message] = fake_slack.messages("C0ANN")
    assert message.text == "Broadcast: 3 acknowledged"
    assert message.updates == 1
    missing = slack_error(lambda: slack_client.chat_update(channel="C0ANN", ts="1.000001", text="x"))
    assert missing.response["error"] == "message_not_found"


def test_ephemeral_permalink_and_dm_opening(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    ephemeral = slack_client.chat_postEphemeral(channel="C0GEN", user="U1", text="Only you can see this")
    posted = slack_client.chat_postMessage(channel="C0GEN", text="A win!")
    link = slack_client.chat_getPermalink(channel="C0GEN", message_ts=posted["ts"])
    first = slack_client.conversations_open(users="U7")
    again = slack_client.conversations_open(users="U7")

    assert ephemeral["message_ts"]
    assert fake_slack.ephemerals[0]["user"] == "U1"
    assert fake_slack.messages("C0GEN")[0].text == "A win!"  # ephemerals are not channel history
    assert link["permalink"].endswith(posted["ts"].replace(".", ""))
    assert first["channel"]["id"] == again["channel"]["id"] == "DU7"
    assert again["already_open"] is True


def test_unknown_methods_and_missing_tokens_fail_like_slack(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    anonymous = WebClient(token=None, base_url=fake_slack.url)

    assert slack_error(lambda: client.api_call("nudges.send")).response["error"] == "unknown_method"
    assert slack_error(lambda: anonymous.api_call("auth.test")).response["error"] == "not_authed"
    assert client.auth_test()["user_id"] == fake_slack.bot_user_id


def test_slack_settings_point_the_bot_at_the_fake(
    slack_settings: Settings, fake_slack: FakeSlack, db_url: str
) -> None:
    make_web_client(slack_settings).chat_postMessage(channel="U1", text="hello")

    assert slack_settings.database_url == db_url
    assert slack_settings.slack_signing_secret == "test-secret"
    assert fake_slack.calls_to("chat.postMessage")[0].token == "xoxb-test"


# ---- faults, retries, rate limits --------------------------------------------------------------------------


def test_a_429_with_retry_after_is_honoured_and_retried_by_the_bot_client(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    client = client_for(fake_slack)

    started = time.monotonic()
    answer = client.chat_postMessage(channel="U1", text="after the wait")

    assert answer["ok"] and time.monotonic() - started >= 1.0
    first, second = fake_slack.calls_to("chat.postMessage")
    assert (first.status, first.error) == (429, "ratelimited")
    assert second.ok
    assert len(fake_slack.posted_to("U1")) == 1


def test_without_rate_limit_retries_the_429_reaches_the_caller_with_retry_after(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    error = slack_error(
        lambda: client_for(fake_slack, retry_rate_limits=False).chat_postMessage(channel="U1", text="x")
    )

    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "7"
    assert error.response["error"] == "ratelimited"
    assert fake_slack.messages() == []


def test_server_errors_are_retried_and_give_up_after_the_retry_budget(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    fake_slack.fail_next("chat.postMessage", status=500, times=2)
    assert client.chat_postMessage(channel="U1", text="third time lucky")["ok"]
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [500, 500, 200]

    fake_slack.fail_next("chat.postMessage", status=503, times=3)
    error = slack_error(lambda: client.chat_postMessage(channel="U1", text="never"))
    assert error.response.status_code == 503
    assert [m.text for m in fake_slack.posted_to("U1")] == ["third time lucky"]


def test_an_error_fault_is_an_http_200_not_ok(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    fake_slack.fail_next("users.info", error="user_not_found")
    fake_slack.add_user("U1")

    error = slack_error(lambda: slack_client.users_info(user="U1"))

    assert error.response.status_code == 200 and error.response["error"] == "user_not_found"
    assert slack_client.users_info(user="U1")["user"]["id"] == "U1"  # only the next call failed


def test_a_fault_after_processing_posts_the_message_but_loses_the_reply(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=500, after_processing=True)
    client = WebClient(token="xoxb-test", base_url=fake_slack.url)  # no retries

    slack_error(lambda: client.chat_postMessage(channel="U1", text="did it go?"))

    assert [m.text for m in fake_slack.posted_to("U1")] == ["did it go?"]


def test_rate_limit_turns_away_the_excess_with_a_whole_second_retry_after(fake_slack: FakeSlack) -> None:
    # 5 at once, then one a second: the burst below takes well under a second, so exactly 5 pass.
    fake_slack.rate_limit("chat.postMessage", per_second=1, burst=5)
    client = client_for(fake_slack, retry_rate_limits=False)

    outcomes: list[int | str] = []
    for n in range(10):
        try:
            client.chat_postMessage(channel=f"U{n}", text="burst")
            outcomes.append(200)
        except SlackApiError as error:
            outcomes.append(error.response.headers["Retry-After"])

    assert outcomes[:5] == [200] * 5
    assert outcomes[5:] == ["1"] * 5
    assert fake_slack.rejected("chat.postMessage") == 5
    assert len(fake_slack.messages()) == 5
    time.sleep(1.0)
    assert client.chat_postMessage(channel="U1", text="later")["ok"]


def test_a_slow_rate_has_a_longer_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.rate_limit("users.list", per_second=0.25)
    client = client_for(fake_slack, retry_rate_limits=False)

    client.users_list()
    error = slack_error(client.users_list)

    assert error.response.headers["Retry-After"] == "4"


def test_delay_makes_the_client_time_out_after_slack_acted(fake_slack: FakeSlack) -> None:
    fake_slack.delay("chat.postMessage", 2.0)
    client = WebClient(token="xoxb-test", base_url=fake_slack.url, timeout=1)

    with pytest.raises(TimeoutError):
        client.chat_postMessage(channel="U1", text="slow network")

    assert [m.text for m in fake_slack.posted_to("U1")] == ["slow network"]


# ---- Block Kit limits --------------------------------------------------------------------------------------


def button(text: str = "Tried it", action_id: str = "nudge_tried") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def context(n: int) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * n}


BLOCK_CASES = [
    # (what, blocks, pointer in the error or None when Slack accepts it)
    ("50 blocks", [section("x")] * 50, None),
    ("51 blocks", [section("x")] * 51, "/blocks]"),
    ("3000-char section", [section("x" * 3000)], None),
    ("3001-char section", [section("x" * 3001)], "/blocks/0/text/text"),
    ("150-char header", [header("h" * 150)], None),
    ("151-char header", [header("h" * 151)], "/blocks/0/text/text"),
    ("mrkdwn header", [{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}], "/blocks/0/text/type"),
    ("75-char button", [{"type": "actions", "elements": [button("b" * 75)]}], None),
    (
        "76-char button",
        [{"type": "actions", "elements": [button("b" * 76)]}],
        "/blocks/0/elements/0/text/text",
    ),
    ("256-char action_id", [{"type": "actions", "elements": [button(action_id="a" * 256)]}], "/action_id"),
    ("256-char block_id", [{**section("x"), "block_id": "b" * 256}], "/blocks/0/block_id"),
    ("10 context elements", [context(10)], None),
    ("11 context elements", [context(11)], "/blocks/0/elements]"),
    ("25 buttons", [{"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(25)]}], None),
    (
        "26 buttons",
        [{"type": "actions", "elements": [button(action_id=f"a{i}") for i in range(26)]}],
        "elements]",
    ),
    (
        "11 section fields",
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "/fields]",
    ),
    ("empty section", [{"type": "section"}], "/blocks/0]"),
    ("unknown block", [{"type": "hologram"}], "/blocks/0/type"),
]


@pytest.mark.parametrize(("what", "blocks", "pointer"), BLOCK_CASES, ids=[c[0] for c in BLOCK_CASES])
def test_block_kit_limits_in_messages(
    slack_client: WebClient, what: str, blocks: list[dict[str, Any]], pointer: str | None
) -> None:
    def post() -> Any:
        return slack_client.chat_postMessage(channel="C0GEN", text=what, blocks=blocks)

    if pointer is None:
        assert post()["ok"]
        return
    error = slack_error(post)
    assert error.response["error"] == "invalid_blocks"
    assert any(pointer in e for e in error.response["errors"]), error.response["errors"]


def modal(
    title: str = "Share a win", blocks: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": blocks or [section("x")],
    }
    return view | extra


def input_block(label: str = "What did you do?") -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "story",
        "label": {"type": "plain_text", "text": label},
        "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
    }


VIEW_CASES = [
    ("100 blocks", modal(blocks=[section("x")] * 100), None),
    ("101 blocks", modal(blocks=[section("x")] * 101), "/view/blocks]"),
    ("24-char title", modal("t" * 24), None),
    ("25-char title", modal("t" * 25), "/view/title/text"),
    ("input without submit", modal(blocks=[input_block()]), "/view/submit"),
    (
        "25-char submit",
        modal(blocks=[input_block()], submit={"type": "plain_text", "text": "s" * 25}),
        "/submit",
    ),
    (
        "2001-char label",
        modal(blocks=[input_block("l" * 2001)], submit={"type": "plain_text", "text": "OK"}),
        "label",
    ),
    ("3001-char metadata", modal(private_metadata="m" * 3001), "/view/private_metadata"),
]


@pytest.mark.parametrize(("what", "view", "pointer"), VIEW_CASES, ids=[c[0] for c in VIEW_CASES])
def test_block_kit_limits_in_modals(
    slack_client: WebClient, what: str, view: dict[str, Any], pointer: str | None
) -> None:
    def opening() -> Any:
        return slack_client.views_open(trigger_id=f"trigger-{what}", view=view)

    if pointer is None:
        assert opening()["view"]["id"].startswith("V")
        return
    error = slack_error(opening)
    assert error.response["error"] == "invalid_arguments"  # what Slack answers for views.*
    assert any(pointer in e for e in error.response["errors"]), error.response["errors"]


def test_home_tab_holds_at_most_100_blocks(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    home = {"type": "home", "blocks": [section("x")] * 101}
    error = slack_error(lambda: slack_client.views_publish(user_id="U1", view=home))
    assert error.response["error"] == "invalid_arguments"
    assert "U1" not in fake_slack.home_views


# ---- views -------------------------------------------------------------------------------------------------


def test_views_open_needs_a_fresh_trigger_and_can_be_updated(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    missing = slack_error(lambda: slack_client.api_call("views.open", json={"view": modal()}))
    opened = slack_client.views_open(trigger_id="t-1", view=modal(callback_id="win_modal"))
    reused = slack_error(lambda: slack_client.views_open(trigger_id="t-1", view=modal()))
    updated = slack_client.views_update(view_id=opened["view"]["id"], view=modal("Thanks!"))

    assert missing.response["error"] == "invalid_arguments"
    assert reused.response["error"] == "exchanged_trigger_id"
    assert opened["view"]["callback_id"] == "win_modal"
    assert updated["view"]["id"] == opened["view"]["id"]
    assert [v.method for v in fake_slack.views] == ["views.open", "views.update"]
    assert fake_slack.view(opened["view"]["id"]).view["title"]["text"] == "Thanks!"  # type: ignore[union-attr]


def test_views_publish_keeps_each_persons_home_tab(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    first = slack_client.views_publish(
        user_id="U1", view={"type": "home", "blocks": [header("Your progress")]}
    )
    slack_client.views_publish(user_id="U1", view={"type": "home", "blocks": [header("Week 2")]})
    stale = slack_error(
        lambda: slack_client.views_publish(
            user_id="U1", hash=first["view"]["hash"], view={"type": "home", "blocks": [header("old")]}
        )
    )

    assert fake_slack.home_views["U1"]["blocks"] == [header("Week 2")]
    assert stale.response["error"] == "hash_conflict"


# ---- users -------------------------------------------------------------------------------------------------


def test_users_info_reports_time_zone_status_and_deactivation(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    fake_slack.add_user(
        "U1",
        name="ana",
        real_name="Ana Lima",
        email="ana@example.com",
        tz="Asia/Kolkata",
        status_emoji=":palm_tree:",
        status_text="On holiday",
        status_expiration=1_900_000_000,
    )
    fake_slack.add_user("U2", name="ben", deleted=True)

    ana = slack_client.users_info(user="U1")["user"]
    ben = slack_client.users_info(user="U2")["user"]

    assert (ana["tz"], ana["tz_offset"], ana["real_name"]) == ("Asia/Kolkata", 19800, "Ana Lima")
    assert ana["profile"]["status_emoji"] == ":palm_tree:"
    assert ana["profile"]["status_expiration"] == 1_900_000_000
    assert ana["profile"]["email"] == "ana@example.com"
    assert ben["deleted"] is True
    assert slack_error(lambda: slack_client.users_info(user="U404")).response["error"] == "user_not_found"
    assert slack_client.users_lookupByEmail(email="ANA@example.com")["user"]["id"] == "U1"
    assert (
        slack_error(lambda: slack_client.users_lookupByEmail(email="x@y.z")).response["error"]
        == "users_not_found"
    )


def test_users_list_pages_with_a_cursor(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    ids = [f"U{n:03d}" for n in range(7)]
    for user_id in ids:
        fake_slack.add_user(user_id)

    pages = [[m["id"] for m in page["members"]] for page in slack_client.users_list(limit=3)]

    assert pages == [ids[0:3], ids[3:6], ids[6:]]
    assert len(fake_slack.calls_to("users.list")) == 3
    assert fake_slack.calls_to("users.list")[1].params["cursor"]


# ---- history and metadata ----------------------------------------------------------------------------------


def test_conversations_history_returns_messages_with_their_metadata(
    fake_slack: FakeSlack, slack_client: WebClient
) -> None:
    for n in range(3):
        slack_client.chat_postMessage(
            channel="U1",
            text=f"nudge {n}",
            metadata={"event_type": "adoptbot_nudge", "event_payload": {"outbox_key": f"nudge:{n}"}},
        )

    plain = slack_client.conversations_history(channel="DU1")
    full = slack_client.conversations_history(channel="DU1", include_all_metadata=True, limit=2)

    assert [m["text"] for m in plain["messages"]] == ["nudge 2", "nudge 1", "nudge 0"]  # newest first
    assert "metadata" not in plain["messages"][0]
    assert [m["metadata"]["event_payload"]["outbox_key"] for m in full["messages"]] == ["nudge:2", "nudge:1"]
    assert full["has_more"] is True
    oldest = fake_slack.posted_to("U1")[0].ts
    assert len(slack_client.conversations_history(channel="DU1", oldest=oldest)["messages"]) == 2


def test_duplicates_are_easy_to_count(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    def post(key: str) -> None:
        meta = {"event_type": "adoptbot_nudge", "event_payload": {"outbox_key": key}}
        slack_client.chat_postMessage(channel="U1", text="tip", metadata=meta)

    post("a")
    post("b")
    assert fake_slack.duplicates("outbox_key") == {}
    post("a")
    assert fake_slack.duplicates("outbox_key") == {"a": 2}
    assert fake_slack.metadata_counts("outbox_key")["b"] == 1


# ---- files -------------------------------------------------------------------------------------------------


def test_files_upload_v2_round_trip(fake_slack: FakeSlack, slack_client: WebClient) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))

    answer = slack_client.files_upload_v2(
        channel="C0DIGEST",
        content=png,
        filename="digest.png",
        title="Weekly trend",
        initial_comment="Week 47",
    )

    [upload] = fake_slack.files.values()
    assert answer["file"]["id"] == upload.id
    assert upload.content == png
    assert (upload.title, upload.channel, upload.initial_comment) == ("Weekly trend", "C0DIGEST", "Week 47")
    [message] = fake_slack.messages("C0DIGEST")
    assert message.text == "Week 47" and message.files[0]["id"] == upload.id


# ---- across processes --------------------------------------------------------------------------------------


SENDER = textwrap.dedent(
    """
    import sys
    from slack_sdk import WebClient
    client = WebClient(token="xoxb-test", base_url=sys.argv[1])
    n = 0
    while True:
        client.chat_postMessage(channel="U1", text=f"message {n}")
        n += 1
    """
)


def _once_quiet(read: Callable[[], list[Message]], quiet: float = 0.3, limit: float = 10) -> list[Message]:
    """What `read` returns once it has stayed the same length for `quiet` seconds."""
    deadline = time.monotonic() + limit
    seen = read()
    steady_since = time.monotonic()
    while time.monotonic() - steady_since < quiet and time.monotonic() < deadline:
        time.sleep(0.02)
        now = read()
        if len(now) != len(seen):
            seen, steady_since = now, time.monotonic()
    return seen


def test_messages_are_counted_when_the_sending_process_is_killed(fake_slack: FakeSlack) -> None:
    sender = subprocess.Popen([sys.executable, "-c", SENDER, fake_slack.url], cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while len(fake_slack.posted_to("U1")) < 20 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sender.kill()
        sender.wait()

    # A request the sender finished writing just before it died is still handled by the server afterwards,
    # so the counts are read once the server has gone quiet.
    messages = _once_quiet(lambda: fake_slack.posted_to("U1"))
    received = len(messages)
    assert received >= 20
    assert received == len(fake_slack.calls_to("chat.postMessage", ok=True))
    assert len({m.ts for m in messages}) == received
    assert client_for(fake_slack).chat_postMessage(channel="U1", text="still serving")["ok"]


def test_standalone_server_serves_until_stdin_closes() -> None:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.fake_slack",
            "--port",
            "0",
            "--rate-limit",
            "chat.postMessage=50",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdin is not None
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/")
        client = WebClient(token="xoxb-test", base_url=url)
        for n in range(3):
            client.chat_postMessage(channel="U1", text=f"bench {n}")

        stats = remote_stats(url)

        assert stats["messages"] == 3
        assert stats["ok_calls"] == {"chat.postMessage": 3}
        server.stdin.close()
        assert server.wait(timeout=10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        for stream in (server.stdout, server.stderr):
            if stream is not None:
                stream.close()


def test_standalone_server_without_a_stdin_pipe_serves_until_sigterm() -> None:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_slack", "--port", "0"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        time.sleep(0.3)  # an EOF on /dev/null must not stop it
        assert WebClient(token="xoxb-test", base_url=url).auth_test()["ok"]
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=10) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        if server.stdout is not None:
            server.stdout.close()


# ---- fake OpenAI -------------------------------------------------------------------------------------------


def openai_client(fake: FakeOpenAI, timeout: float = 5.0) -> openai.OpenAI:
    return openai.OpenAI(api_key="test", base_url=fake.url, max_retries=0, timeout=timeout)


def test_openai_client_gets_the_scripted_reply_and_usage(fake_openai: FakeOpenAI) -> None:
    fake_openai.reply("Three ways to use AI this week.", prompt_tokens=120, completion_tokens=9)
    with openai_client(fake_openai) as client:
        completion = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[
                {"role": "system", "content": "You coach."},
                {"role": "user", "content": "Tips for [PERSON]"},
            ],
        )

    assert completion.choices[0].message.content == "Three ways to use AI this week."
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (120, 9)
    assert completion.model == "gpt-4o-mini"
    [request] = fake_openai.requests
    assert request.messages[1]["content"] == "Tips for [PERSON]"
    assert "Tips for [PERSON]" in request.text


def test_openai_server_error_raises_without_retries(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(status=500)
    fake_openai.reply("after the failure")
    with openai_client(fake_openai) as client:
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        answer = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )

    assert answer.choices[0].message.content == "after the failure"
    assert [r.status for r in fake_openai.requests] == [500, 200]


def test_openai_delay_makes_the_client_time_out(fake_openai: FakeOpenAI) -> None:
    fake_openai.delay(1.5)
    with openai_client(fake_openai, timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "slow"}]
            )

    assert time.monotonic() - started < 1.5
    assert len(fake_openai.requests) == 1
