"""Reading the CSV files people bring (a roster, an AI tool's usage report) as spreadsheets and admin
consoles save them: UTF-8 with or without a BOM, or UTF-16 with one; `,` or `;` separated; quoted cells.
Every fault is a one-line UsageError that names the file and the line."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from bot.errors import UsageError


def decode(data: bytes, source: str) -> str:
    """The file's text; UsageError naming the first line that is not UTF-8 (or UTF-16) text."""
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise UsageError(
            f"{source}: line {line} is not UTF-8 text; save the file as 'CSV UTF-8' and try again."
        ) from None


def reader(text: str) -> Any:
    """A `csv.reader` over `text`: `,` unless the header line uses `;` only (what Excel writes in many
    European locales)."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if ";" in first and "," not in first else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def records(rows: Any, source: str) -> Iterator[tuple[int, list[str]]]:
    """The reader's records that hold a value, each with the line it starts on (a quoted cell may span
    lines); UsageError naming the line that is not valid CSV."""
    previous_end = rows.line_num
    while True:
        try:
            record = next(rows)
        except StopIteration:
            return
        except csv.Error as error:
            raise UsageError(f"{source}: line {rows.line_num} is not valid CSV ({error}).") from None
        line, previous_end = previous_end + 1, rows.line_num
        if "".join(record).strip():  # some cell holds more than spaces
            yield line, record
