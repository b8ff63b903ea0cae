"""Early wins: capture, moderation, sharing, the optional AI polish, counting and the monthly recognition.

Slack-free (no slack_bolt): functions take a session and return results; every message goes through the
outbox with a key naming it, so nothing is sent twice:

- `win-review:<win>:<user>`  the DM each change manager gets (updated in place once decided);
- `win-submitted:<win>`      the author's confirmation (updated with the AI offer and their choice);
- `win-approved:<win>` / `win-rejected:<win>`  the author is told the outcome;
- `win-share:<win>`          the post in ADOPTBOT_WINS_CHANNEL, for approved named/anonymous wins only;
- `win-recognition:<YYYY-MM>` the monthly congratulation to the teams with the most approved wins.

A decision is one conditional UPDATE (`... WHERE status = 'pending'`): of two change managers clicking at
once, on either database, exactly one decides; the other is told who did. Anonymous wins carry no author
into any public surface (channel post, digests, other people's Home) and no author ID into logs; the change
managers reviewing a win do see its author (the modal says so).
"""

from __future__ import annotations

import html
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from bot import ai
from bot.clock import to_naive_utc, utcnow
from bot.config import Settings
from bot.content import Library
from bot.db import session_scope
from bot.jobs import JobContext, register_job
from bot.models import Activity, OutboxMessage, Person, Team, Win
from bot.slack.blocks import wins as blocks
from bot.slack.blocks.wins import (
    HOURS_MAX,
    REASON_MAX,
    TOOL_MAX,
    WHAT_MAX,
    MyWins,
    TeamWins,
    WinCard,
    WinSnippet,
)

log = logging.getLogger(__name__)

SHARES: Final = ("named", "anonymous", "private")
PUBLIC_SHARES: Final = ("named", "anonymous")
AI_PURPOSE: Final = "win_polish"
AI_MAX_WORDS: Final = 60
AI_TIMEOUT: Final = 8.0
RECOGNITION_TEAMS: Final = 3
RECOGNITION_DAYS: Final = 7  # posted from the first working day of the month, at most this many days late
_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


