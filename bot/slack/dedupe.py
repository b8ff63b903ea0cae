"""Global middleware: an Events API delivery seen before is acked without running any listener.

Each Events API `event_id` is recorded (table processed_events, insert-ignore) before any listener runs,
whether or not Slack marked the delivery with `X-Slack-Retry-Num`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.clock import utcnow
from bot.db import insert_ignore
from bot.models import ProcessedEvent
from bot.slack.runtime import Runtime

log = logging.getLogger(__name__)


class SkipDuplicateEvents(Middleware):
    """Global middleware: an Events API delivery whose `event_id` was seen before is acked, not processed.

    The event ID is recorded (insert-ignore, its own short transaction) before any listener runs; the
    database decides, so two instances receiving the same redelivery at once process it once. Listeners
    are idempotent too (outbox keys such as `welcome:<user>`), so an event whose listener failed after being
    recorded loses nothing that a retry would have fixed twice. Old IDs are deleted by the scheduled
    housekeeping job (bot.jobs).

    A `Middleware` subclass rather than a function: Bolt calls it directly for every request, without
    building the keyword arguments a function middleware is given.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], Any]
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            next()
            return None  # like Bolt's own middleware: a listener's ack, not this response, answers Slack
        with self.runtime.unit_of_work() as session:
            fresh = insert_ignore(
                session,
                ProcessedEvent,
                [{"event_id": event_id[:64], "received_at": utcnow()}],
                conflict=["event_id"],
            )
        if not fresh:
            log.info("event %s was delivered before; acknowledged without processing it again", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None


def skip_duplicate_events(runtime: Runtime) -> SkipDuplicateEvents:
    """The global middleware that acks a redelivered event without processing it again."""
    return SkipDuplicateEvents(runtime)
