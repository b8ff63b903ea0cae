"""The garbage collector around bulk work.

A nudge tick, the weekly digests or a week's metrics build hundreds of thousands of small objects (the
people due and their histories, rows, Block Kit) that hold no reference cycles and live until the work
ends. CPython's cyclic collector runs every few hundred new objects and, as they pile up, walks them all
again and again: at 100,000 people that was a tenth to a sixth of the work's time. Reference counting
frees all of them as usual; only the search for cycles waits.

`bulk_work()` pauses that search for its duration. Nested and concurrent uses (the scheduler's jobs, a
dashboard request) share one pause, and the collector is back as it was when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0  # bulk_work() blocks running now, in any thread
_was_enabled = False  # whether the collector ran when the first of them began


@contextmanager
def bulk_work() -> Iterator[None]:
    """Pause the cyclic garbage collector while the block runs (see the module's docstring)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()