class InvalidWin(ValueError):
    """What is wrong with a submitted win, per field ("what", "tool", "hours", "team", "share", "reason")."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class WinInput:
    what: str
    tool: str | None
    hours: float
    team_id: int | None
    share: str
    source_link: str | None = None


@dataclass(frozen=True)
class Moderator:
    user_id: str
    person_id: int | None


@dataclass(frozen=True)
class Decision:
    card: WinCard  # the win as it stands now
    decided_now: bool  # False: it had been decided before (card says by whom)


# --- keys ----------------------------------------------------------------------------------------------


def review_key(win_id: int, user_id: str) -> str:
    return f"win-review:{win_id}:{user_id}"


def submitted_key(win_id: int) -> str:
    return f"win-submitted:{win_id}"


def share_key(win_id: int) -> str:
    return f"win-share:{win_id}"


def recognition_key(month: date) -> str:
    return f"win-recognition:{month:%Y-%m}"


# --- reading input -------------------------------------------------------------------------------------


def parse_hours(raw: str | None) -> float | None:
    """Hours saved a week from what was typed ("1.5", "1,5", "2"), or None unless a number 0..40."""
    text = (raw or "").strip().replace(",", ".")
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or not 0 <= value <= HOURS_MAX:
        return None
    return round(value, 2)


def validate(session: Session, raw: blocks.RawWin, *, source_link: str | None = None) -> WinInput:
    """A checked `WinInput`, or InvalidWin with one message per faulty field (nothing is stored)."""
    errors: dict[str, str] = {}
    what = (raw.what or "").strip()
    if not what:
        errors["what"] = "Tell us what you did with AI, in a sentence or two."
    elif len(what) > WHAT_MAX:
        errors["what"] = f"Please keep it under {WHAT_MAX:,} characters."
    tool = (raw.tool or "").strip() or None
    if tool is not None and len(tool) > TOOL_MAX:
        errors["tool"] = f"Please keep the tool's name under {TOOL_MAX} characters."
    hours = parse_hours(raw.hours)
    if hours is None:
        errors["hours"] = f"Enter the hours saved per week as a number from 0 to {HOURS_MAX}, e.g. 1.5."
    team_id = _team_id(session, raw.team)
    if team_id is None and raw.team is not None:
        errors["team"] = "That team no longer exists: pick another one."
    elif team_id is None and session.scalar(select(Team.id).limit(1)) is not None:
        errors["team"] = "Pick the team this win counts for."
    share = raw.share or ""
    if share not in SHARES:
        errors["share"] = "Choose how to share it."
    if errors:
        raise InvalidWin(errors)
    assert hours is not None
    return WinInput(what, tool, hours, team_id, share, blocks.safe_link(source_link))


def _team_id(session: Session, raw: str | None) -> int | None:
    if raw is None or not raw.isdigit():
        return None
    return session.scalar(select(Team.id).where(Team.id == int(raw)))


def readable_message_text(text: str) -> str:
    """A Slack message's text as a person would type it: `<url|label>` -> "label (url)", mentions as
    "@…", entities decoded. Used to prefill the modal from a message shortcut (escaped again on repost)."""

    def plainer(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("!"):  # <!here>, <!channel>, <!subteam^S1|@team>, <!date^...|label>
            name = target[1:].split("^", 1)[0]
            return label or f"@{name}"
        if target[:1] in ("@", "#"):
            return f"{target[0]}{label.lstrip('@#')}" if label else target
        return f"{label} ({target})" if label and label != target else target

    return html.unescape(_SLACK_LINK.sub(plainer, text or "")).strip()[:WHAT_MAX]


def permalink_from(domain: str | None, channel: str | None, ts: str | None) -> str | None:
    """A message's permalink built from a shortcut payload (when chat.getPermalink is unavailable)."""
    if not domain or not channel or not ts or not re.fullmatch(r"\d+\.\d+", ts):
        return None
    return blocks.safe_link(f"https://{domain}.slack.com/archives/{channel}/p{ts.replace('.', '')}")


# --- cards -------------------------------------------------------------------------------------------------


def card_of(session: Session, win: Win, *, with_author: bool = True, edited: bool = False) -> WinCard:
    """The win for a builder; `with_author=False` leaves the author out (public surfaces, anonymous)."""
    team = session.get(Team, win.team_id) if win.team_id is not None else None
    author_id = None
    if with_author and win.author_id is not None:
        author = session.get(Person, win.author_id)
        author_id = author.slack_user_id if author is not None and author.erased_at is None else None
    return WinCard(
        id=win.id,
        team_id=win.team_id,
        what=win.what,
        tool=win.tool,
        hours=win.hours_per_week,
        team_name=team.name if team is not None else None,
        share=win.share,
        status=win.status,
        polished=win.polished,
        author_user_id=author_id,
        source_link=win.source_link,
        reviewer_user_id=win.reviewer_user_id,
        reject_reason=win.reject_reason,
        edited=edited,
    )


def _public_card(session: Session, win: Win) -> WinCard:
    return card_of(session, win, with_author=win.share == "named")


# --- capture -----------------------------------------------------------------------------------------------


def moderators(session: Session, settings: Settings) -> list[Moderator]:
    """Everyone who reviews wins: active change managers with a Slack ID, and ADOPTBOT_ADMINS."""
    query = select(Person.slack_user_id, Person.id).where(
        Person.is_change_manager.is_(True),
        Person.is_active.is_(True),
        Person.erased_at.is_(None),
        Person.slack_user_id.is_not(None),
    )
    found: dict[str, int | None] = {str(uid): pid for uid, pid in session.execute(query)}
    if settings.admins:
        admins = select(Person.slack_user_id, Person.id).where(
            Person.slack_user_id.in_(sorted(settings.admins))
        )
        known = {str(uid): pid for uid, pid in session.execute(admins)}
        for user_id in settings.admins:
            found.setdefault(user_id, known.get(user_id))
    return [Moderator(uid, found[uid]) for uid in sorted(found)]


