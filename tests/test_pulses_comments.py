"""Comments reach leaders only as summaries over k or more comments: AI when configured, else phrases.

How the comments are partitioned so that no view can be subtracted from another: test_comments_partition.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.models import AiCache, AiCall, Person
from bot.pulses.comments import (
    OTHER_TEAMS,
    CommentSummary,
    phrase_summary,
    quotes_a_comment,
    recurring_phrases,
    summaries,
)
from tests.support.fake_openai import FakeOpenAI
from tests.test_metrics import Org

COMMENTS = [
    "We need more training on prompts for customer emails",
    "More training please, and clearer rules on customer data",
    "Clearer rules on customer data would help a lot",
    "The licence process is slow; more training would help",
    "Training",
    "Ask Priya Raman, she knows the prompts for customer emails best",
]


def _seed(session: Session, comments: list[str], team: str = "Sales") -> tuple[int, int]:
    org = Org(session)
    person = org.person(team)
    person.name = "Priya Raman"
    run = org.run(datetime(2026, 3, 3, 9))
    for text in comments:
        org.answer(run, team, {"awareness": 4}, usage=1, comment=text)
    org.answer(run, "Legal", {"awareness": 2}, usage=0, comment="Legal has no budget for licences")
    session.commit()
    return run.id, org.teams[team].id


def _summary(session: Session, run: int, team: str, settings: Settings) -> CommentSummary | None:
    return next((c for c in summaries(session, run, settings) if c.group == team), None)


def test_under_k_comments_there_is_no_summary_at_all(session: Session) -> None:
    run, _ = _seed(session, COMMENTS[:4])
    settings = dataclasses.replace(Settings(), min_group_size=5)
    assert _summary(session, run, "Sales", settings) is None
    # Sales' 4 and Legal's 1 are the rest of the organisation together: 5, one summary over both.
    [rest] = summaries(session, run, settings)
    assert (rest.group, rest.team_id, rest.comments) == (OTHER_TEAMS, None, 5)
    assert summaries(session, run, dataclasses.replace(settings, min_group_size=6)) == ()


def test_without_ai_the_summary_is_counts_and_recurring_phrases_never_a_comment(session: Session) -> None:
    run, _ = _seed(session, COMMENTS)
    found = _summary(session, run, "Sales", dataclasses.replace(Settings(), min_group_size=5))
    assert found is not None and found.comments == 6
    summary = found.text
    assert summary.startswith("6 comments. Phrases that recur across them:")
    assert "“customer”, “more training”, “clearer rules on customer data”" in summary
    assert "“prompts for customer emails”" in summary
    assert not re.search(r"\(\d+\)", summary)  # no count per phrase: ranked, never counted
    assert "“training”" not in summary  # a whole comment ("Training") and inside "more training" anyway
    assert "priya" not in summary.lower() and "raman" not in summary.lower()  # roster names never appear
    for comment in COMMENTS:
        assert comment not in summary
    assert "legal" not in summary.lower()  # another team's comment


def test_a_phrase_must_recur_in_two_different_comments() -> None:
    assert recurring_phrases(["budget budget budget", "nothing else here"]) == []
    assert (
        phrase_summary(["alpha beta", "gamma delta", "epsilon"])
        == "3 comments; no phrase recurs across them."
    )
    # "slow approvals" is two people's whole comment: never shown; its parts that recur are.
    assert recurring_phrases(["Slow approvals", "slow approvals!", "Faster approvals"]) == [
        ("approvals", 3),
        ("slow", 2),
    ]


def test_with_ai_the_summary_is_redacted_audited_and_falls_back(
    session: Session, fake_openai: FakeOpenAI
) -> None:
    run, _ = _seed(session, COMMENTS)
    settings = dataclasses.replace(
        Settings(), min_group_size=5, openai_api_key="sk-test", openai_base_url=fake_openai.url
    )
    fake_openai.reply("- People want more hands-on training.\n- Clear rules for customer data are asked for.")
    summary = _summary(session, run, "Sales", settings)
    assert summary is not None and summary.text == (
        "6 comments. - People want more hands-on training.\n- Clear rules for customer data are asked for."
    )
    [request] = fake_openai.requests
    assert "priya" not in request.text.lower() and "raman" not in request.text.lower()  # redacted
    assert "Legal has no budget" not in request.text  # Legal's one comment is no part: never sent
    # A reply that quotes someone is refused; so is a failing call: both fall back to the phrases.
    fake_openai.reply("Someone said: the licence process is slow; more training would help.")
    session.execute(delete(AiCache))  # a new run of the same comments would not hit the cache
    quoted = _summary(session, run, "Sales", settings)
    assert quoted is not None and quoted.text.startswith("6 comments. Phrases that recur")
    fake_openai.fail_next(500)
    session.execute(delete(AiCache))  # a new run of the same comments would not hit the cache
    failed = _summary(session, run, "Sales", settings)
    assert failed is not None and failed.text.startswith("6 comments. Phrases that recur")
    outcomes = [c.outcome for c in session.scalars(select(AiCall).where(AiCall.purpose == "pulse_comments"))]
    assert outcomes[0] == "ok" and outcomes[-1].startswith("error") and len(outcomes) == 3
    assert session.scalars(select(Person.name)).all() == ["Priya Raman"]


def test_quote_detection_catches_whole_comments_and_long_runs_of_words() -> None:
    assert quotes_a_comment("They said: licences take weeks.", ["Licences take weeks"])
    assert not quotes_a_comment("People want training.", ["Training"])  # one word is no quote
    assert quotes_a_comment(
        "the licence process is slow; more training",
        ["The licence process is slow; more training would help"],
    )
    assert not quotes_a_comment(
        "People want more training.", ["The licence process is slow; more training would help"]
    )
