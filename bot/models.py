"""The data, in one place: SQLAlchemy 2 typed models.

Conventions: timestamps are naive UTC (`bot.db.utcnow()`); content entries (roles, nudges, surveys) are
referred to by their content-library ids, so a change manager can edit the library without a migration.
Pulse answers are deliberately not linked to people (see PulseResponse).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    func,
    literal,
    select,
)
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.clock import utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


E = TypeVar("E", bound=StrEnum)


class StrEnumText(TypeDecorator[E], Generic[E]):
    """A StrEnum stored as its value in a plain VARCHAR(length): the schema is that of `String(length)`
    (no CHECK constraint, no native enum type), and rows read back as members of the enum."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the identity provider deleted the group (SCIM): kept for past figures, no longer offered.
    retired_at: Mapped[datetime | None] = mapped_column(DateTime)

    members: Mapped[list[Person]] = relationship(back_populates="team")


class TeamSource(StrEnum):
    """Who put a person in their team. Survey invitations go only to people whose team an administrator
    decided, so nobody can join a small team to work out a colleague's answer from its figures."""

    ROSTER = "roster"  # `adoptbot roster import` (and every row written before self-service could be told)
    CHANGE_MANAGER = "change_manager"  # a change manager picked their own team in Slack
    SELF = "self"  # the person picked it in the role modal: the roster gave them none


class Deactivation(StrEnum):
    """Who deactivated a person. Only the roster brings such a person back, never their own clicks."""

    ROSTER = "roster"  # `roster import --prune` left them out
    SLACK = "slack"  # Slack says the account was deactivated or deleted


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (
        Index("ix_people_active_team", "is_active", "team_id"),
        Index("ix_people_scim_user_name", "scim_user_name", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    # The Slack workspace (T...) the person was last seen in: on Enterprise Grid, installed workspace by
    # workspace, their messages go with that workspace's token.
    slack_workspace_id: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)  # stored lower-case
    # SCIM provisioning: the identity provider's own id for the person, and the userName it sent.
    external_id: Mapped[str | None] = mapped_column(String(255), index=True)
    scim_user_name: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(64))  # a role id from the content library
    timezone: Mapped[str | None] = mapped_column(String(64))  # from the roster: wins over Slack's
    slack_timezone: Mapped[str | None] = mapped_column(String(64), index=True)
    # The roster's AI tools for this person (tool ids from tools.toml, `;`-separated): the tracks their
    # tool nudges follow while no usage report measures them.
    tools: Mapped[str | None] = mapped_column(String(500))
    locale: Mapped[str | None] = mapped_column(String(16))  # from the roster (`pt-BR`): wins over Slack's
    slack_locale: Mapped[str | None] = mapped_column(String(16))  # from Slack (`roster sync`)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A TeamSource; says who set `team_id` (meaningless while it is None).
    team_source: Mapped[str] = mapped_column(String(16), default=TeamSource.ROSTER, server_default="roster")
    # A Deactivation, or None for someone never deactivated (a newcomer is inactive until set up).
    deactivated_by: Mapped[str | None] = mapped_column(String(16))
    is_change_manager: Mapped[bool] = mapped_column(Boolean, default=False)
    leads_all: Mapped[bool] = mapped_column(Boolean, default=False)  # `leads = *`
    unreachable_reason: Mapped[str | None] = mapped_column(String(64))  # set when Slack refuses DMs
    paused_until: Mapped[date | None] = mapped_column(Date)
    away_until: Mapped[datetime | None] = mapped_column(DateTime)  # Slack status says away
    away_text: Mapped[str | None] = mapped_column(String(200))
    nudge_level: Mapped[int] = mapped_column(Integer, default=1)
    started_on: Mapped[date | None] = mapped_column(Date)  # first week nudges may start
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)  # `adoptbot forget`

    team: Mapped[Team | None] = relationship(back_populates="members")
    led_teams: Mapped[list[Team]] = relationship(secondary="team_leads")

    @hybrid_method
    def effective_timezone(self, default: str) -> str:
        """The roster's time zone, else Slack's, else `default`; in a query, the same as SQL."""
        return self.timezone or self.slack_timezone or default

    @effective_timezone.expression
    @classmethod
    def _effective_timezone_sql(cls, default: str) -> ColumnElement[str]:
        return func.coalesce(cls.timezone, cls.slack_timezone, literal(default))


