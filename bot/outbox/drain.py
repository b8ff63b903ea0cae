"""`drain()`: claim -> send at the reserved moment -> record, until nothing is due.

One claim transaction hands out up to a second's worth of send slots; a few sender threads each sleep until
their message's slot, call Slack once, and commit the result at once (one transaction per message).
"""

from __future__ import annotations

import copy
import http.client
import itertools
import logging
import os
import random
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from math import ceil

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import Engine

from bot.clock import utcnow
from bot.config import Settings
from bot.db import session_scope
from bot.errors import loggable
from bot.outbox import claim as outbox_claim
from bot.outbox import record as outbox_record
from bot.outbox.admin import by_count, short_reason
from bot.outbox.send import (
    Failed,
    Halt,
    Outcome,
    Retry,
    Sent,
    Skipped,
    deliver,
    epoch,
    find_posted,
    from_epoch,
    real_now,
)
from bot.outbox.store import CHANNEL_INTERVAL, LEASE, NEW_MESSAGES, Claimed

log = logging.getLogger("bot.outbox")

HORIZON = 1.0  # seconds of send slots one claim may reserve ahead
RETRY_BASE = 2.0  # first back-off (1-2 s) after a 5xx or a connection error, doubled per attempt, with jitter
RETRY_CAP = 300.0
LAST_LOOK_DELAY = 1.0
# A message for a Grid workspace whose installation is gone (others remain) is looked at again this late.
UNINSTALLED_WAIT = timedelta(minutes=5)
# A message waits this long when Slack could not say which installed workspace its channel (or its
# recipient, not seen yet) is in.
CHANNEL_HOME_WAIT = timedelta(seconds=30)
OWN_RETRY_WAIT = 120.0  # without a deadline, drain() waits this long at most for retries it scheduled
SLACK_LATENCY = 0.4  # seconds a post may take without slowing the drain below the rate
_POLL = 0.25


@dataclass
class DrainReport:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0  # 5xx, connection errors: rescheduled with back-off
    rate_limited: int = 0  # 429s: rescheduled after Retry-After
    halted: str | None = None  # Slack refused the token or a scope: draining stopped, nothing lost
    released: int = 0  # claims given back unsent (stop, lease nearly over, Slack's pause): pending again
    reasons: Counter[str] = field(default_factory=Counter)  # why messages failed: short reason -> count
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def count_failure(self, error: str) -> None:
        with self._lock:
            self.failed += 1
            self.reasons[short_reason(error)] += 1

    def failure_summary(self) -> str:
        """`3 messages failed (user_not_found: 2, gave up after 6 attempts: 1)`."""
        with self._lock:
            why = ", ".join(f"{reason}: {n}" for reason, n in by_count(self.reasons))
            failed = self.failed
        return f"{failed} message{'s' if failed != 1 else ''} failed" + (f" ({why})" if why else "")


# --- who holds a claim ---------------------------------------------------------------------------------

_PROCESS_TOKEN = secrets.token_hex(3)
_drains = itertools.count(1)
# (workspace, channel) -> when this process last called Slack for that channel (time.time())
_recent: dict[tuple[str, str], float] = {}
_recent_lock = threading.Lock()


def _pid_namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return "-"


def worker_id() -> str:
    """`host:pid-namespace:pid:token`, unique per drain; lets a restarted process spot a dead one's claims."""
    return f"{socket.gethostname()[:24]}:{_pid_namespace()}:{os.getpid()}:{_PROCESS_TOKEN}{next(_drains)}"


def dead_workers(holders: list[str]) -> list[str]:
    """Holders that were processes on this machine (same host and PID namespace) and are gone."""
    host, namespace = socket.gethostname()[:24], _pid_namespace()
    dead = []
    for holder in holders:
        parts = holder.split(":")
        if len(parts) != 4 or parts[0] != host or parts[1] != namespace or namespace == "-":
            continue
        try:
            pid = int(parts[2])
        except ValueError:
            continue
        if pid == os.getpid():
            if not parts[3].startswith(_PROCESS_TOKEN):
                dead.append(holder)  # an earlier process that had our PID
        elif not _alive(pid):
            dead.append(holder)
    return dead


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead
    except (OSError, IndexError):
        return True


