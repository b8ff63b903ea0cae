"""The bot's own words in the reader's language: gettext from `.po` catalogs, and Babel's dates and numbers.

English is the source language (msgid = the English text). Each other language has
`bot/locales/<lang>/LC_MESSAGES/adoptbot.po` (`pt-BR` -> `pt_BR`), read with Babel at first use and
cached; fuzzy or empty entries fall back to English. The language is context-local: builders call
`_()` / `ngettext()` / `pgettext()` inside `with use_language(tag):`, set where a message is built for
one person (the recipient of a DM, the person who clicked for a modal).
"""

from __future__ import annotations

import functools
import gettext as _stdlib_gettext
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_skeleton
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

from bot.config import DEFAULT_LOCALE, SHIPPED_LOCALES, Settings, normalise_locale

DOMAIN = "adoptbot"
LOCALES_DIR = Path(__file__).parent / "locales"
_CONTEXT_SEP = "\x04"  # gettext's separator between a message context and its msgid

_current: ContextVar[str] = ContextVar("adoptbot_language", default=DEFAULT_LOCALE)


def _english_plural(n: int) -> int:
    return 0 if n == 1 else 1


@dataclass(frozen=True)
class Translations:
    """One language's catalog: msgid (or context + msgid) -> translation(s)."""

    messages: dict[str, str] = field(default_factory=dict)
    plurals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    plural: Callable[[int], int] = _english_plural


def catalog_path(tag: str) -> Path:
    """Where the `.po` file for language `tag` lives (`pt-BR` -> `locales/pt_BR/...`)."""
    return LOCALES_DIR / tag.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(tag: str) -> Translations:
    """The catalog for `tag` (else its language alone), or none (English) when there is no `.po` file."""
    for candidate in (tag, tag.split("-", 1)[0]):
        path = catalog_path(candidate)
        if path.is_file():
            return _load(path, candidate)
    return Translations()


def _load(path: Path, tag: str) -> Translations:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=tag.replace("-", "_"), domain=DOMAIN)
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        context = f"{message.context}{_CONTEXT_SEP}" if message.context else ""
        if isinstance(message.id, (tuple, list)):
            strings = message.string
            forms = tuple(str(s) for s in strings) if isinstance(strings, (tuple, list)) else ()
            if forms and all(forms):
                plurals[context + str(message.id[0])] = forms
        elif isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            messages[context + message.id] = message.string
    return Translations(messages, plurals, _stdlib_gettext.c2py(catalog.plural_expr))


@functools.cache
def preload() -> None:
    """Read every shipped catalog and its Babel locale data now, once per process.

    Both are read lazily and cached; without this, the first request in each language reads them on the
    way to its ack (a pickle load that a busy process with a large heap can stretch to seconds). The Slack
    app calls it when it is built.
    """
    for tag in SHIPPED_LOCALES:
        translations(tag)
        with use_language(tag):
            format_number(1.5)
            format_date(date(2000, 1, 3))


def current_language() -> str:
    return _current.get()


@contextmanager
def use_language(tag: str | None) -> Iterator[str]:
    """Within the block, `_()` and friends translate into `tag` (None or unknown: English)."""
    token = _current.set(tag or DEFAULT_LOCALE)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    """`message` (English) in the current language."""
    return translations(_current.get()).messages.get(message, message)


_ = gettext


def N_(message: str) -> str:
    """Mark `message` for extraction without translating it now: for module-level texts (subcommand
    summaries, labels in tables) that are translated with `_()` where they are shown."""
    return message


