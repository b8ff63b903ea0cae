"""The bot's own words in each person's language: every string translated in every shipped catalog, the
template in step with the code, placeholders kept, and German / Japanese people reading their nudge DM
and pulse modal in their language while English people read exactly what they did before."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from sqlalchemy import Engine

from bot import i18n
from bot.config import SHIPPED_LOCALES, Settings
from bot.content import load_library
from bot.db import session_scope
from bot.outbox import drain
from bot.slack import ids
from bot.slack.client import make_web_client
from tests.support import signing
from tests.support.factories import add_person, add_team
from tests.support.fake_slack import FakeSlack
from tests.support.slack_app import SlackAppServer, wait_for
from tests.test_content import write_library
from tests.test_content_delivered_in_language import _nudge, _tick_and_send
from tests.test_content_locales import german
from tests.test_nudges_slack import TUESDAY_10_BERLIN
from tests.test_nudges_world import LONG_AGO, deliveries
from tests.test_pulses_slack import _click, _message, _open_and_send, _settings, _sheet, _submit

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = i18n.LOCALES_DIR / "adoptbot.pot"
TRANSLATED = [tag for tag in SHIPPED_LOCALES if tag != "en"]
PLACEHOLDER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}|%\([A-Za-z_][A-Za-z0-9_]*\)[sd]")


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _key(message: Message) -> tuple[str | None, str]:
    """(context, msgid) — the singular msgid for a plural entry."""
    msgid = message.id[0] if isinstance(message.id, tuple | list) else message.id
    return message.context, str(msgid)


def _entries(catalog: Catalog) -> dict[tuple[str | None, str], Message]:
    return {_key(m): m for m in catalog if m.id}


def test_every_shipped_language_but_english_has_a_catalog() -> None:
    assert TRANSLATED == ["de", "fr", "es", "ja", "pt-BR"]
    for tag in TRANSLATED:
        assert i18n.catalog_path(tag).is_file(), tag
    assert not i18n.catalog_path("en").exists()  # English is the source: msgid = the text


@pytest.mark.parametrize("tag", TRANSLATED)
def test_every_string_of_the_template_is_translated_and_not_fuzzy(tag: str) -> None:
    template = _entries(_read(TEMPLATE))
    assert len(template) > 40  # the nudge DM's and the pulse's own words
    catalog = _read(i18n.catalog_path(tag), tag.replace("-", "_"))
    translated = _entries(catalog)
    missing = sorted(key[1] for key in template if key not in translated)
    assert missing == [], f"{tag}: not in the catalog (run pybabel update): {missing}"
    for key, message in translated.items():
        if key not in template:
            continue
        assert not message.fuzzy, f"{tag}: fuzzy: {key[1]!r}"
        forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
        assert all(forms), f"{tag}: untranslated: {key[1]!r}"
        if isinstance(message.id, tuple | list):
            assert len(forms) == catalog.num_plurals, f"{tag}: plural forms of {key[1]!r}"


@pytest.mark.parametrize("tag", TRANSLATED)
def test_placeholders_are_the_same_in_the_english_and_the_translation(tag: str) -> None:
    for message in _read(i18n.catalog_path(tag), tag.replace("-", "_")):
        if not message.id:
            continue
        ids_ = message.id if isinstance(message.id, tuple | list) else (message.id,)
        wanted = set(PLACEHOLDER.findall(ids_[-1]))
        assert all(set(PLACEHOLDER.findall(i)) == wanted for i in ids_)
        forms = message.string if isinstance(message.string, tuple | list) else (message.string,)
        for form in forms:
            assert set(PLACEHOLDER.findall(form)) == wanted, f"{tag}: {message.id!r} -> {form!r}"


def test_the_template_is_up_to_date_with_the_code(tmp_path: Path) -> None:
    """What `pybabel extract -F babel.cfg -o bot/locales/adoptbot.pot bot` finds now is what the .pot has."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    fresh = Catalog(project="Adoptbot")
    for _filename, _line, msgid, _comments, context in extract_from_dir(
        ROOT / "bot", method_map, options_map
    ):
        fresh.add(msgid, context=context)
    extracted = tmp_path / "adoptbot.pot"
    with extracted.open("wb") as handle:
        write_po(handle, fresh, no_location=True, sort_output=True)
    now = {(m.context, str(m.id)) for m in _read(extracted) if m.id}
    kept = {(m.context, str(m.id)) for m in _read(TEMPLATE) if m.id}
    assert now - kept == set(), "new strings in the code: re-extract and pybabel update (see ARCHITECTURE.md)"
    assert kept - now == set(), "strings no longer in the code: re-extract and pybabel update"
    assert any("Tried it" in msgid for _ctx, msgid in now)


