"""Sign in with Slack (OpenID Connect): the authorize address, then the code exchanged for who signed in.

1. `/dashboard/login` sends the browser to Slack's `openid/connect/authorize` with the `openid profile
   email` scopes, a random `state` (kept in the signed session cookie, checked on the way back) and a
   `nonce`; the redirect URI is ADOPTBOT_PUBLIC_URL + `/dashboard/auth/callback`, as set in the Slack app.
2. The callback exchanges the code with `openid.connect.token` (the app's client ID and secret), then asks
   `openid.connect.userInfo` with the token it got who signed in: their Slack user ID and team. Both calls
   go through slack_sdk's WebClient to SLACK_API_URL, over TLS to Slack in production.
The person is then matched to the roster by that Slack user ID; nobody gets a password.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import DEFAULT_SLACK_API_URL, Settings

SCOPES = "openid profile email"
CALLBACK_PATH = "/dashboard/auth/callback"


class SignInFailed(Exception):
    """Slack did not confirm who signed in (a bad or reused code, a wrong client secret, no network)."""


@dataclass(frozen=True)
class SlackIdentity:
    user_id: str
    team_id: str | None
    email: str | None


def configured(settings: Settings) -> bool:
    """Whether Sign in with Slack can run: the app's client ID and secret, and the public address."""
    return bool(settings.slack_client_id and settings.slack_client_secret and settings.public_url)


def redirect_uri(settings: Settings) -> str:
    return f"{settings.public_url}{CALLBACK_PATH}"


def authorize_base(settings: Settings) -> str:
    """Slack's authorize page: beside SLACK_API_URL's `api/` (so a test's fake Slack serves it too)."""
    api = settings.slack_api_url
    if api == DEFAULT_SLACK_API_URL:
        return "https://slack.com/openid/connect/authorize"
    root = api[: -len("api/")] if api.endswith("api/") else api
    return f"{root}openid/connect/authorize"


def authorize_url(settings: Settings, *, state: str, nonce: str) -> str:
    query = {
        "response_type": "code",
        "scope": SCOPES,
        "client_id": settings.slack_client_id or "",
        "state": state,
        "nonce": nonce,
        "redirect_uri": redirect_uri(settings),
    }
    return f"{authorize_base(settings)}?{urlencode(query)}"


def exchange(settings: Settings, code: str) -> SlackIdentity:
    """Who signed in, from the code Slack sent back; SignInFailed when Slack does not confirm it."""
    try:
        token = WebClient(base_url=settings.slack_api_url, timeout=10).openid_connect_token(
            client_id=settings.slack_client_id or "",
            client_secret=settings.slack_client_secret or "",
            code=code,
            redirect_uri=redirect_uri(settings),
        )
        access = token.get("access_token")
        if not isinstance(access, str) or not access:
            raise SignInFailed("Slack gave no access token")
        info = WebClient(base_url=settings.slack_api_url, token=access, timeout=10).openid_connect_userInfo()
    except SlackApiError as error:
        code_name = error.response.get("error") if error.response is not None else None
        raise SignInFailed(f"Slack refused the sign-in ({code_name or 'unknown error'})") from None
    except (SlackClientError, OSError) as error:
        raise SignInFailed(f"Slack could not be reached ({type(error).__name__})") from None
    user_id = info.get("https://slack.com/user_id") or info.get("sub")
    if not isinstance(user_id, str) or not user_id:
        raise SignInFailed("Slack did not say who signed in")
    team = info.get("https://slack.com/team_id")
    email = info.get("email")
    return SlackIdentity(
        user_id=user_id,
        team_id=team if isinstance(team, str) else None,
        email=email if isinstance(email, str) else None,
    )
