"""Which language a person's messages should be in: a tag from the roster, else Slack's, else the setting.

Tags are BCP 47-like: a 2-3 letter language and an optional 2-letter region (`de`, `pt-BR`); `pt_br` and
`EN-us` are normalised to `pt-BR` and `en-US`. A person's locale is the first set of the roster's
`locale`, Slack's locale (`roster sync`) and `ADOPTBOT_LOCALE`, resolved to a language Adoptbot ships
(`SHIPPED`): the tag itself when shipped, else its language alone when shipped (`de-DE` -> `de`), else
`ADOPTBOT_LOCALE` resolved the same way, else `en`. A region is never swapped for another one: `pt-PT` is
not `pt-BR`, so it falls back to the setting.
"""

from __future__ import annotations

from bot.config import DEFAULT_LOCALE, SHIPPED_LOCALES, Settings, normalise_locale
from bot.models import Person

SHIPPED = SHIPPED_LOCALES


def parse_locale(raw: str) -> str | None:
    """The normalised tag for `raw`, or None when it is not a language tag."""
    return normalise_locale(raw)


def shipped(tag: str | None) -> str | None:
    """`tag` resolved to a shipped language (the tag, else its language), or None."""
    if not tag:
        return None
    normal = normalise_locale(tag)
    if normal is None:
        return None
    if normal in SHIPPED:
        return normal
    language = normal.split("-", 1)[0]
    return language if language in SHIPPED else None


def person_locale(person: Person, settings: Settings) -> str:
    """The language to write to `person` in: roster, else Slack, else ADOPTBOT_LOCALE (see the module)."""
    return locale_of(person.locale, person.slack_locale, settings)


def locale_of(roster: str | None, slack: str | None, settings: Settings) -> str:
    """`person_locale` from a person's two locale columns (for queries that read columns, not people)."""
    return shipped(roster or slack) or shipped(settings.locale) or DEFAULT_LOCALE


__all__ = ["SHIPPED", "locale_of", "parse_locale", "person_locale", "shipped"]