def test_the_language_is_context_local_and_plural_forms_follow_each_language() -> None:
    minutes = ("⏱ About {minutes} minute", "⏱ About {minutes} minutes")
    assert i18n.gettext("Tried it") == "Tried it"
    with i18n.use_language("de"):
        assert i18n.gettext("Tried it") == "Ausprobiert"
        assert i18n.ngettext(*minutes, 1).format(minutes=1) == "⏱ Etwa 1 Minute"
        assert i18n.ngettext(*minutes, 2).format(minutes=2) == "⏱ Etwa 2 Minuten"
        with i18n.use_language("ja"):
            assert i18n.gettext("Tried it") == "試しました"
            assert i18n.ngettext(*minutes, 2).format(minutes=2) == "⏱ 約2分"
        assert i18n.current_language() == "de"
        assert i18n.format_number(1234.5) == "1.234,5"
        assert i18n.format_day(date(2026, 3, 5)) == "Donnerstag, 5. März"
    with i18n.use_language("fr"):  # French: 0 and 1 are singular
        assert i18n.ngettext(*minutes, 0).format(minutes=0) == "⏱ Environ 0 minute"
    with i18n.use_language("pt-BR"):
        assert i18n.gettext("Share a win") == "Compartilhar uma conquista"
    with i18n.use_language("es-MX"):  # a region without its own catalog: the language's
        assert i18n.gettext("Not for me") == "No es para mí"
    with i18n.use_language("xx"):  # no catalog: English
        assert i18n.gettext("Tried it") == "Tried it"
        assert i18n.format_day(date(2026, 3, 5)) == "Thursday, March 5"
    assert i18n.current_language() == "en"
    assert i18n.format_day(date(2026, 3, 5)) == "Thursday 5 March"
    assert i18n.ngettext(*minutes, 1) == minutes[0] and i18n.ngettext(*minutes, 3) == minutes[1]


def _button_texts(blocks: list[dict[str, Any]] | None) -> list[str]:
    return [e["text"]["text"] for b in blocks or [] if b["type"] == "actions" for e in b.get("elements", [])]


