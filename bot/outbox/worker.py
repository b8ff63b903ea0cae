"""`OutboxWorker`: the background thread of `adoptbot serve` that keeps the outbox drained."""

from __future__ import annotations

import logging
import threading
import weakref

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.config import Settings
from bot.errors import loggable
from bot.outbox.drain import drain

log = logging.getLogger("bot.outbox")

_wakers: weakref.WeakSet[threading.Event] = weakref.WeakSet()
_wakers_lock = threading.Lock()


def wake() -> None:
    """Tell this process's workers there is something new to send (call after the commit)."""
    with _wakers_lock:
        events = list(_wakers)
    for event in events:
        event.set()


class OutboxWorker:
    """Drains when woken (`wake()`) and every `poll_seconds` (for what other instances queued or deferred)."""

    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        settings: Settings,
        *,
        poll_seconds: float = 1.5,
        error_pause: float = 30.0,
    ) -> None:
        self.engine = engine
        self.client = client
        self.settings = settings
        self.poll_seconds = poll_seconds
        self.error_pause = error_pause
        self._stop = threading.Event()
        self._woken = threading.Event()
        self._thread: threading.Thread | None = None
        with _wakers_lock:
            _wakers.add(self._woken)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="adoptbot-outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._woken.set()

    def stop(self, timeout: float = 10.0) -> bool:
        """Finish the messages being sent, give the other claims back, end the thread; True if it ended."""
        self._stop.set()
        self._woken.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.running

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = drain(self.engine, self.client, self.settings, stop=self._stop)
            except Exception as error:
                log.error(
                    "outbox: draining failed; trying again in %.0f s: %s", self.error_pause, loggable(error)
                )
                self._stop.wait(self.error_pause)
                continue
            if report.sent or report.failed or report.rate_limited:
                log.info("outbox: %s", report)
            if report.halted:
                log.error("outbox: Slack refused %s; paused for %.0f s", report.halted, self.error_pause)
                self._stop.wait(self.error_pause)
            self._woken.wait(self.poll_seconds)
            self._woken.clear()
