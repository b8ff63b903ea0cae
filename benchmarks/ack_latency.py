"""How fast Slack gets its ack from Adoptbot, against a bare Bolt app served the same way.

    python benchmarks/ack_latency.py [--requests 2000] [--concurrency 20] [--rounds 3]
                                     [--workers N --threads N] [--no-pin] [--db URL]

`--db URL` serves that database instead (one seeded with `adoptbot demo --db URL --members 100000 --teams
1000 --weeks 52`, say: the person who clicks joins its first team, and the role modal's team menu holds
its 1,000 teams), so the ack is measured against an organisation of that size.

What it does, all on loopback:
1. starts the fake Slack Web API (`python -m tests.support.fake_slack`) in its own process;
2. creates a temporary SQLite database with one person (team and role set, so `/adopt help` resolves them)
   and renders the profile section of their App Home, as Adoptbot does;
3. serves, all at once, `adoptbot serve --no-scheduler` (HTTP, gunicorn gthread, serve's default 2 workers
   x 8 threads) and `benchmarks/bare_bolt_app.py` twice (the same gunicorn settings, WSGI adapter and Bolt
   pool size): `bare`, whose listeners only ack, and `bare+modal`, whose button also opens the same modal
   after its ack;
4. pins the servers to one half of the CPUs and this client and the fake Slack to the other (`--no-pin`
   to share them all): in production Slack and its clients are not on the app's machine, and a client
   stealing the servers' CPU made every ratio noisier;
5. sends each server warm-up requests, then, round after round (the servers' order alternating), N
   requests signed exactly like Slack's from C client threads, each on its own keep-alive connection
   (http.client), and times each request from sending to the complete answer:
   - `/adopt help`: the product reads who is asking, checks what they may use and answers with the help;
   - a button click (block_actions on App Home's "Change role", with the button's value and the
     Home view as Slack sends them): the product acks, then opens the role modal (preset to what the
     Home shows, with the teams' menu) with views.open on the fake Slack, after the ack;
   each kind is measured saturated (clients send back to back: capacity) and paced (an open loop at
   --rate requests a second, far above what a large organisation sends: latency at a realistic load);
6. prints p50, p99, requests per second and, saturated, the servers' CPU time per request (from /proc:
   the figure least disturbed by whatever else the machine runs), and the ratio product / yardstick;
7. ends with the issue's goal (adoptbot at most 1.2x the bare app, p50 and p99), ratio by ratio: the
   median of the per-round ratios and their range across rounds, which shows how much of a difference
   is the machine's noise. For the button the goal is judged against `bare+modal`, the bare app doing
   what a click on that button must do; `bare` (ack only, no Web API call) is printed for reference: its
   gap to `bare+modal` is the price of calling Slack at all, which no app opening a modal avoids.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.slack import ids  # noqa: E402
from tests.support import signing  # noqa: E402

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
USER = "U0BENCH"
BUTTON = ids.OPEN_ROLE_MODAL  # App Home's "Change role" (the roster set the team)


@dataclass(frozen=True)
class Result:
    server: str
    kind: str
    load: str  # "saturated" (closed loop) or "paced" (open loop at --rate)
    p50_ms: float
    p99_ms: float
    per_second: float
    errors: int
    cpu_ms: float | None  # server processes' CPU time per request (Linux /proc), None elsewhere
    round: int = 0  # which round of --rounds measured it (servers alternate within a round)


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid` and its children (the gunicorn workers), from /proc."""
    try:
        children = subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
        ).stdout
        total = 0.0
        for each in [pid, *map(int, children.split())]:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return total


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early with code {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listening on port {port} after {timeout:.0f} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _seed(db_url: str, *, existing: bool = False) -> list[dict[str, Any]]:
    """One person with a team and a role; the profile section of their App Home, as Adoptbot renders it
    (its "Change role" button is the one the benchmark clicks). `existing`: a database seeded before
    (`--db`, e.g. by `adoptbot demo`): the person joins its first team, its teams fill the modal's menu."""
    from sqlalchemy import select

    from bot.config import load_settings
    from bot.content import load_library
    from bot.db import create_db_engine, session_scope
    from bot.migrate import upgrade
    from bot.models import Person, Team
    from bot.people.blocks import profile_section
    from bot.people.profile import profile_summary

    engine = create_db_engine(db_url)
    upgrade(engine)
    with session_scope(engine) as session:
        found = session.scalar(select(Team).order_by(Team.id).limit(1)) if existing else None
        team = found or Team(name="Benchmark team")
        if found is None:
            session.add_all([team, Team(name="Another team")])
        person = session.scalar(select(Person).where(Person.slack_user_id == USER))
        if person is None:
            person = Person(slack_user_id=USER, name="Bench Mark", team=team, role="sales", is_active=True)
            session.add(person)
        session.flush()
        summary = profile_summary(person, USER, load_settings(environ={}, env_file=None), load_library())
    engine.dispose()
    return profile_section(summary, command="/adopt")


def _requests(kind: str, count: int, home: list[dict[str, Any]]) -> list[tuple[bytes, dict[str, str]]]:
    """`count` requests of `kind`, signed in advance (timestamps stay valid for five minutes). A button
    click is sent as Slack sends it: the clicked button's value, and the Home view it sits in."""
    button = next(
        element
        for block in home
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == BUTTON
    )
    view = {"id": "V0HOME", "type": "home", "blocks": home}
    prepared = []
    for _ in range(count):
        if kind == "help":
            body = signing.slash_command_body("/adopt", "help", user_id=USER)
        else:
            payload = signing.block_actions_payload(
                USER, BUTTON, button.get("value"), view=view, block_id="home.profile"
            )
            body = signing.interactivity_body(payload)
        raw = body.encode()
        prepared.append((raw, signing.signed_headers(SECRET, raw)))
    return prepared


def _fire(
    port: int, prepared: list[tuple[bytes, dict[str, str]]], concurrency: int, rate: float | None = None
) -> tuple[list[float], float, int]:
    """Send every prepared request; (latencies in seconds, wall time, errors).

    Without `rate`, each client sends its next request as soon as the last is answered (the server is
    saturated). With `rate`, request i is due at start + i/rate and its latency counts from that moment,
    so a server falling behind shows as latency rather than as fewer requests sent.
    """
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    next_index = iter(range(len(prepared)))
    start_gate = threading.Barrier(concurrency + 1)
    started = [0.0]

    def client() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        failed = 0
        start_gate.wait()
        while True:
            with lock:
                index = next(next_index, None)
            if index is None:
                break
            body, headers = prepared[index]
            began = time.perf_counter()
            if rate is not None:
                due = started[0] + index / rate
                if due > began:
                    time.sleep(due - began)
                began = due
            try:
                connection.request("POST", "/slack/events", body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - began)
            failed += not ok
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    started[0] = time.perf_counter()
    start_gate.wait()
    began = started[0]
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - began, errors


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _measure(
    server: str,
    process: subprocess.Popen[bytes],
    port: int,
    kind: str,
    load: str,
    args: argparse.Namespace,
    round_: int,
) -> Result:
    count, rate = (args.requests, None) if load == "saturated" else (args.paced_requests, args.rate)
    prepared = _requests(kind, count, args.home)
    cpu_before = _cpu_seconds(process.pid)
    latencies, wall, errors = _fire(port, prepared, args.concurrency, rate)
    cpu_after = _cpu_seconds(process.pid)
    cpu = None  # paced runs are mostly idle time: only the saturated ones say what a request costs
    if rate is None and cpu_before is not None and cpu_after is not None:
        cpu = (cpu_after - cpu_before) / count * 1000
    return Result(
        server=server,
        kind=kind,
        load=load,
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        per_second=len(latencies) / wall,
        errors=errors,
        cpu_ms=cpu,
        round=round_,
    )


def _split_cpus(pin: bool) -> tuple[set[int] | None, set[int] | None]:
    """(the servers' CPUs, the client's and fake Slack's CPUs): two halves of what this process may use,
    or (None, None) when not pinning (asked not to, one CPU only, or no sched_setaffinity here)."""
    if not pin or not hasattr(os, "sched_getaffinity"):
        return None, None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None, None
    half = len(cpus) // 2
    return set(cpus[:half]), set(cpus[half:])


def _serve(
    command: list[str], env: dict[str, str], port: int, log: Path, cpus: set[int] | None
) -> subprocess.Popen[bytes]:
    def pin() -> None:
        if cpus is not None:
            os.sched_setaffinity(0, cpus)

    with log.open("ab") as sink:
        process = subprocess.Popen(command, env=env, cwd=log.parent, stdout=sink, stderr=sink, preexec_fn=pin)
    _wait_until_listening(port, process)
    return process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per saturated run")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second of the paced runs")
    parser.add_argument("--paced-requests", type=int, default=500, help="requests per paced run")
    parser.add_argument(
        "--rounds", type=int, default=3, help="measure every server this many times, alternating"
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn processes of every server")
    parser.add_argument("--threads", type=int, default=None, help="threads per process of every server")
    parser.add_argument(
        "--no-pin",
        dest="pin",
        action="store_false",
        help="let every process use every CPU (default: servers on one half of the CPUs, client and fake "
        "Slack on the other)",
    )
    parser.add_argument(
        "--db",
        help="serve this database (e.g. one seeded with 100,000 people by `adoptbot demo --db`) instead of "
        "a new SQLite file holding one person",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()

    server_cpus, client_cpus = _split_cpus(args.pin)
    if client_cpus is not None:
        os.sched_setaffinity(0, client_cpus)  # this process's client threads, and fake Slack, inherit it
    args.cpus = (server_cpus, client_cpus)
    work = Path(tempfile.mkdtemp(prefix="adoptbot-bench-"))
    fake = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_slack", "--port", "0"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert fake.stdout is not None
    api_url = fake.stdout.readline().strip()
    db_url = args.db or f"sqlite:///{work / 'bench.db'}"
    args.home = _seed(db_url, existing=bool(args.db))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ADOPTBOT_", "OPENAI_"))}
    env.update(
        SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api_url, PYTHONPATH=str(ROOT)
    )
    serve = [sys.executable, "-m", "bot", "serve", "--no-scheduler", "--host", "127.0.0.1", "--db", db_url]
    bare = [sys.executable, str(ROOT / "benchmarks" / "bare_bolt_app.py")]
    # (name, command without --port, request kinds measured)
    for option in ("workers", "threads"):
        if getattr(args, option) is not None:
            serve += [f"--{option}", str(getattr(args, option))]
            bare += [f"--{option}", str(getattr(args, option))]
    servers: list[tuple[str, list[str], list[str]]] = [
        (PRODUCT, serve, ["help", "button"]),
        (BARE, bare, ["help", "button"]),
        (BARE_MODAL, [*bare, "--open-modal"], ["button"]),
    ]
    results: list[Result] = []
    running: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        # Every server runs for the whole measurement (an idle one costs nothing), so each measurement of
        # Adoptbot sits right next to those of its yardsticks: the machine's drift hits all of them alike.
        for name, command, kinds in servers:
            port = _free_port()
            running[name] = (
                _serve([*command, "--port", str(port)], env, port, work / "servers.log", server_cpus),
                port,
            )
            for kind in kinds:
                _fire(port, _requests(kind, args.warmup, args.home), args.concurrency)
        for round_ in range(args.rounds):
            for kind in ("help", "button"):
                for load in ("saturated", "paced"):
                    order = [entry for entry in servers if kind in entry[2]]
                    for name, _command, _kinds in order if round_ % 2 == 0 else reversed(order):
                        process, port = running[name]
                        results.append(_measure(name, process, port, kind, load, args, round_))
    finally:
        for process, _port in running.values():
            _stop(process)
        fake.terminate()
        fake.wait(timeout=10)
    _report(results, args)
    return 0


PRODUCT, BARE, BARE_MODAL = "adoptbot", "bare", "bare+modal"
GOAL = 1.2  # issue 3: Adoptbot's ack latency at most 1.2x a bare Bolt app's, p50 and p99


def _ratios(results: list[Result], kind: str, load: str, yardstick: str) -> list[tuple[float, float]]:
    """(p50, p99) ratio adoptbot / yardstick of each round (both measured in the same round)."""
    mine = {(r.server, r.round): r for r in results if (r.kind, r.load) == (kind, load)}
    return [
        (product.p50_ms / other.p50_ms, product.p99_ms / other.p99_ms)
        for (server, round_), product in sorted(mine.items())
        if server == PRODUCT and (other := mine.get((yardstick, round_))) is not None
    ]


def _where(args: argparse.Namespace) -> str:
    servers, client = args.cpus
    if servers is None:
        return f"{os.cpu_count()} CPUs shared by servers, fake Slack and client."
    return f"Servers pinned to CPU {_cpu_list(servers)}, client and fake Slack to CPU {_cpu_list(client)}."


def _cpu_list(cpus: set[int]) -> str:
    return ",".join(map(str, sorted(cpus)))


def _report(results: list[Result], args: argparse.Namespace) -> None:
    def summary(server: str, kind: str, load: str) -> Result | None:
        mine = [r for r in results if (r.server, r.kind, r.load) == (server, kind, load)]
        if not mine:
            return None
        return Result(
            server,
            kind,
            load,
            statistics.median(r.p50_ms for r in mine),
            statistics.median(r.p99_ms for r in mine),
            statistics.median(r.per_second for r in mine),
            sum(r.errors for r in mine),
            statistics.median(r.cpu_ms for r in mine) if all(r.cpu_ms is not None for r in mine) else None,
        )

    print(
        f"saturated: {args.requests} signed requests, {args.concurrency} keep-alive clients back to back; "
        f"paced: {args.paced_requests} at {args.rate:g}/s. {args.rounds} round(s), medians. "
        f"gunicorn gthread {args.workers or 'default'} x {args.threads or 'default'}, "
        f"{'the database of --db' if args.db else 'SQLite'}. {_where(args)}"
    )
    print(
        f"{'request':<7} {'load':<9} {'server':<11} {'p50 ms':>7} {'p99 ms':>7} {'req/s':>7} "
        f"{'cpu ms':>7} {'errors':>6}"
    )
    table: list[Result] = []
    for kind in ("help", "button"):
        for load in ("saturated", "paced"):
            rows = [r for name in (PRODUCT, BARE, BARE_MODAL) if (r := summary(name, kind, load)) is not None]
            for row in rows:
                cpu = f"{row.cpu_ms:7.2f}" if row.cpu_ms is not None else f"{'-':>7}"
                print(
                    f"{kind:<7} {load:<9} {row.server:<11} {row.p50_ms:7.1f} {row.p99_ms:7.1f} "
                    f"{row.per_second:7.0f} {cpu} {row.errors:6d}"
                )
            product = rows[0]
            for yardstick in rows[1:]:
                p50 = product.p50_ms / yardstick.p50_ms
                p99 = product.p99_ms / yardstick.p99_ms
                throughput = yardstick.per_second / product.per_second
                label = "÷ " + yardstick.server
                cpu = (
                    f"{product.cpu_ms / yardstick.cpu_ms:6.2f}x"
                    if product.cpu_ms and yardstick.cpu_ms
                    else f"{'-':>7}"
                )
                print(f"{kind:<7} {load:<9} {label:<11} {p50:6.2f}x {p99:6.2f}x {throughput:6.2f}x {cpu}")
            table.extend(rows)
    print(
        "ratios: adoptbot / yardstick for p50, p99 and cpu, yardstick / adoptbot for req/s (> 1: adoptbot "
        "slower). cpu ms: the servers' CPU time per request, steadier than req/s on a busy machine"
    )
    _report_goal(results, args)
    if args.json:
        print(json.dumps([r.__dict__ for r in table], indent=2))


def _report_goal(results: list[Result], args: argparse.Namespace) -> None:
    """The issue's goal, ratio by ratio: the median of the per-round ratios, and their range."""
    print(
        f"\ngoal (issue 3): ack latency of adoptbot at most {GOAL:g}x that of a bare Bolt app doing the same "
        "for Slack, p50 and p99: `bare` for help (an ack), `bare+modal` for the button (an ack, then "
        "views.open). The button against `bare`, which calls no Web API, is shown for reference."
    )
    for kind, yardsticks in (("help", (BARE,)), ("button", (BARE_MODAL, BARE))):
        for load in ("saturated", "paced"):
            for yardstick in yardsticks:
                ratios = _ratios(results, kind, load, yardstick)
                if not ratios:
                    continue
                reference = kind == "button" and yardstick == BARE
                parts = []
                for name, values in (("p50", [r[0] for r in ratios]), ("p99", [r[1] for r in ratios])):
                    middle = statistics.median(values)
                    spread = f" (rounds {min(values):.2f}-{max(values):.2f})" if len(values) > 1 else ""
                    verdict = "" if reference else " met" if middle <= GOAL else " missed"
                    parts.append(f"{name} {middle:.2f}x{spread}{verdict}")
                note = "  (reference)" if reference else ""
                print(f"  {kind:<7} {load:<9} ÷ {yardstick:<11} " + "; ".join(parts) + note)


if __name__ == "__main__":
    sys.exit(main())