def test_a_german_persons_nudge_dm_has_german_buttons_and_an_english_persons_is_unchanged(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    content = load_library(write_library(tmp_path, german()))
    with session_scope(engine) as session:
        team = add_team(session, "Sales EMEA")
        berlin = {"timezone": "Europe/Berlin", "team": team, "created_at": LONG_AGO}
        german_id = add_person(session, "UDE", locale="de", **berlin).id
        add_person(session, "UEN", locale="en", **berlin)
    _tick_and_send(engine, slack_settings, content, TUESDAY_10_BERLIN)

    de, en = _nudge(fake_slack, "UDE"), _nudge(fake_slack, "UEN")
    assert _button_texts(de.blocks) == [
        "Ausprobiert",
        "Nichts für mich",
        "Später erinnern",
        "Erfolg teilen",
        "👍 Hilfreich",
        "👎 Nicht hilfreich",
    ]
    assert _button_texts(en.blocks) == [
        "Tried it",
        "Not for me",
        "Remind me later",
        "Share a win",
        "👍 Helpful",
        "👎 Not helpful",
    ]
    de_text, en_text = json.dumps(de.blocks, ensure_ascii=False), json.dumps(en.blocks, ensure_ascii=False)
    assert "War dieser Impuls hilfreich?" in de_text and "Was this nudge useful?" not in de_text
    assert "Stufe 1 · Einstieg" in de_text and "Level 1 · Starter" in en_text
    assert "Was this nudge useful?" in en_text and "Ausprobiert" not in en_text

    # "Remind me later": the edited message confirms it in German, and keeps German rating buttons.
    later = next(
        e
        for b in de.blocks or []
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ids.NUDGE_LATER
    )
    with SlackAppServer(slack_settings, engine, content=content) as server:
        payload = signing.block_actions_payload(
            "UDE",
            ids.NUDGE_LATER,
            later["value"],
            {"type": "message", "ts": de.ts, "text": de.text, "blocks": de.blocks},
            channel_id=de.channel,
        )
        assert server.interact(payload)[0] == 200
        wait_for(lambda: deliveries(engine, german_id)[0].status == "later", what="the click")
    drain(engine, make_web_client(slack_settings), slack_settings)
    updated = fake_slack.message(de.channel, de.ts)
    assert updated is not None and updated.updates == 1
    texts = json.dumps(updated.blocks, ensure_ascii=False)
    assert "⏰ *Okay, später.* Dieser Impuls kommt als dein nächster wieder." in texts
    assert _button_texts(updated.blocks) == ["👍 Hilfreich", "👎 Nicht hilfreich"]


def test_a_japanese_persons_pulse_is_in_japanese_and_an_english_persons_is_unchanged(
    engine: Engine, slack_settings: Settings, fake_slack: FakeSlack
) -> None:
    settings = _settings(slack_settings)
    with session_scope(engine) as session:
        team = add_team(session, "Tokyo")
        add_person(session, "UJA", team=team, locale="ja")
        add_person(session, "UEN", team=team)
    _open_and_send(engine, settings)

    invitation, english = _message(fake_slack, "UJA"), _message(fake_slack, "UEN")
    assert _button_texts(invitation.blocks) == ["回答する（1分）"]
    assert _button_texts(english.blocks) == ["Answer (1 minute)"]
    assert (invitation.text or "").startswith("パルスサーベイ: ")
    assert (english.text or "").startswith("Pulse survey: ")
    assert "匿名: 結果は" in json.dumps(invitation.blocks, ensure_ascii=False)

    with SlackAppServer(settings, engine) as server:
        modal = _click(server, fake_slack, "UJA")  # a signed block_actions request, as Slack sends it
        assert modal["submit"]["text"] == "回答を送信" and modal["close"]["text"] == "キャンセル"
        assert modal["blocks"][0]["elements"][0]["text"].startswith("匿名: 結果は")
        empty = _submit(server, "UJA", modal, {})
        assert empty["response_action"] == "errors"
        assert set(empty["errors"].values()) == {"回答を選択してください。"}
        thanks = _submit(server, "UJA", modal, _sheet(4, 4, 3, 3, 4, 4, 2))
        assert thanks["view"]["title"]["text"] == "ありがとうございました"
        assert thanks["view"]["blocks"][0]["text"]["text"].startswith(
            "✅ ありがとうございます。回答を保存しました。"
        )

        modal = _click(server, fake_slack, "UEN")
        assert modal["submit"]["text"] == "Send answers" and modal["close"]["text"] == "Cancel"
        assert modal["blocks"][0]["elements"][0]["text"].startswith("Anonymous: results are only shown")
        thanks = _submit(server, "UEN", modal, _sheet(4, 4, 3, 3, 4, 4, 2))
        assert thanks["view"]["title"]["text"] == "Thank you"
        assert thanks["view"]["blocks"][0]["text"]["text"].startswith("✅ Thank you, your answers are saved.")
