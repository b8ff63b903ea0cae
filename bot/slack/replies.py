"""Sending what a request queued as soon as Slack has its answer, from the instance that handled it.

A click often queues messages for people waiting on them: the broadcast preview for its author, a
moderation DM, an approved win in the wins channel. The scheduler's outbox worker would find them on its
next poll, but an instance run with `--no-scheduler` (web instances next to `adoptbot tick` from cron) has
none, and they would wait up to a minute for the next tick. So every listener scope that queued messages
hands their keys here when it commits; a thread of this sender waits until the request has been answered
(the ack never waits for Slack's Web API), then drains just those keys through the outbox's normal claim.
Another instance or a tick claiming the same messages at the same moment cannot send them twice, and a
message this sender could not send (Slack down, the process stopping) stays queued for the next drain.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.config import Settings
from bot.outbox.drain import drain
from bot.slack.client import make_web_client

log = logging.getLogger("bot.outbox")

ANSWER_WAIT_SECONDS = 5.0  # Bolt answers within 3 s; after that, send anyway
SEND_BUDGET_SECONDS = 30.0  # a click queues a few messages; what is not out by then waits for the next drain
THREADS = 4
# A click that fans out (a broadcast's Send) queues thousands: the first few hundred go at once, the rest with
# the outbox worker or the next tick, so one request never holds a web thread for a whole broadcast.
MAX_KEYS = 200


class ReplySender:
    """Drains the keys a request queued, after the request's answer, on a small pool of its own."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self._pool = ThreadPoolExecutor(THREADS, thread_name_prefix="adoptbot-replies")
        self._closed = False
        self._lock = threading.Lock()

    @cached_property
    def client(self) -> WebClient:
        return make_web_client(self.settings, retry_rate_limits=False)

    def send_after(self, keys: Collection[str], answered: threading.Event | None) -> None:
        """Send the messages queued as `keys` (the first MAX_KEYS) once `answered` is set (at once without
        it)."""
        if not keys:
            return
        with self._lock:
            if self._closed:
                return  # stopping: the outbox worker or the next tick sends them
            self._pool.submit(self._send, frozenset(list(keys)[:MAX_KEYS]), answered)

    def _send(self, keys: frozenset[str], answered: threading.Event | None) -> None:
        if answered is not None:
            answered.wait(ANSWER_WAIT_SECONDS)
        try:
            report = drain(
                self.engine,
                self.client,
                self.settings,
                keys=keys,
                deadline=time.time() + SEND_BUDGET_SECONDS,
            )
        except Exception as error:  # the messages stay queued; the next drain sends them
            name = type(error).__name__
            log.warning("outbox: sending a request's %d messages failed (%s)", len(keys), name)
            return
        if report.failed or report.halted:
            log.warning("outbox: a request's messages: %s", report)

    def shutdown(self, *, wait: bool = True) -> None:
        """Take no more; with `wait`, finish what was handed over (graceful shutdown)."""
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait)
