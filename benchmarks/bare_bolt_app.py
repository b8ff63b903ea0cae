"""A bare Bolt app, the yardstick for `benchmarks/ack_latency.py`: the slash command and the button the
benchmark sends, each answered with nothing but `ack()`. With `--open-modal` the button also opens a
modal after the ack (one prebuilt view, one views.open), like Adoptbot's button but without its own work
(database, permissions, building the view), which separates the cost of calling Slack from Adoptbot's.

It is served exactly like `adoptbot serve`: the same gunicorn settings (`bot.server.gunicorn_config`,
gthread), the same WSGI adapter (Bolt's `SlackRequestHandler`), the same size of Bolt listener pool,
the same lazy `auth.test`, the same signature checking. Only Adoptbot's own work is missing.

    SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=xoxb-... SLACK_API_URL=... \\
        python benchmarks/bare_bolt_app.py --port 3001 [--workers 2 --threads 8] [--open-modal]
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.server import (
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
    LISTENER_THREADS_PER_THREAD,
    HttpOptions,
    gunicorn_config,
    run_gunicorn,
)
from bot.slack import ids

COMMAND = "/adopt"
ACTION_ID = ids.OPEN_ROLE_MODAL  # the button the benchmark clicks


def _prebuilt_modal() -> dict[str, Any]:
    from bot.content import load_library
    from bot.people.blocks import role_modal
    from bot.people.profile import role_choices

    teams = [("1", "Benchmark team"), ("2", "Another team")]
    return role_modal(roles=role_choices(load_library()), teams=teams, current_role="sales", current_team="1")


def build_bare_app(threads: int, *, open_modal: bool = False) -> SlackRequestHandler:
    app = App(
        client=WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=threads * LISTENER_THREADS_PER_THREAD),
    )

    @app.command(COMMAND)
    def command(ack: Ack) -> None:
        ack()

    modal = _prebuilt_modal() if open_modal else None

    @app.action(ACTION_ID)
    def action(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        if modal is not None:
            client.views_open(trigger_id=body["trigger_id"], view=modal)

    return SlackRequestHandler(app)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    parser.add_argument(
        "--open-modal", action="store_true", help="the button also opens a modal after the ack"
    )
    args = parser.parse_args()
    options = HttpOptions(host=args.host, port=args.port, workers=args.workers, threads=args.threads)
    return run_gunicorn(
        gunicorn_config(options), lambda: build_bare_app(args.threads, open_modal=args.open_modal)
    )


if __name__ == "__main__":
    sys.exit(main())
