"""Which language a person's messages should be in: a tag from the roster, else Slack's, else the setting.

Tags are BCP 47-like: a 2-3 letter language and an optional 2-letter region (`de`, `pt-BR`); `pt_br` and
`EN-us` are normalised to `pt-BR` and `en-US`. A person's locale is the first set of the roster's
`locale`, Slack's locale (`roster sync`) and `ADOPTBOT_LOCALE`, resolved to a language Adoptbot ships
(`SHIPPED`): the tag itself when shipped, else its language alone when shipped (`de-DE` -> `de`), else
`ADOPTBOT_LOCALE` resolved the same way, else `en`. A region is never swapped for another one: `pt-PT` is
not `pt-BR`, so it falls back to the setting.
"""

from __future__ import annotations

from bot.config import SHIPPED_LOCALES, Settings, normalise_locale
from bot.i18n import locale_of, shipped
from bot.models import Person

SHIPPED = SHIPPED_LOCALES


def parse_locale(raw: str) -> str | None:
    """The normalised tag for `raw`, or None when it is not a language tag."""
    return normalise_locale(raw)


def person_locale(person: Person, settings: Settings) -> str:
    """The language to write to `person` in: roster, else Slack, else ADOPTBOT_LOCALE (see the module)."""
    return locale_of(person.locale, person.slack_locale, settings)


__all__ = ["SHIPPED", "locale_of", "parse_locale", "person_locale", "shipped"]
