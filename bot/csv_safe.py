"""Cells that spreadsheets open as text, never as a formula (CSV injection).

Excel, LibreOffice and Google Sheets evaluate a cell that starts with `=`, `+`, `-` or `@` (and some
read a leading tab or carriage return the same way), so a team named `=HYPERLINK("http://evil", "Open")`
would become a live link in a leader's spreadsheet. Every CSV the product writes passes text through
`neutralise`, which puts a single quote in front of such a cell (OWASP's advice): spreadsheets show the
text as typed, without the quote. Numbers the product computes (a negative `readiness_change`) are not
text and stay numbers.

`restore` undoes it for the one CSV the product reads back (a roster exported with `roster list --format
csv` and imported again), so a round trip changes nothing.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def neutralise(text: str) -> str:
    """`text`, with a single quote in front when a spreadsheet would read it as a formula."""
    return QUOTE + text if text.startswith(FORMULA_STARTS) else text


def restore(text: str) -> str:
    """The text `neutralise` was given (a quote is removed only where `neutralise` adds one)."""
    if text.startswith(QUOTE) and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


def cell(value: object) -> object:
    """A CSV value as written: text neutralised, anything else (numbers) unchanged."""
    return neutralise(value) if isinstance(value, str) else value


class SafeWriter:
    """`csv.writer` whose text cells go through `neutralise`."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([cell(value) for value in row])


def writer(out: IO[str]) -> SafeWriter:
    return SafeWriter(out)