def _without_retries(client: WebClient) -> WebClient:
    """The same client minus slack_sdk's own retries: a silent retry of a 5xx after Slack had posted is the
    classic duplicate; the outbox retries itself, after looking in the history."""
    bare = copy.copy(client)
    bare.retry_handlers = []
    return bare


# --- the drain -----------------------------------------------------------------------------------------


def drain(
    engine: Engine,
    client: WebClient,
    settings: Settings,
    *,
    deadline: float | None = None,
    stop: threading.Event | None = None,
    due_by: datetime | None = None,
    keys: Collection[str] | None = None,
) -> DrainReport:
    """Send everything due, paced; return when nothing is due (or at `deadline`, a time.time(), or `stop`).

    Retries it scheduled itself (5xx, 429, channel pacing) are waited for when due before `deadline`
    (without one: within OWN_RETRY_WAIT seconds). On `stop`, messages whose call to Slack has begun are
    finished and recorded; the others go back to `pending`.

    `due_by` (naive UTC): also send what is due by then, when it is later than now (`adoptbot tick --now`);
    see `due_moment`. `keys`: send only the messages with these keys (what a command queued), none of the
    rest.
    """
    drainer = _Drainer(engine, client, settings, stop or threading.Event(), due_by=due_by, keys=keys)
    return drainer.run(deadline)


def due_moment(due_by: datetime | None = None) -> datetime:
    """The moment by which a message is due: `due_by`, the product's clock, or the real time, the latest.

    The product's clock (`bot.clock`) decides what is due, and `adoptbot tick --now` may move it ahead.
    The real time is a floor: what the outbox put back itself (a channel's next free second, Slack's
    Retry-After, a back-off) is timed in real seconds, and must come due even while the product's clock
    is set to an earlier moment.
    """
    return max(moment for moment in (due_by, utcnow(), real_now()) if moment is not None)


