"""The roster's `tools` and `locale` columns, Slack's locale from `roster sync`, and which language a
person's messages are for (`person_locale`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.cli import main
from bot.config import ConfigError, Settings, load_settings
from bot.models import Person
from bot.people.locale import person_locale, shipped
from tests.support.fake_slack import FakeSlack
from tests.support.fixtures import SLACK_BOT_TOKEN
from tests.test_roster import ROLES, run, write

NAMES = "[" + ", ".join(f'"{r}"' for r in ROLES) + "]"


@pytest.fixture(autouse=True)
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The roster tests' library plus two tools (tools.toml)."""
    folder = tmp_path / "content"
    (folder / "nudges").mkdir(parents=True)
    (folder / "pulses").mkdir()
    (folder / "roles.toml").write_text("".join(f'[roles.{r}]\nname = "{r.title()}"\n' for r in ROLES))
    (folder / "tools.toml").write_text(
        '[tools.m365-copilot]\nname = "Microsoft 365 Copilot"\n'
        '[tools.chatgpt-enterprise]\nname = "ChatGPT Enterprise"\n'
    )
    (folder / "nudges" / "all.toml").write_text(
        f'[[nudge]]\nid = "first"\nroles = {NAMES}\nlevel = 1\nstage = "awareness"\n'
        'title = "Summarise a meeting"\nbody = "Ask an assistant to summarise your last meeting."\n'
    )
    (folder / "pulses" / "pulse.toml").write_text(
        'id = "pulse"\ntitle = "Pulse"\ncadence_weeks = 2\n[[question]]\nid = "why"\n'
        'text = "I know why we use AI."\nkind = "scale"\nstage = "awareness"\n'
    )
    monkeypatch.setenv("CONTENT_DIR", str(folder))
    return folder


HEADER = "slack_user_id,name,team,role,tools,locale\n"
ROSTER = (
    HEADER
    + "U0ANA1,Ana Silva,Sales,sales,m365-copilot,pt_br\n"
    + "U0BEN2,Ben Okafor,Sales,sales, ChatGPT-Enterprise ; m365-copilot ,DE\n"
    + "U0CAR3,Cara Lee,Sales,sales,,\n"
)


def people(engine: Engine) -> dict[str, Person]:
    with Session(engine) as session:
        return {p.slack_user_id or "?": p for p in session.scalars(select(Person))}


def test_tools_and_locale_are_stored_normalised_and_empty_means_not_set(
    db_url: str, engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "roster", "import", str(write(tmp_path, ROSTER)), "--db", db_url)
    assert (code, err) == (0, "") and "3 added" in out
    found = people(engine)
    assert (found["U0ANA1"].tools, found["U0ANA1"].locale) == ("m365-copilot", "pt-BR")
    assert (found["U0BEN2"].tools, found["U0BEN2"].locale) == ("chatgpt-enterprise;m365-copilot", "de")
    assert (found["U0CAR3"].tools, found["U0CAR3"].locale) == (None, None)

    # A dry run previews a change of tools or locale like any other field, and changes nothing.
    changed = ROSTER.replace("m365-copilot,pt_br", "m365-copilot,fr").replace(
        ",Sales,sales,,", ",Sales,sales,chatgpt-enterprise,"
    )
    code, out, _ = run(capsys, "roster", "import", str(write(tmp_path, changed)), "--dry-run", "--db", db_url)
    assert code == 0 and "1 unchanged" in out and "2 updated" in out
    assert "  ~ Ana Silva" in out.splitlines() and "  ~ Cara Lee" in out.splitlines()
    assert people(engine)["U0ANA1"].locale == "pt-BR"

    # An empty cell clears what an earlier import set.
    cleared = ROSTER.replace("m365-copilot,pt_br", ",")
    code, out, _ = run(capsys, "roster", "import", str(write(tmp_path, cleared)), "--db", db_url)
    assert code == 0 and "1 updated" in out
    assert (people(engine)["U0ANA1"].tools, people(engine)["U0ANA1"].locale) == (None, None)


