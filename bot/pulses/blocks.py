"""Block Kit for pulse surveys: invitation, reminder, "Answered ✓", the survey modal, and the status reply.

Pure functions: data in, dict out. Question texts and option labels come from the content library;
nothing here shows what anyone answered except the person's own previous answers, in their own modal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.content import Question, Survey
from bot.i18n import gettext as _
from bot.i18n import ngettext
from bot.slack import ids
from bot.slack.blocks import (
    Block,
    actions,
    button,
    context,
    input_block,
    modal,
    option,
    plain,
    section,
)
from bot.slack.text import escape

COMMENT_MAX = 1500  # characters of an optional comment
RADIO_MAX = 10  # Slack: a radio_buttons element holds at most 10 options


def default_scale() -> tuple[str, ...]:
    """The five agreement labels of a scale question without its own, in the current language."""
    return (
        _("Strongly disagree"),
        _("Disagree"),
        _("Neither agree nor disagree"),
        _("Agree"),
        _("Strongly agree"),
    )


def answer_button() -> str:
    return _("Answer (1 minute)")


def change_button() -> str:
    return _("Change my answer")


@dataclass(frozen=True)
class PulseCard:
    """What an invitation, reminder or "Answered ✓" message says about a run."""

    run_id: int
    title: str
    questions: int
    closes_on: str  # e.g. "Thursday 5 March", in the person's time zone
    min_group_size: int


def _privacy_line(card: PulseCard) -> str:
    return _(
        "Anonymous: results are only shown for groups of {k} or more, never with names, "
        "and comments reach leaders only as a summary."
    ).format(k=card.min_group_size)


def _questions(card: PulseCard) -> str:
    return ngettext("{n} question", "{n} questions", card.questions).format(n=card.questions)


def invitation_text(card: PulseCard) -> str:
    return _("Pulse survey: {title}. One minute, {questions}; open until {date}.").format(
        title=card.title, questions=_questions(card), date=card.closes_on
    )


def invitation_blocks(card: PulseCard) -> list[Block]:
    return [
        section(
            _(
                "*{title}*\nHow is AI fitting into your work? One minute, {questions}. "
                "Your honest answer shapes what help your team gets next."
            ).format(title=escape(card.title), questions=_questions(card))
        ),
        actions(button(answer_button(), ids.PULSE_ANSWER, value=str(card.run_id), style="primary")),
        context(_("Open until {date}.").format(date=card.closes_on) + " " + _privacy_line(card)),
    ]


def reminder_text(card: PulseCard) -> str:
    return _("Reminder: the pulse survey closes {date}. It takes one minute.").format(date=card.closes_on)


def reminder_blocks(card: PulseCard) -> list[Block]:
    return [
        section(
            _(
                "*A quick reminder: {title}*\nThe pulse closes {date}, and it takes one minute. "
                "If you've already answered, thank you, and please ignore this."
            ).format(title=escape(card.title), date=card.closes_on)
        ),
        actions(button(answer_button(), ids.PULSE_ANSWER, value=str(card.run_id), style="primary")),
        context(_privacy_line(card)),
    ]


def answered_text(card: PulseCard) -> str:
    return _("Answered ✓ — thank you. You can change your answer until {date}.").format(date=card.closes_on)


def answered_blocks(card: PulseCard) -> list[Block]:
    return [
        section(f"*{escape(card.title)}*\n" + _("✅ *Answered ✓* — thank you.")),
        actions(button(change_button(), ids.PULSE_ANSWER, value=str(card.run_id))),
        context(
            _("You can change your answer until {date}.").format(date=card.closes_on)
            + " "
            + _privacy_line(card)
        ),
    ]


def scale_labels(question: Question) -> list[str]:
    """`1 — Strongly disagree` … `5 — Strongly agree` (or the survey's own five labels)."""
    scale = default_scale()
    labels = question.options if len(question.options) == len(scale) else scale
    return [f"{n} — {label}" for n, label in enumerate(labels, start=1)]


def _choices(question: Question) -> list[tuple[str, str]]:
    """(value, label) pairs: a scale answers 1..5, a choice answers its option's index (0 = first)."""
    if question.kind == "scale":
        return [(str(n), label) for n, label in enumerate(scale_labels(question), start=1)]
    return [(str(i), label) for i, label in enumerate(question.options)]


def _question_element(question: Question, previous: int | str | None) -> dict[str, Any]:
    if question.kind == "text":
        element: dict[str, Any] = {
            "type": "plain_text_input",
            "action_id": ids.PULSE_QUESTION_INPUT,
            "multiline": True,
            "max_length": COMMENT_MAX,
            "placeholder": plain(_("Optional: anything you'd like to add (shared only as a summary)"), 150),
        }
        if isinstance(previous, str) and previous:
            element["initial_value"] = previous[:COMMENT_MAX]
        return element
    choices = _choices(question)
    options = [option(label, value) for value, label in choices]
    element = {"action_id": ids.PULSE_QUESTION_INPUT, "options": options}
    if len(options) <= RADIO_MAX:
        element["type"] = "radio_buttons"
    else:
        element["type"] = "static_select"
        element["placeholder"] = plain(_("Choose an answer"), 150)
    chosen = next((o for o in options if previous is not None and o["value"] == str(previous)), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def answer_modal(
    survey: Survey,
    *,
    run_id: int,
    closes_on: str,
    min_group_size: int,
    previous: Mapping[str, int | str] | None = None,
) -> dict[str, Any]:
    """The survey: every question as an input block, pre-filled with the person's own earlier answers."""
    previous = previous or {}
    blocks: list[Block] = [
        context(
            _(
                "Anonymous: results are only shown for groups of {k} or more, never with names. "
                "You can change your answers until {date}."
            ).format(k=min_group_size, date=closes_on)
        )
    ]
    for question in survey.questions:
        blocks.append(
            input_block(
                ids.PULSE_QUESTION_BLOCK + question.id,
                question.text,
                _question_element(question, previous.get(question.id)),
                optional=not question.required,
            )
        )
    return modal(
        survey.title,
        blocks,
        callback_id=ids.PULSE_MODAL,
        submit=_("Send answers") if not previous else _("Update answers"),
        close=_("Cancel"),
        private_metadata=str(run_id),
    )


def info_modal(title: str, text: str) -> dict[str, Any]:
    """An information-only modal (no submit button): the pulse closed, or it was not for this person."""
    return modal(title, [section(text)], callback_id=ids.PULSE_INFO_MODAL, close=_("Close"))


def answers_from_state(values: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> dict[str, str | None]:
    """Question id -> the raw value chosen or typed (None when left empty), from `view.state.values`."""
    answers: dict[str, str | None] = {}
    for block_id, elements in values.items():
        if not block_id.startswith(ids.PULSE_QUESTION_BLOCK):
            continue
        element = elements.get(ids.PULSE_QUESTION_INPUT) or {}
        if element.get("type") == "plain_text_input":
            answers[block_id[len(ids.PULSE_QUESTION_BLOCK) :]] = element.get("value")
        else:
            selected = element.get("selected_option") or {}
            answers[block_id[len(ids.PULSE_QUESTION_BLOCK) :]] = selected.get("value")
    return answers


def question_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """Service errors by question id -> `response_action: errors` keyed by block id."""
    return {ids.PULSE_QUESTION_BLOCK + qid: message for qid, message in errors.items()}


@dataclass(frozen=True)
class TeamCount:
    team: str
    invited: int
    answered: int


def rate_label(answered: int, invited: int) -> str:
    """ "12/40 (30%)": how many of the invited answered."""
    return f"{answered}/{invited} ({round(100 * answered / invited)}%)" if invited else f"{answered}/0"


def status_blocks(
    *, run_id: int, title: str, state: str, invited: int, answered: int, teams: Sequence[TeamCount]
) -> list[Block]:
    """`/adopt pulse status`: response counts per team, nothing about what anyone answered."""
    lines = [f"• {escape(t.team)}: {rate_label(t.answered, t.invited)}" for t in teams]
    blocks: list[Block] = [
        section(
            _("*Pulse #{run}: {title}* ({state})").format(run=run_id, title=escape(title), state=state)
            + "\n"
            + _("Answered: *{rate}*").format(rate=rate_label(answered, invited))
        )
    ]
    chunk: list[str] = []
    size = 0
    for line in lines:  # sections hold 3,000 characters: split long team lists
        if size + len(line) + 1 > 2900 and chunk:
            blocks.append(section("\n".join(chunk)))
            chunk, size = [], 0
        chunk.append(line)
        size += len(line) + 1
    if chunk:
        blocks.append(section("\n".join(chunk)))
    blocks.append(context(_("Counts only: who answered what is never shown.")))
    return blocks[:50]
