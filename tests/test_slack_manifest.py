"""manifest.yml and Procfile agree with the app: command, shortcut, events, one URL, scopes."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings
from bot.slack import ids

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = (ROOT / "manifest.yml").read_text(encoding="utf-8")


def _values(key: str) -> list[str]:
    return re.findall(rf"^\s*-?\s*{key}:\s*(\S+)", MANIFEST, flags=re.MULTILINE)


def _list_under(key: str) -> list[str]:
    """The `- item` lines of the YAML list under `key:` (comments dropped)."""
    lines = MANIFEST.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"{key}:")
    indent = len(lines[start]) - len(lines[start].lstrip())
    items = []
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(line) - len(line.lstrip()) <= indent:
            break
        if stripped.startswith("- "):
            items.append(stripped[2:].split("#", 1)[0].strip())
    return items


def test_the_manifest_declares_the_command_and_shortcut_the_app_handles() -> None:
    assert _values("command") == [Settings().command]
    assert _values("callback_id") == [ids.SHARE_WIN_SHORTCUT]


def test_the_manifest_subscribes_to_the_events_adoptbot_handles() -> None:
    assert sorted(_list_under("bot_events")) == [
        "app_home_opened",
        "app_uninstalled",
        "team_join",
        "tokens_revoked",
        "user_change",
    ]


def test_every_request_url_is_the_one_endpoint_serve_answers() -> None:
    urls = _values("url") + _values("request_url") + _values("message_menu_options_url")
    assert len(urls) == 4
    assert set(urls) == {"https://YOUR-HOST/slack/events"}


def test_scopes_cover_the_methods_adoptbot_calls() -> None:
    scopes = set(_list_under("bot"))
    needed = {
        "commands",
        "chat:write",
        "im:write",
        "im:history",
        "users:read",
        "users:read.email",
        "files:write",
    }
    assert needed <= scopes
    assert "chat:write.public" not in scopes


def test_the_procfile_serves_and_migrates_on_release() -> None:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    assert lines == ["web: adoptbot serve", "release: adoptbot db upgrade"]


def test_sign_in_with_slack_asks_for_the_openid_scopes_and_returns_to_the_dashboard() -> None:
    from bot.dashboard.signin import CALLBACK_PATH, SCOPES

    assert sorted(_list_under("user")) == sorted(SCOPES.split())
    assert _list_under("redirect_urls")[0] == f"https://YOUR-HOST{CALLBACK_PATH}"


def test_the_oauth_install_asks_for_the_manifests_scopes_and_returns_to_serve() -> None:
    from bot.slack.install import BOT_SCOPES, REDIRECT_PATH

    assert sorted(BOT_SCOPES) == sorted(_list_under("bot"))
    assert f"https://YOUR-HOST{REDIRECT_PATH}" in _list_under("redirect_urls")


def test_an_enterprise_grid_organisation_can_install_it_org_wide() -> None:
    assert _values("org_deploy_enabled") == ["true"]
