"""The same data gives byte-identical metrics JSON on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.db import create_db_engine
from bot.metrics.format import to_csv, to_json
from bot.metrics.service import compute_metrics
from tests.conftest import PG_SKIP, PG_URL, _truncate_all
from tests.test_metrics import WEEK, seed_reference_org, settings


@pytest.fixture
def both_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not PG_URL:
        pytest.skip(PG_SKIP)
    sqlite_path = tmp_path / "same.db"
    shutil.copy(request.getfixturevalue("_sqlite_template"), sqlite_path)
    pg_url = request.getfixturevalue("_pg_database")
    yield f"sqlite:///{sqlite_path}", pg_url
    _truncate_all(pg_url)


def _seed(session: Session) -> None:
    org = seed_reference_org(session)
    # Mixed-case names sort differently under PostgreSQL collations than under SQLite's binary order.
    run = org.runs[1]
    for name, value, n in (("alpha", 2, 3), ("Beta", 5, 4), ("Zed ops", 1, 2)):
        org.same(run, name, value, n)
    org.same(org.run(datetime(2026, 3, 5, 9)), "Beta", 4, 6)
    session.commit()


def test_sqlite_and_postgresql_give_identical_json_and_csv(both_urls: tuple[str, str]) -> None:
    outputs = []
    for url in both_urls:
        engine = create_db_engine(url)
        with Session(engine) as session:
            _seed(session)
            rows = compute_metrics(session, week_monday=WEEK, settings=settings(k=3, tz="Europe/Berlin"))
            outputs.append((to_json(rows), to_csv(rows)))
        engine.dispose()
    assert outputs[0] == outputs[1]
    assert '"team": "Zed ops"' in outputs[0][0] and '"suppressed": true' in outputs[0][0]
