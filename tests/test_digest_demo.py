"""`adoptbot demo` ends with the leaders' digest: printed, and written as digest.json, digest.png and
metrics.csv, offline, within 20 seconds."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from matplotlib.image import imread

from bot.cli import main
from bot.metrics.service import FIELDS
from tests.support.fake_openai import FakeOpenAI
from tests.support.fake_slack import validate_blocks

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_demo_writes_the_digest_files_and_prints_the_digest(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_openai: FakeOpenAI,
) -> None:
    # Even with a key and a reachable model, the demo never calls out (nor Slack: there is no token).
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("OPENAI_BASE_URL", fake_openai.url)
    out_dir = tmp_path / "demo"

    code = main(["demo", "--out", str(out_dir)])
    captured = capsys.readouterr()

    assert code == 0, captured.err
    assert fake_openai.requests == []
    # digest.json: exactly the Block Kit payload a leader receives, valid for Slack.
    payload = json.loads((out_dir / "digest.json").read_text())
    assert set(payload) == {"text", "blocks"} and payload["text"].startswith("AI adoption digest, week ")
    assert validate_blocks(payload["blocks"]) == [] and len(payload["blocks"]) <= 50
    text = json.dumps(payload["blocks"], ensure_ascii=False)
    assert "⚠️ stuck" in text and "barrier *knowledge*" in text  # one team is stuck at knowledge
    assert "survey hidden" in text  # and one is too small to show
    # metrics.csv: the metrics columns, one row per team and the whole organisation.
    rows = list(csv.DictReader(io.StringIO((out_dir / "metrics.csv").read_text())))
    assert list(rows[0]) == list(FIELDS)
    assert len(rows) == 7 and rows[-1]["team"] == "*"
    hidden = [r for r in rows if r["suppressed"] == "true"]
    assert hidden and all(r["readiness"] == "" and r["usage_rate"] == "" for r in hidden)
    # digest.png: a real PNG at Slack's preview proportions.
    png = (out_dir / "digest.png").read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert imread(io.BytesIO(png), format="png").shape[:2] == (675, 1200)
    # The terminal: the digest as a table, the files, and how long it took.
    out = captured.out
    assert "Weekly digest (org-wide, last complete week)" in out
    assert re.search(r"^  Engaged\s+\d+%", out, re.MULTILINE)
    assert "(stuck)" in out and "hidden" in out
    assert f"Wrote digest.json, digest.png, metrics.csv to {out_dir}." in out
    [seconds] = re.findall(r"^Done in (\d+\.\d) s\.$", out, re.MULTILINE)
    assert float(seconds) < 20
    progress = captured.err.splitlines()
    assert all(line.startswith("demo: ") for line in progress)
    assert any(line.startswith("demo: digest composed (") for line in progress)


def test_with_a_database_and_no_folder_the_demo_prints_the_digest_and_writes_nothing(
    db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["demo", "--db", db_url, "--teams", "3", "--members", "30", "--weeks", "2"])
    out = capsys.readouterr().out

    assert code == 0
    assert "Weekly digest (org-wide, last complete week)" in out and "Wrote digest.json" not in out
    assert not any(tmp_path.glob("**/digest.*"))