def submit(
    session: Session, *, author: Person, data: WinInput, settings: Settings, now: datetime | None = None
) -> Win:
    """Store a new win (pending), count it as activity, and queue the change managers' DMs and the
    author's confirmation. Nothing is public before a change manager approves it."""
    from bot.slack import outbox

    now = now or utcnow()
    win = Win(
        author_id=author.id,
        team_id=data.team_id,
        what=data.what,
        tool=data.tool,
        hours_per_week=data.hours,
        share=data.share,
        source_link=data.source_link,
        status="pending",
        submitted_at=now,
    )
    session.add(win)
    session.add(Activity(person_id=author.id, team_id=author.team_id, kind="win", occurred_at=now))
    session.flush()
    card = card_of(session, win)
    text, review = blocks.review_message(card, channel=settings.wins_channel)
    reviewers = moderators(session, settings)
    for moderator in reviewers:
        outbox.enqueue(
            session,
            key=review_key(win.id, moderator.user_id),
            kind="win_review",
            channel=moderator.user_id,
            text=text,
            blocks=review,
            person_id=moderator.person_id,
            metadata={"win_id": win.id},
        )
    if not reviewers:
        log.warning(
            "win %d waits for review, but there is no change manager to ask (ADOPTBOT_ADMINS)", win.id
        )
    if author.slack_user_id:
        text, confirmation = blocks.submitted_message(card)
        outbox.enqueue(
            session,
            key=submitted_key(win.id),
            kind="win_author",
            channel=author.slack_user_id,
            text=text,
            blocks=confirmation,
            person_id=author.id,
        )
    log.info("win %d submitted for review", win.id)
    return win


# --- moderation --------------------------------------------------------------------------------------------


def pending_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Win).where(Win.status == "pending")) or 0)


def review_queue(session: Session, *, limit: int = blocks.QUEUE_SHOWN) -> tuple[list[WinCard], int]:
    """The oldest pending wins (at most `limit`) and how many are pending in all."""
    wins = session.scalars(
        select(Win).where(Win.status == "pending").order_by(Win.submitted_at, Win.id).limit(limit)
    ).all()
    return [card_of(session, w) for w in wins], pending_count(session)


def get_card(session: Session, win_id: int) -> WinCard | None:
    win = session.get(Win, win_id)
    return card_of(session, win) if win is not None else None


def decide(
    session: Session,
    *,
    win_id: int,
    approve: bool,
    reviewer_user_id: str,
    reviewer: Person | None,
    settings: Settings,
    reason: str | None = None,
    edit: WinInput | None = None,
    now: datetime | None = None,
) -> Decision | None:
    """Approve (optionally with a light `edit`) or reject (with `reason`) a pending win; None if no such win.

    Exactly one decision per win, whoever clicks: the conditional update decides. The one that does queues
    the updates of every change manager's DM, the author's DM, and (approved, public, a wins channel set)
    the channel post.
    """
    from bot.slack import outbox

    current = session.get(Win, win_id)
    if current is None:
        return None
    if not approve:
        reason = (reason or "").strip()
        if not reason:
            raise InvalidWin({"reason": "Write a short note for the author."})
        if len(reason) > REASON_MAX:
            raise InvalidWin({"reason": f"Please keep it under {REASON_MAX} characters."})
    values: dict[str, Any] = {
        "status": "approved" if approve else "rejected",
        "reviewed_by": reviewer.id if reviewer is not None else None,
        "reviewer_user_id": reviewer_user_id[:32],
        "reviewed_at": now or utcnow(),
        "polish_offer": None,
    }
    if not approve:
        values["reject_reason"] = reason
    if edit is not None:
        values[("polished" if current.polished else "what")] = edit.what
        values |= {"tool": edit.tool, "hours_per_week": edit.hours, "team_id": edit.team_id}
    result = session.execute(
        update(Win).where(Win.id == win_id, Win.status == "pending").values(**values),
        execution_options={"synchronize_session": False},
    )
    won = int(getattr(result, "rowcount", 0) or 0) == 1
    win = session.get(Win, win_id, populate_existing=True)
    assert win is not None
    card = card_of(session, win, edited=won and edit is not None)
    if not won:
        return Decision(card, decided_now=False)
    _update_reviews(session, card, settings, suffix="decided")
    author = session.get(Person, win.author_id) if win.author_id is not None else None
    if author is not None and author.slack_user_id and author.erased_at is None:
        if approve:
            text, dm = blocks.approved_message(card, channel=settings.wins_channel)
        else:
            text, dm = blocks.rejected_message(card, command=settings.command)
        outbox.enqueue(
            session,
            key=f"win-{win.status}:{win.id}",
            kind="win_author",
            channel=author.slack_user_id,
            text=text,
            blocks=dm,
            person_id=author.id,
        )
        _close_offer(session, card)
    if approve and win.share in PUBLIC_SHARES and settings.wins_channel:
        text, post = blocks.channel_post(_public_card(session, win))
        outbox.enqueue(
            session,
            key=share_key(win.id),
            kind="win_share",
            channel=settings.wins_channel,
            text=text,
            blocks=post,
            metadata={"win_id": win.id},
        )
    log.info("win %d %s", win.id, win.status)
    return Decision(card, decided_now=True)


