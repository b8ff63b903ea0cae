"""`adoptbot forget`, the messages part: what the outbox stored to, about or naming the person.

- **To them** (a DM to their Slack ID, or a row carrying their person id, which chat.update rows inherit):
  a message not sent yet is cancelled (`skipped`, so no worker claims it); every one keeps its state and
  times but loses its payload, its recipient (channel `-`), where it landed in Slack (the DM channel and
  ts: a later edit of it is then skipped, never sent) and, when the key names their Slack ID
  (`welcome:U…`, `win-review:7:U…`), its key (`erased:<row id>`, edits following the rename).
- **About their wins** (the change managers' review DMs, the post in the wins channel): cleared and
  cancelled alike; those already in Slack get a chat.update queued that replaces the story with a short
  removal note, sent by the next `adoptbot tick` or the running `adoptbot serve`.
- **Naming them** in anyone else's message (a digest quoting their named win, a review card saying who
  approved, a broadcast letter signed with their mention): `<@U…>` becomes "a former colleague" in the
  stored copy, and in a message not sent yet before it goes. In the broadcasts they sent, their display
  name becomes "your change team", as a broadcast whose sender has no name is signed.
- The per-channel pacing rows for their user ID and DM channel are deleted.

A message a worker had already claimed (`sending`) may still reach Slack: it is marked cancelled all the
same, so its result is not recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import ColumnElement, Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from bot import outbox
from bot.models import ChannelPace, OutboxBody, OutboxMessage
from bot.outbox import OutboxState, with_blocks
from bot.outbox.store import POST
from bot.slack.blocks import section
from bot.slack.text import escape

ERASED_CHANNEL: Final = "-"
ERASED_PAYLOAD: Final = {"text": "(erased)"}
CANCELLED: Final = "cancelled: the person's data was erased (adoptbot forget)"
FORMER_COLLEAGUE: Final = "a former colleague"
CHANGE_TEAM: Final = "your change team"  # how a broadcast without a sender's name is signed
REMOVED: Final = "_This win was removed: its author asked for their data to be erased._"
BROADCAST_PREFIXES: Final = (
    "broadcast",
    "broadcast-remind",
    "broadcast-channel",
    "broadcast-ack",
    "broadcast-ack-remind",
    "broadcast-preview",
    "broadcast-status",
)
_CHUNK = 500


@dataclass
class MessageCounts:
    cleared: int = 0  # stored messages to them or about their wins, payload and recipient cleared
    cancelled: int = 0  # ... of which not sent yet: cancelled
    slack_edits: int = 0  # posts already in Slack queued to be replaced by a removal note
    handled: set[int] = field(default_factory=set)  # cleared: nothing left to redact
    redacted_ids: set[int] = field(default_factory=set)

    @property
    def redacted(self) -> int:
        """Messages to others that named them."""
        return len(self.redacted_ids)


def scrub_messages(
    session: Session,
    *,
    person_id: int | None,
    slack_id: str | None,
    name: str,
    win_ids: Iterable[int],
    broadcast_ids: Iterable[int],
) -> MessageCounts:
    """Clear, cancel and redact what the outbox holds of one person (see the module docstring)."""
    counts = MessageCounts()
    to_them: list[ColumnElement[bool]] = []
    if slack_id:
        to_them.append(OutboxMessage.channel == slack_id)
    if person_id is not None:
        to_them.append(OutboxMessage.person_id == person_id)
    dm_channels = _clear_to_them(session, or_(*to_them), slack_id, counts) if to_them else set()
    _clear_win_messages(session, list(win_ids), counts)
    if slack_id:
        _redact_mentions(session, slack_id, counts)
    if name.strip():
        _redact_sender_name(session, name.strip(), list(broadcast_ids), counts)
    paces = {slack_id, *dm_channels} - {None, ""}
    if paces:
        session.execute(delete(ChannelPace).where(ChannelPace.channel.in_(sorted(paces))))
    return counts


def _clear_to_them(
    session: Session, where: ColumnElement[bool], slack_id: str | None, counts: MessageCounts
) -> set[str]:
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.key,
            OutboxMessage.update_of,
            OutboxMessage.state,
            OutboxMessage.slack_channel,
        ).where(where)
    ).all()
    if not rows:
        return set()
    _clear(session, [row.id for row in rows], counts, recipient=True)
    names_them = re.compile(rf"(?<![A-Za-z0-9]){re.escape(slack_id)}(?![A-Za-z0-9])") if slack_id else None
    renamed = {row.key: f"erased:{row.id}" for row in rows if names_them and names_them.search(row.key)}
    renames = []
    for row in rows:
        key = renamed.get(row.key, row.key)
        update_of = renamed.get(row.update_of, row.update_of) if row.update_of else None
        if key != row.key or update_of != row.update_of:
            renames.append({"id": row.id, "key": key, "update_of": update_of})
    if renames:
        session.execute(update(OutboxMessage), renames, execution_options={"synchronize_session": False})
    return {row.slack_channel for row in rows if row.slack_channel}


def _clear(session: Session, ids: list[int], counts: MessageCounts, *, recipient: bool) -> None:
    """Payload gone (with `recipient`: the recipient and where it landed too); not sent yet: cancelled."""
    values: dict[str, Any] = {"payload": dict(ERASED_PAYLOAD)}
    if recipient:
        values |= {"channel": ERASED_CHANNEL, "slack_channel": None, "slack_ts": None}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        cancelled = session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(chunk),
                OutboxMessage.state.in_((OutboxState.PENDING, OutboxState.SENDING)),
            )
            .values(state=OutboxState.SKIPPED, error=CANCELLED, claimed_by=None, claimed_at=None),
            execution_options={"synchronize_session": False},
        )
        counts.cancelled += _rowcount(cancelled)
        session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(chunk)).values(**values),
            execution_options={"synchronize_session": False},
        )
    counts.cleared += len(ids)
    counts.handled.update(ids)


def _clear_win_messages(session: Session, win_ids: list[int], counts: MessageCounts) -> None:
    """The review DMs and the channel post of their wins: cleared and cancelled; those in Slack are edited."""
    if not win_ids:
        return
    about: list[ColumnElement[bool]] = []
    for win_id in win_ids:
        about += [
            OutboxMessage.key.like(f"win-review:{win_id}:%"),
            OutboxMessage.key == f"win-share:{win_id}",
            OutboxMessage.key.like(f"win-share:{win_id}:%"),
        ]
    rows = [
        row
        for row in session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.key,
                OutboxMessage.method,
                OutboxMessage.state,
                OutboxMessage.update_of,
                OutboxMessage.slack_ts,
            ).where(or_(*about))
        )
        if row.id not in counts.handled
    ]
    if not rows:
        return
    _clear(session, [row.id for row in rows], counts, recipient=False)
    for row in rows:
        if row.method == POST and row.update_of is None and row.state == OutboxState.SENT and row.slack_ts:
            queued = outbox.enqueue_update(
                session,
                key=f"{row.key}:erased",
                update_of=row.key,
                text="This win was removed: its author asked for their data to be erased.",
                blocks=[section(REMOVED)],
                kind="win_erased",
            )
            counts.slack_edits += int(queued)


def _redact_mentions(session: Session, slack_id: str, counts: MessageCounts) -> None:
    """`<@U…>` in anyone else's message -> "a former colleague"; the bare ID (e.g. a value) -> "(erased)"."""
    subs = [
        (re.compile(rf"<@{re.escape(slack_id)}(?:\|[^>]*)?>"), FORMER_COLLEAGUE),
        (re.compile(rf"(?<![A-Za-z0-9]){re.escape(slack_id)}(?![A-Za-z0-9])"), "(erased)"),
    ]
    naming = [cast(OutboxMessage.payload, Text).contains(slack_id, autoescape=True)]
    shared = select(OutboxBody.digest).where(OutboxBody.blocks.contains(slack_id, autoescape=True))
    for digest in session.scalars(shared):  # a shared body that mentions them: every message built from it
        naming.append(cast(OutboxMessage.payload, Text).contains(digest, autoescape=True))
    found = session.execute(select(OutboxMessage.id, OutboxMessage.payload).where(or_(*naming))).all()
    _rewrite(session, [(row.id, row.payload) for row in found], subs, counts)


