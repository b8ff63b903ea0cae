"""No comment can be recovered by subtracting one view's summary from another's.

The world of `tests.test_digest` (k = 5) with the closed run's comments: Alpha 8 (a part of its own),
Tiny 4 and Beta 2 (each under k: together with nothing else they are "other teams", 6 comments). A
curious leader holds several views at once (their teams' digest, each team alone, the org-wide channel,
`/adopt digest TEAM`) and compares them: every view is made of the same fixed parts, so the difference of
two views is always whole parts of at least k comments, never a small team's words.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot import clock, outbox
from bot.cli import main
from bot.config import Settings
from bot.db import session_scope
from bot.digest.format import to_text
from bot.digest.service import ORGANISATION, Digest, DigestSource, compose, compose_many
from bot.jobs import run_due_jobs
from bot.models import PulseAnswer, PulseResponse
from bot.pulses.comments import OTHER_TEAMS, CommentSummary
from bot.slack.client import make_web_client
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import ResponseSink, SlackAppServer
from tests.test_digest import NOW, WEEK, K, World, build_world, leader_audience, library, payload_text
from tests.test_digest_slack import ask, user

LAYOFFS = "layoffs because of automation worry me"
THEME_COUNT = re.compile(r"” \((?:in )?(\d+)\)")  # a number after a theme: “hands-on training” (in 8)


def _theme_counts(text: str) -> list[int]:
    return [int(n) for n in THEME_COUNT.findall(text)]


def _world(engine: Engine) -> World:
    """`build_world`, plus two comments from Beta in the closed run (Alpha 8, Tiny 4 are there already)."""
    world = build_world(engine)
    comment = next(q.id for q in library().default_survey().questions if q.kind == "text")
    with session_scope(engine) as session:
        beta = session.scalars(
            select(PulseResponse)
            .where(PulseResponse.run_id == world.runs[1], PulseResponse.team_id == world.teams["Beta"])
            .limit(2)
        ).all()
        for response in beta:
            session.add(PulseAnswer(response_id=response.id, question_id=comment, text=LAYOFFS))
    return world


def _views(session: Session, settings: Settings, world: World) -> dict[str, Digest]:
    source = DigestSource(session, settings, library(), week_monday=WEEK, now=NOW)
    return {
        "ada (Alpha)": compose(source, leader_audience(source, world, "ada")),
        "tim (Tiny)": compose(source, leader_audience(source, world, "tim")),
        "bea (Alpha, Beta, Tiny)": compose(source, leader_audience(source, world, "bea")),
        "sam (every team)": compose(source, leader_audience(source, world, "sam")),
        "organisation": compose(source, ORGANISATION),
    }


def _parts(digest: Digest) -> dict[str, CommentSummary]:
    return {c.group: c for c in digest.comments}


def test_every_view_is_made_of_the_same_fixed_parts_so_subtraction_reveals_no_small_team(
    engine: Engine,
) -> None:
    world = _world(engine)
    settings = dataclasses.replace(Settings(), min_group_size=K)
    with Session(engine) as session:
        views = _views(session, settings, world)

    alpha = _parts(views["ada (Alpha)"])["Alpha"]
    assert alpha.comments == 8 and set(_parts(views["ada (Alpha)"])) == {"Alpha"}
    # The leader of Alpha, Beta and Tiny gets Alpha's summary, word for word: nothing over the union of
    # their teams, whose difference from Alpha's would be what Beta's and Tiny's six people wrote.
    assert _parts(views["bea (Alpha, Beta, Tiny)"]) == {"Alpha": alpha}
    assert views["tim (Tiny)"].comments == ()
    # The whole organisation adds the rest, together: Beta's 2 and Tiny's 4 can't be told apart.
    for whole in ("sam (every team)", "organisation"):
        parts = _parts(views[whole])
        assert set(parts) == {"Alpha", OTHER_TEAMS} and parts["Alpha"] == alpha
        assert parts[OTHER_TEAMS].comments == 6 and parts[OTHER_TEAMS].team_id is None
    for name, digest in views.items():
        for part in digest.comments:
            assert part.comments >= K, name
        shown = payload_text(digest) + to_text(digest)
        # Alpha's theme is counted (8 comments say it); no theme is ever counted under k.
        assert min(_theme_counts(shown), default=K) >= K, name
        assert ("“hands-on training” (in 8)" in shown) == (name != "tim (Tiny)"), name
        if name not in ("sam (every team)", "organisation"):
            assert "budget worries" not in shown and "layoffs" not in shown, name
    other = _parts(views["organisation"])[OTHER_TEAMS].text
    # Tiny's 4 and Beta's 2: themes of the rest together, each said by fewer than k, so never counted.
    assert other.startswith("6 comments. Themes: ") and other.endswith("(each in fewer than 5).")
    assert "“budget worries”" in other and "“layoffs”" in other and _theme_counts(other) == []
    assert "Other teams" in payload_text(views["organisation"])


def test_slack_routes_show_a_leader_no_summary_over_their_teams_union(
    engine: Engine, fake_slack: FakeSlack, slack_settings: Settings
) -> None:
    world = _world(engine)
    settings = dataclasses.replace(
        slack_settings, min_group_size=K, digest_channel="C0DIGEST", send_rate=50.0
    )
    run_due_jobs(engine, settings, library(), NOW)
    outbox.drain(engine, make_web_client(settings, retry_rate_limits=False), settings)
    clock.set_now(NOW)  # the previews describe the last complete week at "now"
    with SlackAppServer(settings, engine) as server, ResponseSink() as sink:
        previews = {
            "bea": ask(server, sink, user(world, "bea")),
            "bea Tiny": ask(server, sink, user(world, "bea"), "digest Tiny"),
            "bea Alpha": ask(server, sink, user(world, "bea"), "digest Alpha"),
            "sam Beta": ask(server, sink, user(world, "sam"), "digest Beta"),
        }

    def said(blocks: object) -> str:
        return json.dumps(blocks, ensure_ascii=False)

    for who in ("ada", "tim", "bea"):
        [dm] = [m for m in fake_slack.messages(user(world, who)) if "What people said" in said(m.blocks)] or [
            None
        ]
        if who == "tim":
            assert dm is None  # Tiny's 4 comments: no summary at all
            continue
        assert dm is not None
        text = said(dm.blocks)
        assert "*Alpha*" in text and "8 comments" in text and "Other teams" not in text, who
        assert "“hands-on training” (in 8)" in text, who
        assert "budget worries" not in text and "layoffs" not in text, who
    [channel] = [m for m in fake_slack.messages("C0DIGEST") if "What people said" in said(m.blocks)]
    assert "*Alpha*" in said(channel.blocks) and "Other teams" in said(channel.blocks)
    assert "6 comments" in said(channel.blocks)
    for name, answer in previews.items():
        text = said(answer["blocks"])
        assert "budget worries" not in text and "layoffs" not in text, name
        assert min(_theme_counts(text), default=K) >= K, name
    assert "“hands-on training” (in 8)" in said(previews["bea Alpha"]["blocks"])
    assert "What people said" not in said(previews["bea Tiny"]["blocks"])
    assert "What people said" not in said(previews["sam Beta"]["blocks"])


def test_the_model_sees_each_part_alone_and_no_name(engine: Engine, fake_openai: FakeOpenAI) -> None:
    world = _world(engine)
    settings = dataclasses.replace(
        Settings(), min_group_size=K, openai_api_key="sk-test", openai_base_url=fake_openai.url
    )
    fake_openai.default_reply = "- People ask for practice time.\n- Worries about jobs come up."
    with session_scope(engine) as session:
        source = DigestSource(session, settings, library(), week_monday=WEEK, now=NOW)
        audiences = [leader_audience(source, world, key) for key in ("ada", "bea", "tim")]
        digests = compose_many(source, [*audiences, ORGANISATION], ai_narrative=False)

    asked = [r.text for r in fake_openai.requests if "comments, one per line" in r.text]
    assert len(asked) == 2  # Alpha's part and the other teams' part, each once for every view
    alpha = next(text for text in asked if "hands-on training" in text)
    rest = next(text for text in asked if "zebrafish" in text)
    assert "8 comments" in alpha and "zebrafish" not in alpha and "layoffs" not in alpha
    assert "6 comments" in rest and "hands-on" not in rest and rest.count("layoffs") == 2
    for text in asked:
        assert "Member" not in text and "Tiny" not in text and "Beta" not in text
    ada, bea, tim, organisation = digests
    assert ada.comments == bea.comments and len(ada.comments) == 1 and tim.comments == ()
    assert ada.comments[0].text.startswith("8 comments. - People ask for practice time.")
    assert [c.group for c in organisation.comments] == ["Alpha", OTHER_TEAMS]


@pytest.mark.parametrize("k", [3, 5])
def test_the_rest_of_the_organisation_is_summarised_only_when_it_holds_k_comments(
    engine: Engine, k: int
) -> None:
    _world(engine)  # the rest: Tiny 4 + Beta 2 = 6; with k = 3 Tiny is a part of its own, Beta alone is 2
    settings = dataclasses.replace(Settings(), min_group_size=k)
    with Session(engine) as session:
        source = DigestSource(session, settings, library(), week_monday=WEEK, now=NOW)
        parts = _parts(compose(source, ORGANISATION))
    if k == 5:
        assert set(parts) == {"Alpha", OTHER_TEAMS} and parts[OTHER_TEAMS].comments == 6
    else:
        # Beta's 2 comments are the whole rest: under k, so they reach no one.
        assert set(parts) == {"Alpha", "Tiny"}
        assert all("layoffs" not in p.text for p in parts.values())


def test_the_demo_prints_readable_comment_themes_per_team_counted_only_from_k(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    start = out.index("Comments (a summary per team")
    lines = out[start:].split("\n\n", 1)[0].splitlines()[1:]
    assert lines, out
    teams = [line.split(":", 1)[0].strip("• ") for line in lines]
    assert teams[-1] == OTHER_TEAMS and len(set(teams)) == len(teams)
    themes = []
    for line in lines:
        count = int(re.search(r": (\d+) comments", line).group(1))  # type: ignore[union-attr]
        assert count >= 5, line
        themes += re.findall(r"“([^”]+)”", line)
    assert themes, out
    for theme in themes:  # short phrases of words, never filler at either end
        words = theme.split()
        assert 1 <= len(words) <= 4 and all(re.fullmatch(r"[a-z][a-z'-]*[a-z]", w) for w in words), theme
        assert not {words[0], words[-1]} & {"please", "more", "would", "the", "my", "it", "help"}, theme
    assert min(_theme_counts(out), default=5) >= 5
    blocks = json.dumps(
        json.loads((tmp_path / "demo" / "digest.json").read_text())["blocks"], ensure_ascii=False
    )
    assert min(_theme_counts(blocks), default=5) >= 5