def _update_reviews(session: Session, card: WinCard, settings: Settings, *, suffix: str) -> None:
    """Queue the same update of every change manager's DM about this win (in place, via chat.update)."""
    from bot.slack import outbox

    text, review = blocks.review_message(card, channel=settings.wins_channel)
    keys = session.scalars(
        select(OutboxMessage.key).where(
            OutboxMessage.key.like(f"win-review:{card.id}:%"), OutboxMessage.update_of.is_(None)
        )
    ).all()
    for key in keys:
        outbox.enqueue_update(session, key=f"{key}:{suffix}", update_of=key, text=text, blocks=review)


def _close_offer(session: Session, card: WinCard) -> None:
    """Once decided, the author's confirmation no longer offers the polished version."""
    from bot.slack import outbox

    original = submitted_key(card.id)
    offered = session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == f"{original}:offer"))
    chosen = session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == f"{original}:choice"))
    if offered is not None and chosen is None:
        text, dm = blocks.submitted_message(card)
        outbox.enqueue_update(session, key=f"{original}:closed", update_of=original, text=text, blocks=dm)


def mark_shared(session: Session, message: OutboxMessage) -> None:
    """Outbox hook: the win's post is in the channel; record when."""
    head, _, win_id = message.key.partition(":")
    if head == "win-share" and win_id.isdigit():
        session.execute(
            update(Win).where(Win.id == int(win_id)).values(shared_at=message.sent_at or utcnow()),
            execution_options={"synchronize_session": False},
        )


# --- the optional AI polish --------------------------------------------------------------------------------


_POLISH_SYSTEM = (
    "You rewrite a colleague's note about how AI helped them at work for the company's wins channel. Reply "
    f"with exactly two short sentences, at most {AI_MAX_WORDS} words in all: what they did, then what it "
    "saved or improved. Plain text: no names of people, no emoji, no hashtags, no quotes. Keep the facts; "
    "invent nothing."
)


def polish_and_offer(engine: Engine, settings: Settings, win_id: int, *, timeout: float = AI_TIMEOUT) -> bool:
    """Ask the AI for a two-sentence version of a pending win and offer it to the author; True if offered.

    Runs after Slack has been answered. No write transaction is open during the AI call (on SQLite that
    would hold the database's write lock for seconds): the win is read first, the audit row and the offer
    are written after. A timeout or error offers nothing (`bot.ai` audits it); the win stays as typed.
    """
    if not settings.ai_enabled:
        return False
    with session_scope(engine, readonly=True) as session:
        win = session.get(Win, win_id)
        if win is None or win.status != "pending" or win.polished or win.polish_offer:
            return False
        team = session.get(Team, win.team_id) if win.team_id is not None else None
        prompt = (
            f"Team: {team.name if team is not None else 'not given'}\nAI tool: {win.tool or 'not given'}\n"
            f"Time saved: about {win.hours_per_week:g} hours a week\nTheir note:\n{win.what}"
        )
        names = ai.roster_name_parts(session)
    with session_scope(engine) as session:
        answer = ai.complete(
            session,
            settings,
            purpose=AI_PURPOSE,
            system=_POLISH_SYSTEM,
            prompt=prompt,
            max_words=AI_MAX_WORDS,
            names=names,
            timeout=timeout,
        )
        offer = _clean_offer(answer)
        return offer is not None and offer_polish(session, win_id=win_id, text=offer)