def _redact_sender_name(session: Session, name: str, broadcast_ids: list[int], counts: MessageCounts) -> None:
    """Their display name in the letters, reminders and edits of the broadcasts they sent."""
    if not broadcast_ids:
        return
    forms = sorted({name, escape(name)}, key=len, reverse=True)
    subs = [(re.compile("|".join(re.escape(f) for f in forms)), CHANGE_TEAM)]
    for start in range(0, len(broadcast_ids), 20):
        keys: list[ColumnElement[bool]] = []
        for broadcast_id in broadcast_ids[start : start + 20]:
            for prefix in BROADCAST_PREFIXES:
                keys += [
                    OutboxMessage.key == f"{prefix}:{broadcast_id}",
                    OutboxMessage.key.like(f"{prefix}:{broadcast_id}:%"),
                ]
        found = session.execute(select(OutboxMessage.id, OutboxMessage.payload).where(or_(*keys))).all()
        _rewrite(session, [(row.id, row.payload) for row in found], subs, counts)


def _rewrite(
    session: Session,
    rows: list[tuple[int, Any]],
    subs: list[tuple[re.Pattern[str], str]],
    counts: MessageCounts,
) -> None:
    """Store each payload redacted, with its blocks in the row itself when they came from a shared body
    (a body that named them is deleted once no message uses it)."""
    changed = []
    digests: set[str] = set()
    for row_id, payload in rows:
        if row_id in counts.handled:
            continue
        full = with_blocks(session, payload) if isinstance(payload.get("body"), str) else payload
        redacted = _redact(full, subs)
        if redacted != full:
            changed.append({"id": row_id, "payload": redacted})
            if full is not payload:
                digests.add(str(payload["body"]))
    for start in range(0, len(changed), _CHUNK):
        session.execute(
            update(OutboxMessage),
            changed[start : start + _CHUNK],
            execution_options={"synchronize_session": False},
        )
    counts.redacted_ids.update(change["id"] for change in changed)
    for digest in sorted(digests):
        used = select(OutboxMessage.id).where(
            cast(OutboxMessage.payload, Text).contains(digest, autoescape=True)
        )
        if session.execute(used.limit(1)).first() is None:
            session.execute(delete(OutboxBody).where(OutboxBody.digest == digest))


def _redact(value: Any, subs: list[tuple[re.Pattern[str], str]]) -> Any:
    """`value` (a payload, walked recursively) with every pattern replaced; uploaded file bytes untouched."""
    if isinstance(value, str):
        for pattern, replacement in subs:
            value = pattern.sub(replacement, value)
        return value
    if isinstance(value, list):
        return [_redact(item, subs) for item in value]
    if isinstance(value, dict):
        return {k: v if k == "file" else _redact(v, subs) for k, v in value.items()}
    return value


def _rowcount(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