class TeamLead(Base):
    """Which teams a person receives digests for (besides `Person.leads_all`)."""

    __tablename__ = "team_leads"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)


class AppState(Base):
    """Small key/value facts the installation keeps (e.g. a generated secret)."""

    __tablename__ = "app_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ProcessedEvent(Base):
    """Slack event ids already handled, so Slack's retries cause no second side effect."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class OutboxState(StrEnum):
    """Where a queued message is: pending -> sending -> sent | failed | skipped."""

    PENDING = "pending"  # waiting for its time (or for a retry)
    SENDING = "sending"  # claimed by a worker, which is posting it
    SENT = "sent"  # Slack accepted it
    FAILED = "failed"  # a permanent error, or out of attempts
    SKIPPED = "skipped"  # recipient unreachable, original not sent, superseded, or its person erased


class OutboxMessage(Base):
    """Every message Adoptbot sends: queued here, then claimed, paced and sent exactly once.

    `key` names the logical message (e.g. `nudge:42:2026-11-24`), unique, so enqueueing twice is a no-op.
    States: pending -> sending -> sent | failed | skipped.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_due", "state", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # nudge, pulse_invite, pulse_reminder, digest, ...
    method: Mapped[str] = mapped_column(String(40), default="chat.postMessage")  # or chat.update, files
    channel: Mapped[str] = mapped_column(String(32), index=True)  # user ID (DM) or channel ID
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # text, blocks, metadata, ...
    update_of: Mapped[str | None] = mapped_column(String(200), index=True)  # key of the message it edits
    state: Mapped[OutboxState] = mapped_column(StrEnumText(OutboxState, 16), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    error: Mapped[str | None] = mapped_column(String(300))
    slack_channel: Mapped[str | None] = mapped_column(String(32))  # where it landed (DM channel ID)
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class OutboxBody(Base):
    """Blocks shared by many queued messages, stored once (a nudge tick queues thousands of the same).

    A message queued by `enqueue_many` holds `{"body": digest, "fill": {...}}` in its payload instead of
    its blocks; the outbox puts them back together when it claims the message. `digest` is the SHA-256
    of `blocks` (JSON text), so a body never changes and is never stored twice.
    """

    __tablename__ = "outbox_bodies"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    blocks: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ChannelPace(Base):
    """The earliest time the next message may go to a channel (Slack: about one a second per channel).

    The row named `*` paces the whole installation, shared by every instance.
    """

    __tablename__ = "channel_pace"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(DateTime)


class JobRun(Base):
    """A scheduled job's slot that has been done, so N instances ticking at once do it once."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[str] = mapped_column(String(64), primary_key=True)
    done_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Activity(Base):
    """Something a person did: a nudge button, a win, an acknowledgement (`engaged` counts some kinds only).

    The team is captured when it happens, so metrics for past weeks stay true after people move.
    A pulse answer is not recorded here: a row per answer would say to the second when each person
    answered (rows of kind "pulse" from older versions are ignored by the metrics).
    """

    __tablename__ = "activity"
    __table_args__ = (Index("ix_activity_at_team", "occurred_at", "team_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class NudgeStatus(StrEnum):
    """What a person did with a nudge given to them."""

    SENT = "sent"  # nothing yet
    TRIED = "tried"
    NOT_FOR_ME = "not_for_me"
    LATER = "later"  # given again at their next slot


class NudgeDelivery(Base):
    """One nudge given to one person, and what they did with it: never the same nudge twice in a cycle
    (the first time, then at most once as a refresher)."""

    __tablename__ = "nudge_deliveries"
    __table_args__ = (
        # Also everything choosing someone's next nudge reads of their history, from the index alone: their
        # rows are scattered over a year of pages (one tick writes everyone's), the key keeps them together.
        # (PostgreSQL carries status and slot along; SQLite has no INCLUDE and small histories.)
        UniqueConstraint("person_id", "nudge_id", "cycle", postgresql_include=["status", "slot"]),
        UniqueConstraint("slot", "person_id"),  # one nudge per person and slot; indexes the weekly count
        Index("ix_nudge_deliveries_sent_team", "sent_at", "team_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    nudge_id: Mapped[str] = mapped_column(String(80))
    # 0: the nudge itself; 1: a refresher of it, once the person has had every nudge (see bot.nudges).
    cycle: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    role: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[int] = mapped_column(Integer, default=1)
    stage: Mapped[str | None] = mapped_column(String(16))
    slot: Mapped[str] = mapped_column(String(32))  # local date of the slot, e.g. 2026-11-24
    outbox_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)  # when Slack accepted it
    status: Mapped[NudgeStatus] = mapped_column(StrEnumText(NudgeStatus, 16), default=NudgeStatus.SENT)
    rating: Mapped[str | None] = mapped_column(String(16))  # helpful, not_helpful
    clicked_at: Mapped[datetime | None] = mapped_column(DateTime)
    tried_at: Mapped[datetime | None] = mapped_column(DateTime)


class PulseRun(Base):
    __tablename__ = "pulse_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    closes_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    opened_by: Mapped[str | None] = mapped_column(String(32))  # Slack user ID, or "schedule"/"cli"

    def is_open(self, now: datetime) -> bool:
        """Whether the run still takes answers at `now` (not closed, and before its closing time)."""
        return self.closed_at is None and now < self.closes_at


class PulseTally(Base):
    """A settled run's survey tallies: per team, respondents and the sums and counts of its answers, as
    `bot.metrics.sql.survey_tallies` adds them up (JSON). Written once the run has been closed a day
    (`bot.metrics.tallies`): answers are refused after the close, and forgetting someone keeps their
    answers' values, so these never change; every later week's metrics and digests read them instead of
    the run's half-million answers."""

    __tablename__ = "pulse_tallies"

    run_id: Mapped[int] = mapped_column(ForeignKey("pulse_runs.id", ondelete="CASCADE"), primary_key=True)
    tallies: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PulseInvitation(Base):
    """That a person was invited and *that* they answered; never what they answered.

    `answered_at` is set by the daily batch (bot.pulses.confirm) once the day of answering is
    over, to that day (`bot.pulses.service.answer_day`): never the moment, nor the order of answering.
    """

    __tablename__ = "pulse_invitations"
    __table_args__ = (
        UniqueConstraint("run_id", "person_id"),
        Index("ix_pulse_inv_run_team", "run_id", "team_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("pulse_runs.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    invited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)


def random_key() -> str:
    """A random primary key (32 hex characters): it tells nothing about when, or in which order, its row
    was written, unlike a counter."""
    return uuid.uuid4().hex


class PulseResponse(Base):
    """One person's answers to one run, keyed by an HMAC of (run, person): unlinkable without the secret.

    Its key is random and SQLite stores it WITHOUT ROWID (no hidden counter either), so no ordering of
    the answer sheets follows the order people answered in.
    """

    __tablename__ = "pulse_responses"
    __table_args__ = (
        UniqueConstraint("run_id", "respondent"),
        Index("ix_pulse_resp_run_team", "run_id", "team_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_key)
    run_id: Mapped[int] = mapped_column(ForeignKey("pulse_runs.id", ondelete="CASCADE"))
    respondent: Mapped[str] = mapped_column(String(64))  # hex HMAC-SHA256
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    # The day its run opened, for every sheet of the run: a day per sheet, matched with the invitations'
    # `answered_at`, would single out a team's only answerer of that day.
    submitted_at: Mapped[datetime] = mapped_column(DateTime)

    answers: Mapped[list[PulseAnswer]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


class PulseAnswer(Base):
    """One answer of a sheet; random key, WITHOUT ROWID on SQLite, like its PulseResponse."""

    __tablename__ = "pulse_answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"), {"sqlite_with_rowid": False})

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=random_key)
    response_id: Mapped[str] = mapped_column(String(32), ForeignKey("pulse_responses.id", ondelete="CASCADE"))
    # The response's run and team, repeated: a run's answers are read by this index without the other
    # runs' and tallied per team without a join. Always the response's (filled on insert below when not
    # given; a response's run and team never change); they link nothing more to anyone.
    run_id: Mapped[int | None] = mapped_column(Integer, index=True)
    team_id: Mapped[int | None] = mapped_column(Integer)
    question_id: Mapped[str] = mapped_column(String(80))
    stage: Mapped[str | None] = mapped_column(String(16))  # ADKAR element a scale question measures
    metric: Mapped[str | None] = mapped_column(String(16))  # "usage" on the usage question
    value: Mapped[int | None] = mapped_column(Integer)  # 1..5 for scale; option index for choice
    text: Mapped[str | None] = mapped_column(Text)  # optional comment

    response: Mapped[PulseResponse] = relationship(back_populates="answers")


@event.listens_for(PulseAnswer, "before_insert")
def _answer_in_its_run(_mapper: Any, connection: Connection, answer: PulseAnswer) -> None:
    """An answer added through the ORM gets its response's run and team (bulk inserts give them)."""
    if answer.run_id is None:
        response = answer.__dict__.get("response")
        if response is not None:
            answer.run_id, answer.team_id = response.run_id, response.team_id
        else:
            query = select(PulseResponse.run_id, PulseResponse.team_id).where(
                PulseResponse.id == answer.response_id
            )
            answer.run_id, answer.team_id = connection.execute(query).one()


class WinStatus(StrEnum):
    """A win's review: pending until a change manager approves or rejects it."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Win(Base):
    __tablename__ = "wins"
    __table_args__ = (Index("ix_wins_status_submitted", "status", "submitted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    what: Mapped[str] = mapped_column(Text)
    tool: Mapped[str | None] = mapped_column(String(120))
    hours_per_week: Mapped[float] = mapped_column(Float, default=0.0)
    share: Mapped[str] = mapped_column(String(16), default="named")  # named, anonymous, private
    polished: Mapped[str | None] = mapped_column(Text)  # AI two-sentence version, if the author picked it
    polish_offer: Mapped[str | None] = mapped_column(Text)  # the AI version offered to the author
    source_link: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[WinStatus] = mapped_column(StrEnumText(WinStatus, 16), default=WinStatus.PENDING)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    reviewer_user_id: Mapped[str | None] = mapped_column(String(32))  # Slack ID of who decided (admins too)
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    shared_at: Mapped[datetime | None] = mapped_column(DateTime)


class BroadcastStatus(StrEnum):
    """draft -> scheduled -> sending -> sent; a draft or a scheduled broadcast may be cancelled."""

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[dict[str, Any]] = mapped_column(
        JSON
    )  # {"everyone": bool, "teams": [...], "roles": [...]}
    channel: Mapped[str | None] = mapped_column(String(32))
    ask_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    ack_reminder_days: Mapped[int | None] = mapped_column(Integer)
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    status: Mapped[BroadcastStatus] = mapped_column(
        StrEnumText(BroadcastStatus, 16), default=BroadcastStatus.DRAFT
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    sender_user: Mapped[str | None] = mapped_column(String(32))  # Slack user ID (admins may have no Person)
    timezone: Mapped[str | None] = mapped_column(String(64))  # the sender's, for "when" in the composer
    recipient_count: Mapped[int | None] = mapped_column(Integer)  # resolved at send time
    excluded_count: Mapped[int | None] = mapped_column(Integer)  # in the audience, inactive or unreachable
    sent_count: Mapped[int] = mapped_column(Integer, default=0)  # counted by the outbox's on_sent hook
    revision: Mapped[int] = mapped_column(Integer, default=0)  # edits of the preview DM
    status_at: Mapped[datetime | None] = mapped_column(DateTime)  # the status DM's last update
    status_line: Mapped[str | None] = mapped_column(String(300))  # ... and what it said
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)


class BroadcastRecipient(Base):
    __tablename__ = "broadcast_recipients"
    __table_args__ = (UniqueConstraint("broadcast_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    outbox_key: Mapped[str] = mapped_column(String(200))
    acked_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)


class AiCall(Base):
    """Audit log of every OpenAI call: purpose, model, tokens, latency, outcome. Never the prompt."""

    __tablename__ = "ai_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(80))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(40))  # ok, timeout, error: ...
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AuditAction(StrEnum):
    """What a change manager (or the command line) did that the Audit page lists beside wins decided,
    broadcasts sent and AI calls, which their own tables already record."""

    ROSTER_IMPORT = "roster_import"  # a roster file applied (dashboard upload or `adoptbot roster import`)
    ERASURE = "erasure"  # `adoptbot forget` erased a person


class AuditEvent(Base):
    """Who did what, when, in one sentence that names no one else (an erased actor becomes "(erased)")."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # a Slack user ID, or "command line"
    action: Mapped[AuditAction] = mapped_column(StrEnumText(AuditAction, 32))
    detail: Mapped[str] = mapped_column(String(300))


class AiCache(Base):
    __tablename__ = "ai_cache"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class UsageFact(Base):
    """One person, one AI tool, one ISO week (its Monday): did a vendor's usage report show a licence, and
    activity? Imported by `adoptbot usage import`; nothing finer (no counts, no days) is kept."""

    __tablename__ = "usage_facts"
    __table_args__ = (UniqueConstraint("person_id", "tool", "week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    tool: Mapped[str] = mapped_column(String(64))  # a tool id from the content library (tools.toml)
    week: Mapped[date] = mapped_column(Date)  # the Monday of the ISO week
    licensed: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=False)


# Slack's OAuth install (`bot.slack.install`): the tables slack_sdk's SQLAlchemy installation and state stores
# read and write, declared here with the very columns and indexes slack_sdk gives them so that Alembic
# creates and checks them like every other table (a test compares them with slack_sdk's own). Declared by
# hand rather than built by slack_sdk at import, which would load its OAuth package in every command.
def _installation_columns(*, bot_only: bool) -> list[Any]:
    columns: list[Any] = [
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("client_id", String(32), nullable=False),
        Column("app_id", String(32), nullable=False),
        Column("enterprise_id", String(32)),
        Column("enterprise_name", String(200)),
    ]
    if not bot_only:
        columns.append(Column("enterprise_url", String(200)))
    columns += [
        Column("team_id", String(32)),
        Column("team_name", String(200)),
        Column("bot_token", String(200)),
        Column("bot_id", String(32)),
        Column("bot_user_id", String(32)),
        Column("bot_scopes", String(1000)),
        Column("bot_refresh_token", String(200)),
        Column("bot_token_expires_at", DateTime),
    ]
    if not bot_only:
        columns += [
            Column("user_id", String(32), nullable=False),
            Column("user_token", String(200)),
            Column("user_scopes", String(1000)),
            Column("user_refresh_token", String(200)),
            Column("user_token_expires_at", DateTime),
            Column("incoming_webhook_url", String(200)),
            Column("incoming_webhook_channel", String(200)),
            Column("incoming_webhook_channel_id", String(200)),
            Column("incoming_webhook_configuration_url", String(200)),
        ]
    columns += [
        Column("is_enterprise_install", Boolean, default=False, nullable=False),
    ]
    if not bot_only:
        columns.append(Column("token_type", String(32)))
    columns.append(Column("installed_at", DateTime, nullable=False, default=func.now()))
    return columns


SLACK_INSTALLATIONS = Table(
    "slack_installations",
    Base.metadata,
    *_installation_columns(bot_only=False),
    Index("slack_installations_idx", "client_id", "enterprise_id", "team_id", "user_id", "installed_at"),
)
SLACK_BOTS = Table(
    "slack_bots",
    Base.metadata,
    *_installation_columns(bot_only=True),
    Index("slack_bots_idx", "client_id", "enterprise_id", "team_id", "installed_at"),
)
SLACK_OAUTH_STATES = Table(
    "slack_oauth_states",
    Base.metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("state", String(200), nullable=False),
    Column("expire_at", DateTime, nullable=False),
)