def _clean_offer(answer: str | None) -> str | None:
    if not answer:
        return None
    text = " ".join(answer.split()).strip().strip("\"'“”").strip()
    return text[:WHAT_MAX] or None


def offer_polish(session: Session, *, win_id: int, text: str) -> bool:
    """Record the AI version offered for a pending win and add it to the author's confirmation DM."""
    from bot.slack import outbox

    result = session.execute(
        update(Win)
        .where(Win.id == win_id, Win.status == "pending", Win.polished.is_(None), Win.polish_offer.is_(None))
        .values(polish_offer=text),
        execution_options={"synchronize_session": False},
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    original = submitted_key(win_id)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == original)) is None:
        return False
    win = session.get(Win, win_id, populate_existing=True)
    assert win is not None
    message, dm = blocks.submitted_message(card_of(session, win, with_author=False), offer=text)
    outbox.enqueue_update(session, key=f"{original}:offer", update_of=original, text=message, blocks=dm)
    return True


def choose_polish(
    session: Session, settings: Settings, *, win_id: int, author_user_id: str, use: bool
) -> str:
    """The author takes (`use`) or declines the offered version. Returns what happened: "polished",
    "kept", "decided" (already reviewed), "chosen" (already chosen), or "not_yours"."""
    from bot.slack import outbox

    win = session.get(Win, win_id)
    author = session.get(Person, win.author_id) if win is not None and win.author_id is not None else None
    if win is None or author is None or author.slack_user_id != author_user_id:
        return "not_yours"
    values: dict[str, Any] = {"polish_offer": None}
    if use:
        values["polished"] = Win.polish_offer
    result = session.execute(
        update(Win)
        .where(
            Win.id == win_id, Win.status == "pending", Win.polish_offer.is_not(None), Win.polished.is_(None)
        )
        .values(**values),
        execution_options={"synchronize_session": False},
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        session.refresh(win)
        return "decided" if win.status != "pending" else "chosen"
    session.refresh(win)
    choice = "polished" if use else "kept"
    original = submitted_key(win_id)
    text, dm = blocks.submitted_message(card_of(session, win, with_author=False), choice=choice)
    outbox.enqueue_update(session, key=f"{original}:choice", update_of=original, text=text, blocks=dm)
    if use:
        _update_reviews(session, card_of(session, win), settings, suffix="polished")
    return choice


# --- counting and showing ----------------------------------------------------------------------------------


def of_person(session: Session, person: Person, *, recent: int = blocks.HOME_RECENT) -> MyWins:
    """A person's own wins for their Home: approved count and hours, pending count, the latest few."""
    approved, hours = session.execute(
        select(func.count(), func.sum(Win.hours_per_week)).where(
            Win.author_id == person.id, Win.status == "approved"
        )
    ).one()
    pending = session.scalar(
        select(func.count()).select_from(Win).where(Win.author_id == person.id, Win.status == "pending")
    )
    latest = session.scalars(
        select(Win)
        .where(Win.author_id == person.id)
        .order_by(Win.submitted_at.desc(), Win.id.desc())
        .limit(recent)
    ).all()
    return MyWins(
        approved=int(approved or 0),
        hours=round(float(hours or 0.0), 2),
        pending=int(pending or 0),
        recent=tuple(card_of(session, w, with_author=False) for w in latest),
    )


def tool_of(session: Session, win_id: int) -> str | None:
    """The AI tool of an approved, public win ("Try this too" starts from it)."""
    return session.scalar(
        select(Win.tool).where(Win.id == win_id, Win.status == "approved", Win.share.in_(PUBLIC_SHARES))
    )


def shareable_wins(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    team_ids: list[int] | None = None,
    limit: int = 5,
) -> list[WinSnippet]:
    """Approved public wins submitted in [start, end) for a digest, most hours first; anonymous ones carry
    no author. Not-public wins never appear (they only count). Render with `blocks.wins.digest_lines`."""
    query = (
        select(Win, Team.name, Person.slack_user_id, Person.erased_at)
        .outerjoin(Team, Team.id == Win.team_id)
        .outerjoin(Person, Person.id == Win.author_id)
        .where(
            Win.status == "approved",
            Win.share.in_(PUBLIC_SHARES),
            Win.submitted_at >= start,
            Win.submitted_at < end,
        )
        .order_by(Win.hours_per_week.desc(), Win.id)
        .limit(limit)
    )
    if team_ids is not None:
        query = query.where(Win.team_id.in_(team_ids))
    return [
        WinSnippet(
            text=win.polished or win.what,
            team=team,
            hours=win.hours_per_week,
            author_user_id=user_id if win.share == "named" and erased is None else None,
        )
        for win, team, user_id, erased in session.execute(query)
    ]


# --- the monthly recognition -------------------------------------------------------------------------------


def first_working_day(year: int, month: int, timezone: str, is_holiday: Callable[[date, str], bool]) -> date:
    day = date(year, month, 1)
    while day.weekday() >= 5 or is_holiday(day, timezone):
        day += timedelta(days=1)
    return day


def team_wins(
    session: Session, start: datetime, end: datetime, *, top: int = RECOGNITION_TEAMS
) -> list[TeamWins]:
    """Teams with at least one approved win submitted in [start, end): most wins first (then hours, name)."""
    rows = session.execute(
        select(Team.name, func.count(Win.id), func.sum(Win.hours_per_week))
        .join(Team, Team.id == Win.team_id)
        .where(Win.status == "approved", Win.submitted_at >= start, Win.submitted_at < end)
        .group_by(Team.name)
    ).all()
    found = [TeamWins(str(name), int(n), round(float(h or 0.0), 1)) for name, n, h in rows if n]
    found.sort(key=lambda t: (-t.wins, -t.hours, t.team.casefold()))
    return found[:top]


def post_monthly_recognition(session: Session, settings: Settings, library: Library, now: datetime) -> int:
    """On the first working day of a month (org time zone, from the digest hour), congratulate in the wins
    channel the teams with the most approved wins of the month before. Once per month (outbox key)."""
    from bot.slack import outbox

    if not settings.wins_channel:
        return 0
    tz = settings.tz
    local = now.replace(tzinfo=UTC).astimezone(tz)
    first = first_working_day(local.year, local.month, settings.timezone, library.is_holiday)
    due = datetime.combine(first, time(settings.digest_hour), tzinfo=tz)
    if local < due or local.date() >= first + timedelta(days=RECOGNITION_DAYS):
        return 0
    this_month = date(local.year, local.month, 1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    key = recognition_key(last_month)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is not None:
        return 0
    start = to_naive_utc(datetime.combine(last_month, time(0), tzinfo=tz))
    end = to_naive_utc(datetime.combine(this_month, time(0), tzinfo=tz))
    teams = team_wins(session, start, end)
    if not teams:
        return 0
    text, message = blocks.recognition_message(f"{last_month:%B %Y}", teams, command=settings.command)
    queued = outbox.enqueue(
        session, key=key, kind="win_recognition", channel=settings.wins_channel, text=text, blocks=message
    )
    return int(queued)


def _recognition_job(ctx: JobContext) -> int:
    return post_monthly_recognition(ctx.session, ctx.settings, ctx.library, ctx.now)


def _register() -> None:
    from bot.slack import outbox

    register_job("wins.recognition", _recognition_job)
    outbox.on_sent("win_share", mark_shared)


_register()
