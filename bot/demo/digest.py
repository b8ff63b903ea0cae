"""`adoptbot demo`: the leaders' weekly digest, offline.

The digest section composes the digest of the report week (the last complete week) exactly as the weekly
job does (same `compose`, same Block Kit builder), with AI switched off whatever the environment says: the
demo never calls Slack or OpenAI. The week's latest pulse run has closed (bot.demo.pulses), so every output
shows that run and the CSV is what `adoptbot metrics --week` gives for the week on any later day. It
prints the org-wide digest as a terminal table and, when there is an output folder, writes there:

- `digest.json`: the exact Block Kit payload (`{"text": ..., "blocks": [...]}`) of the DM the leader of
  every team receives (the org-wide digest);
- `digest.png`: its 8-week trend chart;
- `metrics.csv`: the CSV attached to it (the `metrics` columns, one row per team and `*`).
"""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from bot.demo.context import DemoContext
from bot.digest import delivery as digest_delivery
from bot.digest.blocks import digest_message
from bot.digest.format import to_text
from bot.digest.service import ORGANISATION, Audience, DigestSource, compose
from bot.metrics.format import to_csv
from bot.models import Person

FILES = ("digest.json", "digest.png", "metrics.csv")


def digest_section(ctx: DemoContext) -> str:
    """The org-wide digest as the leader of every team gets it, and the files it is made of."""
    began = time.perf_counter()
    settings = digest_delivery.without_ai(ctx.settings)
    ctx.session.flush()
    source = DigestSource(ctx.session, settings, ctx.library, week_monday=ctx.report_week, now=ctx.now)
    sponsor = ctx.session.scalar(select(Person.name).where(Person.id == ctx.org_leader_id))
    audience = Audience(name=sponsor, team_ids=None, person_id=ctx.org_leader_id) if sponsor else ORGANISATION
    digest = compose(source, audience)
    leaders = len(digest_delivery.leaders(ctx.session, settings))
    ctx.progress(f"digest composed ({time.perf_counter() - began:.1f} s)")
    lines = [to_text(digest).rstrip()]
    lines.append(
        f"\n{leaders} leaders get their own digest (their teams only): adoptbot digest --db URL shows each."
    )
    if ctx.out_dir is not None:
        drawn = time.perf_counter()
        text, blocks = digest_message(digest, command=settings.command, mode="dm")
        (ctx.out_dir / "digest.json").write_text(
            json.dumps({"text": text, "blocks": blocks}, indent=2, ensure_ascii=False) + "\n"
        )
        (ctx.out_dir / "metrics.csv").write_text(to_csv(digest.csv_rows))
        (ctx.out_dir / "digest.png").write_bytes(digest_delivery.ChartCache().png(digest))
        ctx.progress(f"trend chart drawn ({time.perf_counter() - drawn:.1f} s)")
        lines.append(f"Wrote {', '.join(FILES)} to {ctx.out_dir}.")
    return "\n".join(lines)
