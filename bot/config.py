"""Settings, read once from the environment (and a `.env` file in the working folder), checked, frozen."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

DEFAULT_DATABASE_URL = "sqlite:///adoptbot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The languages Adoptbot's messages will be written in, and the one used when nothing else applies.
SHIPPED_LOCALES = ("en", "de", "fr", "es", "ja", "pt-BR")
DEFAULT_LOCALE = "en"
_LOCALE = re.compile(r"^([a-z]{2,3})(?:-([a-z]{2}))?$")

_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message is one sentence naming it."""


@dataclass(frozen=True)
class Settings:
    """Every setting Adoptbot reads. Build it with `load_settings()`; never mutate it."""

    database_url: str = DEFAULT_DATABASE_URL
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    content_dir: Path | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    timezone: str = "UTC"
    min_group_size: int = 5
    wins_channel: str | None = None
    digest_channel: str | None = None
    admins: frozenset[str] = field(default_factory=frozenset)
    command: str = "/adopt"
    port: int = 3000
    # Outbox pacing: Slack allows about one message a second per channel; the global rate is a ceiling
    # for the whole installation (all instances together), in messages per second.
    send_rate: float = 20.0
    send_max_attempts: int = 6
    # Seconds between two calls to Slack for one channel (no environment variable: tests shorten it).
    channel_interval: float = 1.0
    # Nudge schedule, in each person's own time zone.
    nudge_days: tuple[int, ...] = (1, 3)
    nudge_hour: int = 10
    nudges_per_week: int = 2
    # Pulse schedule.
    pulse_reminder_days: tuple[int, ...] = (3, 5)
    pulse_close_days: int = 7
    # Leaders' digest: weekday and local hour.
    digest_day: int = 0
    digest_hour: int = 9
    # Keyed hash for pulse answers; when unset a random secret is kept in the database.
    secret: str | None = None
    # Whether imported usage reports choose each person's own nudges (ADOPTBOT_USAGE_TARGETING on/off).
    usage_targeting: bool = True
    # The language tag for people whose roster row and Slack say none (ADOPTBOT_LOCALE).
    locale: str = DEFAULT_LOCALE
    # The web dashboard's Sign in with Slack: the app's OAuth client, and the address people open it at.
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    # With the client ID and secret, turns on Slack's OAuth install flow (SLACK_STATE_SECRET).
    slack_state_secret: str | None = None
    public_url: str | None = None  # ADOPTBOT_PUBLIC_URL, e.g. https://adoptbot.example.com
    session_secret: str | None = None  # signs the dashboard's cookies; unset: generated, kept in the database
    # SCIM 2.0 provisioning (/scim/v2 on `adoptbot serve`): the identity provider's bearer token, which of
    # the CSV roster or SCIM owns people, and the role of someone whose SCIM title names no library role.
    scim_token: str | None = None
    people_source: str = "csv"  # "csv" or "scim"
    default_role: str | None = None

    @property
    def oauth_install(self) -> bool:
        """Whether Adoptbot is installed through Slack's OAuth flow (tokens kept in the database) rather
        than with one pasted SLACK_BOT_TOKEN."""
        return bool(self.slack_client_id and self.slack_client_secret and self.slack_state_secret)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def require(self, *names: str) -> None:
        """Stop with a one-line error when a setting the command needs is missing."""
        for name in names:
            attr = name.lower()
            if not getattr(self, attr, None):
                raise ConfigError(f"{name} is not set; this command needs it (see README, Configuration).")

    def require_slack(self) -> None:
        """Stop with a one-line error unless Slack can be reached: SLACK_BOT_TOKEN, or the OAuth install."""
        if not self.slack_bot_token and not self.oauth_install:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set (nor SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_STATE_SECRET "
                "for the OAuth install); this command needs Slack (see README, Configuration)."
            )

    @property
    def ai_enabled(self) -> bool:
        return bool(self.openai_api_key)


# `adoptbot serve`'s HTTP processes and threads per process (WEB_CONCURRENCY, ADOPTBOT_THREADS).
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 8


