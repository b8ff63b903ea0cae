"""Expected faults. The CLI turns them into one sentence on stderr and an exit code, never a traceback."""

from __future__ import annotations


class AdoptbotError(Exception):
    """Base class: `str(error)` is the one-line message a person reads."""

    exit_code = 1


class UsageError(AdoptbotError):
    """Bad usage or bad input (exit 2): a malformed CSV, an unknown team, a bad option value."""

    exit_code = 2


class Failure(AdoptbotError):
    """A runtime failure (exit 1): the database or Slack could not be reached, a send failed."""

    exit_code = 1
