"""Block Kit for how far broadcasts got: the sender's live status message, and what `/adopt broadcast
status` lists and reports (who has acknowledged, by team). Pure builders.

Figures are formatted in one way (`count`), and the words of a message, a team or a person reach these
builders as an escaped excerpt (`excerpt`), so a status line can carry no mention or disguised link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.slack.blocks import SECTION_TEXT_MAX, Block, context, section
from bot.slack.text import escape, one_line, truncate


def count(n: int) -> str:
    """1180 -> "1,180"."""
    return f"{n:,}"


def excerpt(text: str, limit: int = 80) -> str:
    """The first words of a message on one line, escaped, for lists and status lines."""
    return escape(truncate(one_line(text), limit))


# --- the sender's live status message ---------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    broadcast_id: int
    excerpt: str  # escaped
    audience: int  # everyone the broadcast was meant for, reachable or not
    delivered: int
    unreachable: int  # skipped when sent (inactive, no DMs) plus those Slack refused
    acked: int
    ask_ack: bool
    done: bool


def progress_line(progress: Progress) -> str:
    """ "Delivered 340 of 1,200 · 3 unreachable · 85 acknowledged", or the final "Delivered to all …"."""
    if progress.done:
        parts = [f"Delivered to all {count(progress.delivered)}"]
    else:
        parts = [f"Delivered {count(progress.delivered)} of {count(progress.audience)}"]
    if progress.unreachable:
        parts.append(f"{count(progress.unreachable)} unreachable")
    if progress.ask_ack:
        parts.append(f"{count(progress.acked)} acknowledged")
    return " · ".join(parts)


def status_text(progress: Progress) -> str:
    return f"Broadcast #{progress.broadcast_id}: {progress_line(progress)}"


def status_blocks(progress: Progress, *, updated: str) -> list[Block]:
    icon = "✅" if progress.done else "📤"
    return [
        section(
            f"{icon} *Broadcast #{progress.broadcast_id}* “{progress.excerpt}”\n{progress_line(progress)}"
        ),
        context(f"Updated {updated}. Every broadcast is kept: who sent what, to whom and when."),
    ]


# --- `/adopt broadcast status` ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HomeItem:
    """A broadcast on one line: in App Home's list, and in `/adopt broadcast status`."""

    broadcast_id: int
    excerpt: str  # escaped
    when: str  # scheduled time or when it was sent, in the viewer's time zone
    sender: str | None  # escaped display name
    line: str  # reach, or progress


def status_list_blocks(
    scheduled: Sequence[HomeItem], recent: Sequence[HomeItem], *, command: str
) -> list[Block]:
    """The latest broadcasts and those scheduled, one line each."""
    lines = [f"• ⏰ *#{i.broadcast_id}* {i.when} “{i.excerpt}” — {i.line}" for i in scheduled]
    lines += [f"• *#{i.broadcast_id}* {i.when} “{i.excerpt}” — {i.line}" for i in recent]
    if not lines:
        return [section(f"No broadcasts yet. Type `{command} broadcast` to write one.")]
    return [
        section("*Broadcasts*\n" + "\n".join(lines)),
        context(f"`{command} broadcast status ID` shows who has acknowledged one."),
    ]


@dataclass(frozen=True)
class TeamAcks:
    team: str  # escaped
    recipients: int
    acked: int


@dataclass(frozen=True)
class AckReport:
    progress: Progress
    teams: Sequence[TeamAcks]
    waiting: Sequence[str]  # escaped names of people who got it and have not acknowledged, first ones
    waiting_more: int


def ack_report_blocks(report: AckReport) -> list[Block]:
    progress = report.progress
    blocks: list[Block] = [
        section(f"*Broadcast #{progress.broadcast_id}* “{progress.excerpt}”\n{progress_line(progress)}")
    ]
    if not progress.ask_ack:
        blocks.append(context("This broadcast did not ask for acknowledgement."))
        return blocks
    teams = [f"• {t.team}: {count(t.acked)} of {count(t.recipients)}" for t in report.teams]
    if teams:
        blocks.append(section(truncate("*Acknowledged, by team*\n" + "\n".join(teams), SECTION_TEXT_MAX)))
    if report.waiting:
        more = f", and {count(report.waiting_more)} more" if report.waiting_more else ""
        names = ", ".join(report.waiting)
        blocks.append(section(truncate(f"*Not acknowledged yet:* {names}{more}", SECTION_TEXT_MAX)))
    elif progress.delivered:
        blocks.append(section("Everyone it reached has acknowledged it. 🎉"))
    return blocks
