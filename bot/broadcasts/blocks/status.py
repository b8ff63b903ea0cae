"""Block Kit for how far broadcasts got: the sender's live status message, and what `/adopt broadcast
status` lists and reports (who has acknowledged, by team). Pure builders.

Figures are formatted in one way (`count`), and the words of a message, a team or a person reach these
builders as an escaped excerpt (`excerpt`), so a status line can carry no mention or disguised link.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.i18n import format_number
from bot.i18n import gettext as _
from bot.slack.blocks import SECTION_TEXT_MAX, Block, context, section
from bot.slack.text import escape, one_line, truncate


def count(n: int) -> str:
    """1180 -> "1,180" (in the current language: "1.180" in German)."""
    return format_number(n)


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
        parts = [_("Delivered to all {n}").format(n=count(progress.delivered))]
    else:
        parts = [
            _("Delivered {n} of {total}").format(n=count(progress.delivered), total=count(progress.audience))
        ]
    if progress.unreachable:
        parts.append(_("{n} unreachable").format(n=count(progress.unreachable)))
    if progress.ask_ack:
        parts.append(_("{n} acknowledged").format(n=count(progress.acked)))
    return " · ".join(parts)


def status_text(progress: Progress) -> str:
    return _("Broadcast #{id}: {progress}").format(id=progress.broadcast_id, progress=progress_line(progress))


def status_blocks(progress: Progress, *, updated: str) -> list[Block]:
    icon = "✅" if progress.done else "📤"
    return [
        section(
            f"{icon} "
            + _("*Broadcast #{id}* “{excerpt}”").format(id=progress.broadcast_id, excerpt=progress.excerpt)
            + f"\n{progress_line(progress)}"
        ),
        context(
            _("Updated {when}. Every broadcast is kept: who sent what, to whom and when.").format(
                when=updated
            )
        ),
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
        return [
            section(_("No broadcasts yet. Type `{command} broadcast` to write one.").format(command=command))
        ]
    return [
        section(_("*Broadcasts*") + "\n" + "\n".join(lines)),
        context(_("`{command} broadcast status ID` shows who has acknowledged one.").format(command=command)),
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
        section(
            _("*Broadcast #{id}* “{excerpt}”").format(id=progress.broadcast_id, excerpt=progress.excerpt)
            + f"\n{progress_line(progress)}"
        )
    ]
    if not progress.ask_ack:
        blocks.append(context(_("This broadcast did not ask for acknowledgement.")))
        return blocks
    teams = [
        f"• {t.team}: " + _("{n} of {total}").format(n=count(t.acked), total=count(t.recipients))
        for t in report.teams
    ]
    if teams:
        title = _("*Acknowledged, by team*")
        blocks.append(section(truncate(title + "\n" + "\n".join(teams), SECTION_TEXT_MAX)))
    if report.waiting:
        names = ", ".join(report.waiting)
        line = (
            _("*Not acknowledged yet:* {names}, and {n} more").format(
                names=names, n=count(report.waiting_more)
            )
            if report.waiting_more
            else _("*Not acknowledged yet:* {names}").format(names=names)
        )
        blocks.append(section(truncate(line, SECTION_TEXT_MAX)))
    elif progress.delivered:
        blocks.append(section(_("Everyone it reached has acknowledged it. 🎉")))
    return blocks
