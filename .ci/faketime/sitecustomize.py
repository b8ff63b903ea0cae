"""Loaded by every Python process of CI's shifted-clock run (PYTHONPATH is set for that run alone).

Debian's libfaketime 0.9.10 cannot fake time for Python 3.11 in either of its monotonic modes:
- with the monotonic clock faked, every lock or Event wait with a timeout hangs (CPython waits with
  `sem_clockwait(CLOCK_MONOTONIC, deadline)`, which libfaketime does not intercept, so the kernel gets a
  deadline shifted by years);
- with FAKETIME_DONT_FAKE_MONOTONIC=1 (what CI uses), those waits are right, but `time.sleep()` fails with
  EINVAL: CPython sleeps with `clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...)` and libfaketime shifts
  that absolute deadline as if it were wall-clock time, making it negative.
So here `time.sleep` sleeps on `select()` with a relative timeout, which libfaketime leaves alone. Only the
sleeping changes; every clock a program reads is still libfaketime's.
"""

import os
import select
import time

if os.environ.get("FAKETIME"):

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        select.select([], [], [], seconds)

    time.sleep = _sleep