def _weekdays(name: str, value: str) -> tuple[int, ...]:
    days: list[int] = []
    for part in value.replace(" ", "").lower().split(","):
        if not part:
            continue
        if part[:3] not in WEEKDAYS:
            raise ConfigError(f"{name} must list weekdays like 'tue,thu', not {value!r}.")
        days.append(WEEKDAYS.index(part[:3]))
    if not days:
        raise ConfigError(f"{name} must name at least one weekday.")
    return tuple(sorted(set(days)))


def _int(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {value!r}.") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, not {number}.")
    return number


def _ints(name: str, value: str, low: int, high: int) -> tuple[int, ...]:
    parts = [p for p in value.replace(" ", "").split(",") if p]
    if not parts:
        raise ConfigError(f"{name} must list whole numbers like '3,5'.")
    return tuple(sorted({_int(name, p, low, high) for p in parts}))


def _float(name: str, value: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {value!r}.") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {number:g}.")
    return number


def load_settings(
    environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
) -> Settings:
    """Read settings from `environ` (default `os.environ`) over a `.env` file; ConfigError if invalid."""
    values: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        raw = values.get(name)
        return raw.strip() if raw is not None and raw.strip() else None

    kwargs: dict[str, object] = {}
    if url := get("DATABASE_URL"):
        kwargs["database_url"] = normalise_database_url(url)
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "OPENAI_API_KEY",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
        "SLACK_STATE_SECRET",
    ):
        kwargs[name.lower()] = get(name)
    if public := get("ADOPTBOT_PUBLIC_URL"):
        if not public.startswith(("http://", "https://")):
            raise ConfigError("ADOPTBOT_PUBLIC_URL must be an http(s) URL like https://adoptbot.example.com.")
        kwargs["public_url"] = public.rstrip("/")
    if session_secret := get("ADOPTBOT_SESSION_SECRET"):
        if len(session_secret) < 32:
            raise ConfigError("ADOPTBOT_SESSION_SECRET must be at least 32 characters.")
        kwargs["session_secret"] = session_secret
    if (token := get("SLACK_BOT_TOKEN")) and not token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'.")
    if (token := get("SLACK_APP_TOKEN")) and not token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'.")
    if api := get("SLACK_API_URL"):
        if not api.startswith(("http://", "https://")):
            raise ConfigError("SLACK_API_URL must be an http(s) URL.")
        kwargs["slack_api_url"] = api if api.endswith("/") else api + "/"
    if content := get("CONTENT_DIR"):
        path = Path(content).expanduser()
        if not path.is_dir():
            raise ConfigError(f"CONTENT_DIR {content!r} is not a folder.")
        kwargs["content_dir"] = path
    kwargs["openai_base_url"] = get("OPENAI_BASE_URL")
    if model := get("OPENAI_MODEL"):
        kwargs["openai_model"] = model
    if tz := get("ADOPTBOT_TIMEZONE"):
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"ADOPTBOT_TIMEZONE {tz!r} is not an IANA time zone like 'Europe/Berlin'."
            ) from None
        kwargs["timezone"] = tz
    if k := get("ADOPTBOT_MIN_GROUP_SIZE"):
        kwargs["min_group_size"] = _int("ADOPTBOT_MIN_GROUP_SIZE", k, 3, 10)
    for name, attr in (
        ("ADOPTBOT_WINS_CHANNEL", "wins_channel"),
        ("ADOPTBOT_DIGEST_CHANNEL", "digest_channel"),
    ):
        if channel := get(name):
            if not _CHANNEL_ID.match(channel):
                raise ConfigError(f"{name} must be a Slack channel ID like C0123456789, not {channel!r}.")
            kwargs[attr] = channel
    if admins := get("ADOPTBOT_ADMINS"):
        ids = {a for a in re.split(r"[,\s]+", admins) if a}
        bad = sorted(a for a in ids if not _USER_ID.match(a))
        if bad:
            raise ConfigError(
                f"ADOPTBOT_ADMINS must list Slack user IDs like U0123456789; {bad[0]!r} is not one."
            )
        kwargs["admins"] = frozenset(ids)
    if command := get("ADOPTBOT_COMMAND"):
        if not re.fullmatch(r"/[a-z0-9_-]{1,31}", command):
            raise ConfigError(f"ADOPTBOT_COMMAND must look like '/adopt', not {command!r}.")
        kwargs["command"] = command
    if port := get("PORT"):
        kwargs["port"] = _int("PORT", port, 1, 65535)
    if rate := get("ADOPTBOT_SEND_RATE"):
        kwargs["send_rate"] = _float("ADOPTBOT_SEND_RATE", rate, 0.1, 1000)
    if attempts := get("ADOPTBOT_SEND_MAX_ATTEMPTS"):
        kwargs["send_max_attempts"] = _int("ADOPTBOT_SEND_MAX_ATTEMPTS", attempts, 1, 50)
    if days := get("ADOPTBOT_NUDGE_DAYS"):
        kwargs["nudge_days"] = _weekdays("ADOPTBOT_NUDGE_DAYS", days)
    if hour := get("ADOPTBOT_NUDGE_HOUR"):
        kwargs["nudge_hour"] = _int("ADOPTBOT_NUDGE_HOUR", hour, 0, 23)
    if per_week := get("ADOPTBOT_NUDGES_PER_WEEK"):
        kwargs["nudges_per_week"] = _int("ADOPTBOT_NUDGES_PER_WEEK", per_week, 0, 7)
    if reminders := get("ADOPTBOT_PULSE_REMINDER_DAYS"):
        kwargs["pulse_reminder_days"] = _ints("ADOPTBOT_PULSE_REMINDER_DAYS", reminders, 1, 30)
    if close := get("ADOPTBOT_PULSE_CLOSE_DAYS"):
        kwargs["pulse_close_days"] = _int("ADOPTBOT_PULSE_CLOSE_DAYS", close, 1, 30)
    if day := get("ADOPTBOT_DIGEST_DAY"):
        kwargs["digest_day"] = _weekdays("ADOPTBOT_DIGEST_DAY", day)[0]
    if hour := get("ADOPTBOT_DIGEST_HOUR"):
        kwargs["digest_hour"] = _int("ADOPTBOT_DIGEST_HOUR", hour, 0, 23)
    kwargs["secret"] = get("ADOPTBOT_SECRET")
    if targeting := get("ADOPTBOT_USAGE_TARGETING"):
        if targeting.lower() not in ("on", "off"):
            raise ConfigError(f"ADOPTBOT_USAGE_TARGETING must be 'on' or 'off', not {targeting!r}.")
        kwargs["usage_targeting"] = targeting.lower() == "on"
    if scim := get("ADOPTBOT_SCIM_TOKEN"):
        if len(scim) < 24:
            raise ConfigError("ADOPTBOT_SCIM_TOKEN must be at least 24 characters (a long random string).")
        kwargs["scim_token"] = scim
    if source := get("ADOPTBOT_PEOPLE_SOURCE"):
        if source.lower() not in ("csv", "scim"):
            raise ConfigError(f"ADOPTBOT_PEOPLE_SOURCE must be 'csv' or 'scim', not {source!r}.")
        kwargs["people_source"] = source.lower()
        if source.lower() == "scim" and not scim:
            raise ConfigError(
                "ADOPTBOT_PEOPLE_SOURCE=scim needs ADOPTBOT_SCIM_TOKEN, "
                "the token your identity provider sends."
            )
    if role := get("ADOPTBOT_DEFAULT_ROLE"):
        kwargs["default_role"] = role.strip().lower()
    if locale := get("ADOPTBOT_LOCALE"):
        tag = normalise_locale(locale)
        if tag is None:
            raise ConfigError(f"ADOPTBOT_LOCALE must be a language tag like 'de' or 'pt-BR', not {locale!r}.")
        kwargs["locale"] = tag
    return Settings(**kwargs)  # type: ignore[arg-type]


def normalise_locale(raw: str) -> str | None:
    """A language tag such as `de`, `pt-BR` normalised (`pt_br` -> `pt-BR`), or None when `raw` is not one."""
    match = _LOCALE.match(raw.strip().replace("_", "-").lower())
    if match is None:
        return None
    language, region = match.groups()
    return f"{language}-{region.upper()}" if region else language


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, postgresql://) and use psycopg 3 for PostgreSQL."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if not url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ConfigError("DATABASE_URL must be a sqlite:/// or postgresql:// URL.")
    return url
