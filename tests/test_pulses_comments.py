"""Comments reach leaders only as summaries over k or more comments: AI when configured, else themes.

How the comments are partitioned so that no view can be subtracted from another: test_comments_partition.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import subprocess
import sys
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.content import load_library
from bot.db import session_scope
from bot.jobs import JobContext
from bot.models import AiCache, AiCall, Person, PulseRun
from bot.pulses.comments import OTHER_TEAMS, CommentSummary, quotes_a_comment, summaries, theme_summary
from bot.pulses.service import close_job
from bot.pulses.theme_stoplist import FILLER_WORDS
from bot.pulses.themes import Theme, themes
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

# A team's answers to "Anything else about using AI at work?", as people write them.
ADOPTION = [
    "A shared prompt library would save us hours every week.",
    "Please give us protected training time, not just lunch sessions.",
    "I worry about data privacy when pasting client files into the assistant.",
    "Our prompt library is out of date; someone should own it.",
    "Training time during work hours, please. Evenings don't work for parents.",
    "Who decides what is allowed? Data privacy rules are unclear to me.",
    "People fear layoffs if the assistant makes us faster.",
    "The prompt libraries from the marketing team are great, can we copy them?",
    "Thanks for the pilot! I think it would be really good to have more training time.",
    "Clear guidance on data privacy would help the whole team.",
    "Layoffs are the elephant in the room and leadership should talk about them.",
    "Start a prompt library channel where people post what worked.",
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


def test_without_ai_a_team_gets_the_themes_a_person_would_name_counted_from_k(session: Session) -> None:
    run, _ = _seed(session, ADOPTION)
    at_three = _summary(session, run, "Sales", dataclasses.replace(Settings(), min_group_size=3))
    assert at_three is not None and at_three.comments == 12
    assert at_three.text == (
        "12 comments. Themes: “prompt library” (in 4), “data privacy” (in 3), “training time” (in 3); "
        "also “assistant”, “layoffs” (each in fewer than 3)."
    )
    # With k = 5 no theme is said by 5 comments: the same themes, none counted.
    at_five = _summary(session, run, "Sales", dataclasses.replace(Settings(), min_group_size=5))
    assert at_five is not None and at_five.text == (
        "12 comments. Themes: “prompt library”, “data privacy”, “training time”, “assistant”, “layoffs” "
        "(each in fewer than 5)."
    )


def test_without_ai_no_theme_is_a_whole_comment_a_name_or_another_teams(session: Session) -> None:
    run, _ = _seed(session, COMMENTS)
    found = _summary(session, run, "Sales", dataclasses.replace(Settings(), min_group_size=5))
    assert found is not None and found.comments == 6
    assert found.text == (
        "6 comments. Themes: “prompts for customer emails”, “customer data”, “clearer rules” "
        "(each in fewer than 5)."
    )
    # "Training" is someone's whole comment: never a theme, though three others mention training too.
    assert "“training”" not in found.text
    assert "priya" not in found.text.lower() and "raman" not in found.text.lower()  # roster names
    assert "legal" not in found.text.lower() and "budget" not in found.text  # another team's comment
    said = ["Priya's prompt library is great", "priya’s prompt library", "A prompt library"]
    assert themes(said, frozenset({"priya"})) == [Theme("prompt library", 3)]


def test_themes_are_found_once_per_run_and_a_colleague_named_like_one_drops_it(session: Session) -> None:
    run, team = _seed(session, ADOPTION)
    settings = dataclasses.replace(Settings(), min_group_size=3)
    first = _summary(session, run, "Sales", settings)
    assert first is not None and "“layoffs”" in first.text and "“data privacy”" in first.text
    stored = session.scalars(select(AiCache).where(AiCache.key.like(f"pulse-comments:{run}:themes:%"))).all()
    assert [row.value for row in stored] == [first.text]  # Legal's one comment is no part at k = 3
    # The next digest reads them back: a changed stored text shows (nothing else could produce this one).
    stored[0].value = "12 comments. Themes: “kept from last week” (in 12)."
    session.commit()
    second = _summary(session, run, "Sales", settings)
    assert second is not None and second.text == "12 comments. Themes: “kept from last week” (in 12)."
    # A new hire whose name is in none of the comments changes nothing ...
    session.add(Person(slack_user_id="U0NEWHIRE", name="Zed Quill", team_id=team, role="sales"))
    session.commit()
    assert _summary(session, run, "Sales", settings) == second
    # ... one named like a theme word gets summaries made again, without their name in them.
    session.add(Person(slack_user_id="U0LAYOFFS", name="Ana Layoffs", team_id=team, role="sales"))
    session.commit()
    third = _summary(session, run, "Sales", settings)
    assert third is not None and "kept from last week" not in third.text
    assert "layoffs" not in third.text.lower() and "“data privacy”" in third.text


def test_a_day_after_the_close_the_close_job_finds_the_themes_before_any_digest(session: Session) -> None:
    run_id, _ = _seed(session, ADOPTION)
    settings = dataclasses.replace(Settings(), min_group_size=3)
    run = session.get(PulseRun, run_id)
    assert run is not None
    job = JobContext(session, run.closes_at, settings, load_library(), dry_run=False)
    close_job(job)
    themed = select(AiCache.value).where(AiCache.key.like(f"pulse-comments:{run_id}:themes:%"))
    assert session.scalars(themed).all() == []  # closed, not settled yet
    close_job(dataclasses.replace(job, now=run.closes_at + timedelta(days=1)))
    session.commit()
    found = _summary(session, run_id, "Sales", settings)
    assert found is not None and session.scalars(themed).all() == [found.text]
    assert "“prompt library” (in 4)" in found.text


def test_filler_and_fragments_are_never_themes() -> None:
    polite = [
        "Thanks! I think it would be really good.",
        "Please, please, I think it would be really good to have it.",
        "Really good, thanks a lot!",
        "I would think so. Thanks!",
        "Thanks, it would be good, really.",
        "I think it's really good, please keep it up.",
    ]
    assert theme_summary(polite, 5) == "6 comments; no theme recurs across them."
    mixed = [
        "Please, thanks! The prompt library is the best part of the 2 hours of training.",
        "Thanks for the prompt library v2, I think it would be really good to have more of the same.",
        "I think GPT-4o is fast. 3 hours saved on the Q3 report, thanks!",
        "GPT-4o drafts the Q3 report in minutes, please roll it out to all of the teams.",
        "@here <!channel> Really, please: a prompt library for sales & support would be good.",
        "It would be really good. Thanks! Of the tools, I think the assistant is fine.",
    ]
    assert themes(mixed) == [Theme("prompt library", 3), Theme("report", 2)]
    for theme in themes(mixed + polite + ADOPTION + COMMENTS):
        words = theme.phrase.split()
        assert all(re.fullmatch(r"[a-z][a-z'-]*[a-z]", w) for w in words), theme  # no number, no letter alone
        assert words[0] not in FILLER_WORDS and words[-1] not in FILLER_WORDS, theme
        assert theme.comments >= 2, theme
    summary = theme_summary(mixed, 3)
    assert summary == "6 comments. Themes: “prompt library” (in 3); also “report” (in fewer than 3)."
    assert not set("<>&@") & set(summary)  # nothing of the markup people typed comes back


def test_forms_merge_and_the_same_comments_always_give_the_same_themes() -> None:
    written = [
        "Our prompt libraries are great",
        "A Prompt Library, please",
        "the team's prompt library for sales",
        "We use the PROMPT LIBRARY daily",
    ]
    assert themes(written) == [Theme("prompt library", 4)]
    expected = theme_summary(ADOPTION, 3)
    shuffled = list(ADOPTION)
    random.Random(7).shuffle(shuffled)
    assert theme_summary(shuffled, 3) == expected and theme_summary(ADOPTION[::-1], 3) == expected
    # Another process, another string hash seed: still the same summary, word for word.
    script = (
        "import sys; from bot.pulses.comments import theme_summary; "
        "print(theme_summary(sys.stdin.read().split(chr(10)), 3), end='')"
    )
    for seed in ("1", "2"):
        other = subprocess.run(
            [sys.executable, "-c", script],
            input="\n".join(ADOPTION),
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert other.stdout == expected


def test_a_theme_must_recur_in_two_different_comments() -> None:
    assert themes(["budget budget budget", "nothing else here"]) == []
    assert (
        theme_summary(["alpha beta", "gamma delta", "epsilon"], 3)
        == "3 comments; no theme recurs across them."
    )
    # "slow approvals" is two people's whole comment: never shown; its parts that recur are.
    assert themes(["Slow approvals", "slow approvals!", "Faster approvals"]) == [
        Theme("approvals", 3),
        Theme("slow", 2),
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
    # A reply that quotes someone is refused; so is a failing call: both fall back to the themes.
    fake_openai.reply("Someone said: the licence process is slow; more training would help.")
    session.execute(delete(AiCache))  # a new run of the same comments would not hit the cache
    quoted = _summary(session, run, "Sales", settings)
    assert quoted is not None and quoted.text.startswith("6 comments. Themes: “prompts for customer emails”")
    fake_openai.fail_next(500)
    session.execute(delete(AiCache))  # a new run of the same comments would not hit the cache
    failed = _summary(session, run, "Sales", settings)
    assert failed is not None and failed.text.startswith("6 comments. Themes: “prompts for customer emails”")
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


def test_a_read_only_view_finds_themes_but_stores_nothing(engine: Engine) -> None:
    with session_scope(engine) as session:
        run, _ = _seed(session, ADOPTION)
    settings = dataclasses.replace(Settings(), min_group_size=3)
    with session_scope(engine, readonly=True) as session:  # a dashboard page
        found = _summary(session, run, "Sales", settings)
    assert found is not None and "“prompt library” (in 4)" in found.text
    with session_scope(engine, readonly=True) as session:
        assert session.scalars(select(AiCache.key)).all() == []
