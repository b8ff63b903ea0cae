"""Expected faults. The CLI turns them into one sentence on stderr and an exit code, never a traceback."""

from __future__ import annotations

import traceback


class AdoptbotError(Exception):
    """Base class: `str(error)` is the one-line message a person reads."""

    exit_code = 1


class UsageError(AdoptbotError):
    """Bad usage or bad input (exit 2): a malformed CSV, an unknown team, a bad option value."""

    exit_code = 2


class Failure(AdoptbotError):
    """A runtime failure (exit 1): the database or Slack could not be reached, a send failed."""

    exit_code = 1


def error_classes(error: BaseException) -> str:
    """`IntegrityError (from CheckViolation)`: the exception and what it was raised from, classes only."""
    names = [type(error).__name__]
    seen = {id(error)}
    cause = error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        names.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    return names[0] + "".join(f" (from {name})" for name in names[1:])


def error_frames(error: BaseException) -> str:
    """The frames the exception passed through (file, line, function), without its message or values."""
    frames = traceback.extract_tb(error.__traceback__)
    return "\n".join(f"  {frame.filename}:{frame.lineno} in {frame.name}" for frame in frames)


def loggable(error: BaseException) -> str:
    """What a log may say about an unexpected exception: its classes and frames, never its message.

    A database error's message quotes the statement's parameters and the failing row (PostgreSQL:
    "Failing row contains ..."): a person's scores, comment or win text would reach the log.
    """
    return f"{error_classes(error)}\n{error_frames(error)}"