def pgettext(context: str, message: str) -> str:
    """`message` in the current language, where the same English means different things in `context`."""
    return translations(_current.get()).messages.get(f"{context}{_CONTEXT_SEP}{message}", message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of `singular` / `plural` for the count `n`, by the current language's plural rules."""
    found = translations(_current.get())
    forms = found.plurals.get(singular)
    if forms is None:
        return singular if n == 1 else plural
    index = found.plural(n)
    return forms[index] if 0 <= index < len(forms) else forms[-1]


def babel_locale(tag: str | None = None) -> Locale:
    """Babel's locale for `tag` (default: the current language); English for a tag Babel doesn't know."""
    try:
        return Locale.parse((tag or _current.get()).replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LOCALE)


def format_day(day: date) -> str:
    """A weekday and date without the year: "Thursday 5 March", "Donnerstag, 5. März", "jeudi 5 mars"."""
    if _current.get() == DEFAULT_LOCALE:
        return f"{day:%A} {day.day} {day:%B}"  # the form English readers already see
    locale = babel_locale()
    pattern = str(locale.datetime_skeletons.get("MMMMEd") or "EEEE d MMMM")
    return _babel_date(day, format=re.sub("E+", "EEEE", pattern), locale=locale)  # the weekday in full


def format_fixed(number: float, digits: int) -> str:
    """`number` with exactly `digits` decimals, in the current language's notation: 3.50 / 3,50."""
    if _current.get() == DEFAULT_LOCALE:
        return f"{number:.{digits}f}"
    pattern = "0." + "0" * digits if digits else "0"
    return format_decimal(number, format=pattern, locale=babel_locale())


def format_short_day(day: date) -> str:
    """A short weekday and date: "Tue 8 Dec", "Di., 8. Dez.", "mar. 8 déc."."""
    if _current.get() == DEFAULT_LOCALE:
        return f"{day:%a} {day.day} {day:%b}"  # the form English readers already see
    return format_skeleton("MMMEd", day, locale=babel_locale())


def format_moment(local: datetime, *, year: bool = True) -> str:
    """A local date and time: "Tue 3 Mar 2026, 09:00", "Di., 3. März 2026, 09:00",
    "2026年3月3日(火), 09:00"."""
    clock = f"{local:%H:%M}"
    if _current.get() == DEFAULT_LOCALE:
        return f"{local:%a} {local.day} {local:%b}" + (f" {local:%Y}" if year else "") + f", {clock}"
    day = format_skeleton("yMMMEd" if year else "MMMEd", local.date(), locale=babel_locale())
    return f"{day}, {clock}"


def format_month(day: date) -> str:
    """The month and year of `day`: "November 2026", "November 2026", "2026年11月", "novembre 2026"."""
    if _current.get() == DEFAULT_LOCALE:
        return f"{day:%B} {day.year}"
    return format_skeleton("yMMMM", day, locale=babel_locale())


def weekday_name(weekday: int, *, short: bool = False) -> str:
    """The name of a weekday (0 = Monday) in the current language: "Tuesday" / "Tue", "Dienstag" / "Di."."""
    width = "abbreviated" if short else "wide"
    return str(babel_locale().days["format"][width][weekday])


def format_date(day: date, format: str = "long") -> str:
    """`day` as the current language writes it (Babel's `short`, `medium`, `long`, `full` or a pattern)."""
    return _babel_date(day, format=format, locale=babel_locale())


def format_number(number: float | int) -> str:
    """`number` with the current language's separators (1,234.5 / 1.234,5)."""
    return format_decimal(number, locale=babel_locale())


__all__ = [
    "N_",
    "Translations",
    "_",
    "babel_locale",
    "catalog_path",
    "current_language",
    "format_date",
    "format_day",
    "format_fixed",
    "format_moment",
    "format_month",
    "format_number",
    "format_short_day",
    "gettext",
    "locale_of",
    "ngettext",
    "pgettext",
    "preload",
    "shipped",
    "translations",
    "use_language",
    "weekday_name",
]


def shipped(tag: str | None) -> str | None:
    """`tag` resolved to a shipped language (the tag, else its language alone), or None.

    A region is never swapped for another one: `pt-PT` is not `pt-BR`.
    """
    if not tag:
        return None
    normal = normalise_locale(tag)
    if normal is None:
        return None
    if normal in SHIPPED_LOCALES:
        return normal
    language = normal.split("-", 1)[0]
    return language if language in SHIPPED_LOCALES else None


def locale_of(roster: str | None, slack: str | None, settings: Settings) -> str:
    """The language to write to someone in: the roster's tag, else Slack's, else ADOPTBOT_LOCALE, else en."""
    return shipped(roster or slack) or shipped(settings.locale) or DEFAULT_LOCALE
