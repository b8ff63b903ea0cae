"""Survey tallies of settled pulse runs, stored once instead of added up again every week.

A run's answers stop changing when it closes: a late answer is refused, and forgetting someone re-keys
their answer sheets and clears their comments but keeps the values. A day after the close (time for a
transaction that began before it to end) the run is *settled*: the close job (`store_settled`) adds up
its answers once, as `bot.metrics.sql.survey_tallies` does, and keeps the result in `pulse_tallies`.
Every later week's metrics, digests and dashboard pages read that row instead of the run's answers (half
a million at 100,000 people). Open runs, and settled ones the job has not reached yet, are added up from
the answers as before: the figures are the same either way.

What is stored is what the metrics start from before any anonymity rule: sums and counts per team, never
an answer. The rules (k, suppression) are applied on reading, so changing `ADOPTBOT_MIN_GROUP_SIZE`
needs nothing stored again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import insert_ignore
from bot.metrics import sql as metrics_sql
from bot.metrics.sql import SurveyTally, TeamKey
from bot.models import PulseRun, PulseTally

SETTLE = timedelta(days=1)  # after the close, before a run's tallies are stored
PER_TICK = 4  # runs stored by one close job at most (a big run takes about half a second)

RunTallies = dict[TeamKey, SurveyTally]


def run_tallies(session: Session, run_ids: Sequence[int]) -> dict[int, RunTallies]:
    """Per run and team, the survey tallies: stored ones read back, the others added up from the answers."""
    found: dict[int, RunTallies] = {}
    if not run_ids:
        return found
    query = select(PulseTally.run_id, PulseTally.tallies).where(PulseTally.run_id.in_(run_ids))
    for run_id, data in session.execute(query):
        found[run_id] = decode(data)
    missing = [run_id for run_id in run_ids if run_id not in found]
    if missing:
        counted = metrics_sql.survey_tallies(session, missing)
        found.update({run_id: counted.get(run_id, {}) for run_id in missing})
    return found


def store_settled(session: Session, now: datetime, *, limit: int | None = PER_TICK) -> list[int]:
    """Store the tallies of runs closed at least `SETTLE` before `now` that have none yet (oldest first,
    `limit` of them); return their ids. Safe in several instances at once: the first insert wins."""
    query = (
        select(PulseRun.id)
        .outerjoin(PulseTally, PulseTally.run_id == PulseRun.id)
        .where(
            PulseRun.closed_at.is_not(None), PulseRun.closed_at <= now - SETTLE, PulseTally.run_id.is_(None)
        )
        .order_by(PulseRun.closed_at, PulseRun.id)
    )
    if limit is not None:
        query = query.limit(limit)
    settled = list(session.scalars(query))
    if not settled:
        return []
    counted = metrics_sql.survey_tallies(session, settled)
    rows = [
        {"run_id": run_id, "tallies": encode(counted.get(run_id, {})), "created_at": now}
        for run_id in settled
    ]
    insert_ignore(session, PulseTally, rows)
    return settled


def encode(tallies: RunTallies) -> str:
    """JSON: a list of [team id or null, tally fields], in team order."""
    items = sorted(tallies.items(), key=lambda item: (item[0] is None, item[0] or 0))
    return json.dumps(
        [
            [
                team,
                tally.respondents,
                tally.stage_sum,
                tally.stage_count,
                tally.stage_people,
                tally.usage_answers,
                tally.usage_used,
            ]
            for team, tally in items
        ],
        separators=(",", ":"),
        sort_keys=True,
    )


def decode(data: str) -> RunTallies:
    return {
        team: SurveyTally(respondents, stage_sum, stage_count, stage_people, usage_answers, usage_used)
        for team, respondents, stage_sum, stage_count, stage_people, usage_answers, usage_used in json.loads(
            data
        )
    }