@pytest.mark.parametrize(
    ("tools", "locale", "reason"),
    [
        ("m365-copilt", "", "unknown tool 'm365-copilt' (did you mean 'm365-copilot'?)"),
        ("any", "", "tools: 'any' is not a tool; name the person's tools, or leave it empty"),
        (
            "gemini",
            "",
            "unknown tool 'gemini' (known tools: chatgpt-enterprise, m365-copilot)",
        ),
        ("", "German", "bad locale 'German' (use a language tag like de or pt-BR)"),
        ("", "de-DEU", "bad locale 'de-DEU' (use a language tag like de or pt-BR)"),
    ],
)
def test_a_bad_tool_or_locale_aborts_the_import(
    tools: str,
    locale: str,
    reason: str,
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = (
        HEADER
        + "U0ANA1,Ana Silva,Sales,sales,m365-copilot,de\n"
        + f"U0BEN2,Ben,Sales,sales,{tools},{locale}\n"
    )
    code, out, err = run(capsys, "roster", "import", str(write(tmp_path, text)), "--db", db_url)
    assert code == 2 and out == ""
    assert err == f"adoptbot: line 3: {reason}; nothing was imported.\n"
    assert people(engine) == {}


def test_the_csv_export_carries_tools_and_locale_back(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "roster", "import", str(write(tmp_path, ROSTER)), "--db", db_url)
    code, exported, _ = run(capsys, "roster", "list", "--format", "csv", "--db", db_url)
    assert code == 0 and "U0ANA1,,Ana Silva,Sales,sales,,,false,m365-copilot,pt-BR,true,,," in exported
    code, out, _ = run(
        capsys, "roster", "import", str(write(tmp_path, exported, "again.csv")), "--db", db_url
    )
    assert code == 0 and "0 added, 0 updated, 0 deactivated, 3 unchanged" in out


def test_sync_keeps_slacks_locale_apart_and_the_roster_wins(
    db_url: str,
    engine: Engine,
    tmp_path: Path,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", SLACK_BOT_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", fake_slack.url)
    run(capsys, "roster", "import", str(write(tmp_path, ROSTER)), "--db", db_url)
    fake_slack.add_user("U0ANA1", locale="es-ES")
    fake_slack.add_user("U0BEN2", locale="ja-JP")
    fake_slack.add_user("U0CAR3", locale="de-DE")
    code, out, err = run(capsys, "roster", "sync", "--db", db_url)
    assert (code, err) == (0, "") and "3 locales" in out
    assert any(c.method == "users.list" and c.params.get("include_locale") for c in fake_slack.calls)
    found = people(engine)
    assert {u: (p.locale, p.slack_locale) for u, p in found.items()} == {
        "U0ANA1": ("pt-BR", "es-ES"),
        "U0BEN2": ("de", "ja-JP"),
        "U0CAR3": (None, "de-DE"),
    }
    settings = Settings()
    assert {u: person_locale(p, settings) for u, p in found.items()} == {
        "U0ANA1": "pt-BR",  # the roster's, over Slack's
        "U0BEN2": "de",
        "U0CAR3": "de",  # Slack's de-DE: German is shipped, Germany's German is German
    }

    # Forgetting someone clears their tools and both locales.
    assert main(["forget", "U0ANA1", "--db", db_url]) == 0
    erased = next(p for p in people(engine).values() if p.erased_at is not None)
    assert (erased.tools, erased.locale, erased.slack_locale) == (None, None, None)


def test_person_locale_falls_back_to_the_language_then_the_setting() -> None:
    def locale_of(roster: str | None, slack: str | None, setting: str = "en") -> str:
        person = Person(locale=roster, slack_locale=slack)
        return person_locale(person, dataclasses.replace(Settings(), locale=setting))

    assert locale_of(None, None) == "en"
    assert locale_of(None, None, "fr") == "fr"
    assert locale_of(None, None, "fr-CA") == "fr"
    assert locale_of(None, None, "it") == "en"  # the setting names a language not shipped
    assert locale_of(None, "pt-BR") == "pt-BR"
    assert locale_of(None, "pt-PT", "es") == "es"  # no region is swapped for another: the setting
    assert locale_of("pt", None, "de") == "de"
    assert locale_of(None, "es-LA") == "es"
    assert locale_of("ja", "de-DE") == "ja"
    assert locale_of("it", "de-DE", "fr") == "fr"  # the roster chose; Italian is not shipped yet
    assert [shipped(t) for t in ("EN-us", "pt_br", "zz", "nonsense!")] == ["en", "pt-BR", None, None]


def test_the_locale_setting_is_a_tag_or_a_one_sentence_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert load_settings({}, env_file=None).locale == "en"
    assert load_settings({"ADOPTBOT_LOCALE": "pt_br"}, env_file=None).locale == "pt-BR"
    with pytest.raises(ConfigError) as caught:
        load_settings({"ADOPTBOT_LOCALE": "Deutsch"}, env_file=None)
    assert str(caught.value) == "ADOPTBOT_LOCALE must be a language tag like 'de' or 'pt-BR', not 'Deutsch'."