class _Drainer:
    def __init__(
        self,
        engine: Engine,
        client: WebClient,
        settings: Settings,
        stop: threading.Event,
        *,
        due_by: datetime | None = None,
        keys: Collection[str] | None = None,
    ) -> None:
        self.engine = engine
        self.due_by = due_by
        self.keys = frozenset(keys) if keys is not None else None
        self.client = _without_retries(client)
        self.rate = settings.send_rate
        self.channel_interval = timedelta(seconds=settings.channel_interval)
        self.max_attempts = settings.send_max_attempts
        self.stop = stop
        self.worker = worker_id()
        self.batch = max(1, min(200, ceil(self.rate * HORIZON)))
        self.min_batch = max(1, ceil(self.rate * HORIZON / 4))
        # Enough threads for Slack answering within SLACK_LATENCY while every slot is used.
        self.senders = max(2, min(32, ceil(self.rate * SLACK_LATENCY)))
        self.report = DrainReport()
        self.abort = threading.Event()  # senders: do not start another call to Slack
        self.paused_until = 0.0  # time.time() until which Slack told us to wait (429)
        self.own_due: list[datetime] = []  # when messages this drain put back are due again
        self.lock = threading.Lock()
        self.lease_budget = LEASE.total_seconds() - float(getattr(client, "timeout", 30) or 30) - 5.0

    def run(self, deadline: float | None) -> DrainReport:
        if self.keys is not None and not self.keys:
            return self.report
        with session_scope(self.engine) as session:
            released = outbox_record.release_stale(
                session, real_now(), dead_workers=dead_workers(outbox_record.claim_holders(session))
            )
        if released:
            log.info("outbox: %d stale claims released for a re-check", released)
        started = time.time()
        inflight: set[Future[None]] = set()
        pool = ThreadPoolExecutor(self.senders, thread_name_prefix="adoptbot-send")
        try:
            while not (self.stop.is_set() or self.abort.is_set()):
                if deadline is not None and time.time() >= deadline:
                    break
                inflight = {f for f in inflight if not f.done()}
                if (
                    len(inflight) >= self.batch + self.senders
                ):  # the senders are behind: claim no further ahead
                    wait(inflight, timeout=_POLL, return_when=FIRST_COMPLETED)
                    continue
                claimed_at = real_now()
                due_by = due_moment(self.due_by)
                with session_scope(self.engine) as session:
                    result = outbox_claim.claim(
                        session,
                        worker=self.worker,
                        now=claimed_at,
                        rate=self.rate,
                        horizon=HORIZON,
                        min_batch=self.min_batch,
                        max_batch=self.batch,
                        due_by=due_by,
                        keys=self.keys,
                        channel_interval=self.channel_interval,
                    )
                if result.skipped:
                    self.report.count("skipped", result.skipped)
                for moment in result.deferred:
                    self._due_again(moment)
                if result.messages:
                    inflight.update(pool.submit(self._send, message) for message in result.messages)
                elif result.skipped:
                    continue  # skipping may have unblocked others (a superseded update): claim again
                elif result.wait_until is not None:
                    self._sleep_until(epoch(result.wait_until), deadline)
                elif inflight:
                    wait(inflight, timeout=_POLL, return_when=FIRST_COMPLETED)
                else:
                    limit = deadline if deadline is not None else started + OWN_RETRY_WAIT
                    again = self._next_own_due(seen=claimed_at)
                    if again is None or again > limit:
                        break
                    self._sleep_until(again, deadline)
        finally:
            if self.stop.is_set():
                self.abort.set()
            wait(inflight)
            pool.shutdown(wait=True)
        return self.report

    def _sleep_until(self, moment: float, deadline: float | None) -> None:
        end = min(moment, deadline) if deadline is not None else moment
        while not self.stop.is_set() and time.time() < end:
            self.stop.wait(min(_POLL, end - time.time()))

    def _due_again(self, moment: datetime) -> None:
        with self.lock:
            self.own_due.append(moment)

    def _next_own_due(self, *, seen: datetime) -> float | None:
        """The earliest of our put-back messages that the claim made at `seen` could not take yet."""
        with self.lock:
            self.own_due = [m for m in self.own_due if m > seen]
            return epoch(min(self.own_due)) if self.own_due else None

    # --- one message, on a sender thread ---------------------------------------------------------------

    def _send(self, message: Claimed) -> None:
        try:
            self._send_one(message)
        except Exception as error:
            # Not recorded: the claim stays until its lease runs out; the next attempt looks in Slack first.
            log.error(
                "outbox: %s could not be recorded; it is re-checked after the lease: %s",
                message.key,
                loggable(error),
            )

    def _send_one(self, message: Claimed) -> None:
        while not self.abort.is_set() and not self.stop.is_set() and time.time() < epoch(message.slot):
            self.abort.wait(min(_POLL, epoch(message.slot) - time.time()))
        if self.abort.is_set() or self.stop.is_set():
            self._release(message)
            return
        if self.paused_until > time.time():
            self._release(message, not_before=from_epoch(self.paused_until))
            return
        if time.time() - epoch(message.claimed_at) > self.lease_budget:
            self._release(message)  # too late to finish inside the lease: someone else could take it over
            return
        if message.workspace is None and hasattr(self.client, "for_channel"):
            client = self.client.for_channel(message.channel)
            if client is None:  # Slack could not say which workspace reaches it: it waits a little
                self._release(message, not_before=real_now() + CHANNEL_HOME_WAIT)
                return
        else:
            client = self._client_for(message.workspace)
        if client is None:  # its workspace is not (or no longer) installed, others are: it waits
            log.warning(
                "outbox: %s waits: Slack workspace %s is not installed", message.key, message.workspace
            )
            self._release(message, not_before=real_now() + UNINSTALLED_WAIT)
            return
        if not self._channel_turn(client, message.channel):
            self._release(message)
            return
        post_by = epoch(message.claimed_at) + self.lease_budget
        outcome = deliver(client, message, verify=message.attempts > 1, post_by=post_by)
        if isinstance(outcome, Retry) and outcome.counted and message.attempts >= self.max_attempts:
            outcome = self._last_look(client, message, outcome)
        self._record(message, outcome)

    def _client_for(self, workspace: str | None) -> WebClient | None:
        """The client with the token that reaches `workspace` (an installed app on Enterprise Grid has one
        per workspace, or one for the whole organisation); None when that workspace has no installation
        while others have. A single bot token is used for everyone."""
        pick = getattr(self.client, "for_workspace", None)
        if pick is None or workspace is None:
            return self.client
        client = pick(workspace)
        if not client.has_token() and client.installed_anywhere():
            return None
        return client  # type: ignore[no-any-return]

    def _channel_turn(self, client: WebClient, channel: str) -> bool:
        """Wait until `channel_interval` (a second) has passed since this process last called Slack for
        `channel`.

        Slots are that far apart per channel already; a sender that woke late must not leave the next one
        closer than that. False if told to stop meanwhile."""
        place = (f"{client.base_url}|{getattr(client, 'workspace', None)}|{client.token}", channel)
        while True:
            with _recent_lock:
                wait_s = _recent.get(place, 0.0) + self.channel_interval.total_seconds() - time.time()
                if wait_s <= 0:
                    if len(_recent) > 10_000:
                        cutoff = time.time() - 2 * CHANNEL_INTERVAL.total_seconds()
                        for stale in [c for c, at in _recent.items() if at < cutoff]:
                            del _recent[stale]
                    _recent[place] = time.time()
                    return True
            if self.abort.wait(wait_s) or self.stop.is_set():
                return False

    def _last_look(self, client: WebClient, message: Claimed, retry: Retry) -> Outcome:
        """Out of attempts after an error that may hide a success: one look in Slack before giving up."""
        if message.method in NEW_MESSAGES:
            self.abort.wait(LAST_LOOK_DELAY)  # let a post Slack is still finishing land first
            try:
                channel, ts = find_posted(client, message)
            except (SlackApiError, SlackRequestError, OSError, http.client.HTTPException):
                ts = None
            if ts is not None:
                return Sent(channel, ts, found_in_history=True)
        return Failed(f"gave up after {message.attempts} attempts: {retry.error}")

    def _record(self, message: Claimed, outcome: Outcome) -> None:
        now = real_now()  # back-off and pauses run in real seconds; `sent_at` is the product's time
        with session_scope(self.engine) as session:
            if isinstance(outcome, Sent):
                if outbox_record.record_sent(
                    session, message, self.worker, channel=outcome.channel, ts=outcome.ts, now=utcnow()
                ):
                    self.report.count("sent")
            elif isinstance(outcome, Retry) and outcome.rate_limited:
                wait_s = outcome.retry_after or 1.0
                until = now + timedelta(seconds=wait_s)
                with self.lock:
                    self.paused_until = max(self.paused_until, time.time() + wait_s)
                outbox_record.record_retry(
                    session,
                    message,
                    self.worker,
                    not_before=until,
                    error=outcome.error,
                    counted=False,
                    slack_channel=outcome.slack_channel,
                    pause_all_until=until,
                )
                self.report.count("rate_limited")
                self._due_again(until)
            elif isinstance(outcome, Retry):
                back_off = min(RETRY_CAP, RETRY_BASE * 2 ** (message.attempts - 1)) * random.uniform(0.5, 1.0)
                until = now + timedelta(seconds=back_off if outcome.counted else 0)
                outbox_record.record_retry(
                    session,
                    message,
                    self.worker,
                    not_before=until,
                    error=outcome.error,
                    counted=outcome.counted,
                    slack_channel=outcome.slack_channel,
                )
                self.report.count("retried" if outcome.counted else "released")
                self._due_again(until)
            elif isinstance(outcome, Failed):
                skipped = outbox_record.record_failed(
                    session, message, self.worker, error=outcome.error, unreachable=outcome.unreachable
                )
                self.report.count_failure(outcome.error)
                self.report.count("skipped", skipped)
                log.warning("outbox: %s failed: %s", message.key, outcome.error)
            elif isinstance(outcome, Skipped):
                outbox_record.record_skipped(session, message, self.worker, reason=outcome.reason)
                self.report.count("skipped")
            elif isinstance(outcome, Halt):
                outbox_record.release(session, [message], self.worker)
                with self.lock:
                    self.report.halted = self.report.halted or outcome.error
                self.abort.set()
                log.error("outbox: Slack refused the request (%s); sending stopped", outcome.error)

    def _release(self, message: Claimed, *, not_before: datetime | None = None) -> None:
        with session_scope(self.engine) as session:
            outbox_record.release(session, [message], self.worker, not_before=not_before)
        self.report.count("released")
        if not_before is not None:
            self._due_again(not_before)
