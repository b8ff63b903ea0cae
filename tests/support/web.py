"""A browser for the dashboard over real HTTP: cookies kept, redirects shown (not followed), forms posted.

    browser = Browser(server.url)
    browser.sign_in(fake_slack, "U1")          # Sign in with Slack through the fake's OpenID Connect
    page = browser.get("/dashboard/")           # Page(status, headers, text)
    browser.post("/dashboard/logout", {"csrf": page.csrf})

`sign_in` walks the same steps a browser does: the dashboard's /login redirects to the fake Slack's
authorize page, which (with `fake_slack.oidc_user` signed in) redirects back to the callback with a code.
"""

from __future__ import annotations

import dataclasses
import html
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import Any

from bot import clock
from bot.config import Settings
from tests.support.fake_slack import FakeSlack

DEMO_DAY = datetime(2026, 11, 25, 14, 30)  # the demo's report week is then 2026-W47


@dataclass
class Page:
    status: int
    headers: Message
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    @property
    def csrf(self) -> str:
        """The CSRF token of the page's first form."""
        found = re.search(r'name="csrf" value="([^"]*)"', self.text)
        assert found, "the page has no form with a CSRF token"
        return html.unescape(found.group(1))

    def visible_text(self) -> str:
        """The page's text as read on screen: tags dropped, entities decoded, spaces collapsed."""
        body = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", self.text)
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


class _LocalIsSecure(DefaultCookiePolicy):
    """Browsers treat 127.0.0.1 as a secure context: `Secure` cookies (Bolt's OAuth state) go back to it."""

    def return_ok_secure(self, cookie: Any, request: Any) -> bool:
        return True


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")
        self.cookies = CookieJar(policy=_LocalIsSecure())
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def _url(self, path_or_url: str) -> str:
        return path_or_url if "://" in path_or_url else self.root + path_or_url

    def request(
        self, method: str, path: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> Page:
        req = urllib.request.Request(self._url(path), data=data, method=method, headers=headers or {})
        try:
            with self._opener.open(req, timeout=20) as response:
                return Page(response.status, response.headers, response.read().decode("utf-8", "replace"))
        except urllib.error.HTTPError as error:
            return Page(error.code, error.headers, error.read().decode("utf-8", "replace"))

    def get(self, path: str) -> Page:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str] | None = None) -> Page:
        body = urllib.parse.urlencode(form or {}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_file(self, path: str, fields: dict[str, str], name: str, filename: str, content: bytes) -> Page:
        """A multipart/form-data POST with one file, as a browser's upload form sends it."""
        boundary = "----adoptbot-test-boundary"
        parts: list[bytes] = []
        for key, value in fields.items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            )
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST", path, b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )

    def cookie(self, name: str) -> Any:
        return next((c for c in self.cookies if c.name == name), None)

    def sign_in(self, fake: FakeSlack, user_id: str) -> Page:
        """Sign in with Slack as `user_id`; the page the callback answers with (a redirect when it worked)."""
        start = self.get("/dashboard/login")
        assert start.status == 302, f"/dashboard/login answered {start.status}: {start.text[:200]}"
        fake.oidc_user = user_id
        slack = self.get(start.location)
        assert slack.status == 302, f"the fake Slack's authorize page answered {slack.status}: {slack.text}"
        return self.get(slack.location)


def dashboard_settings(settings: Settings, fake: FakeSlack, **changes: Any) -> Settings:
    """`settings` with Sign in with Slack set up against `fake`'s OpenID Connect client."""
    client_id, secret = fake.oidc_client
    return dataclasses.replace(settings, slack_client_id=client_id, slack_client_secret=secret, **changes)


def seed_demo(db_url: str, out: Path, *, teams: int = 3, members: int = 30, at: datetime = DEMO_DAY) -> None:
    """`adoptbot demo` into the test's database, run on the clock at `at` (its report week: 2026-W47)."""
    from bot.cli import main

    with clock.frozen_at(at):
        argv = ["demo", "--teams", str(teams), "--members", str(members), "--weeks", "8"]
        code = main([*argv, "--db", db_url, "--out", str(out)])
    assert code == 0, "the demo failed"


def form_fields(page_html: str, action: str, csrf: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action`, as a browser would send them back."""
    form = page_html.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    fields = {name: html.unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', form)}
    return {**fields, "csrf": csrf}
