"""Deadline rush: N bases file their 1 MB plans at the same moment, through the gateway of a whole
stack started by ``navcycle up`` (its own nats-server, Temporal dev server and every service, on
free ports, state in a temporary directory). Two floors: N concurrent updates to N waiting bare
workflows on the same Temporal server and storage (bench/floor_updates.py: what the engine
itself allows, compared by recorded rate and p99), and N concurrent puts of the same bytes into
the same object store the gateway writes to (shared/objectstore.py).

Every filing is one HTTP request as a base's browser would send it: bearer token, multipart file
and targets. The gateway authenticates, authorises through the registry, checks the stage with a
query, stores the bytes and starts the plan's Temporal update. Once the cycle has accepted it
(its validator ran; the filing is in the cycle's history) the gateway waits up to
``update_answer_wait_s`` for the cycle to record it (register the document with the filings
service, publish plan.filed, enter review): 201 with the receipt if it did, else 202 Accepted
with a Location to poll, the plan being recorded all the same.

Both 201 and 202 are successes. An error is any other answer (or none), and also a filing
answered 2xx whose update never completed: the zero-errors goal counts both. Reported: the
latency to the answer (p99 against the floor), and from each request to its plan being recorded
(the update's completion in the cycle's history), with where the time went (until accepted,
from accepted to completed) split by answer.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats
from temporalio.api.enums.v1 import EventType as HistoryEventType

from bench.floor_updates import UpdateFloor, update_floor
from bench.report import Goal, Outcome, Row, ratio, say
from bench.resources import CpuMeter
from bench.stats import summary_ms
from services.gateway.identity.tokens import Principal, add_user
from services.gateway.routes.cycles import ACCEPT_TIMEOUT
from services.sim.play import CITIES, wait_opened
from shared.contracts.workflow_names import cycle_id
from shared.db import make_engine
from shared.domain.rules import load_rules_file
from shared.embedded import free_port
from shared.eventlog import read_events
from shared.events.subjects import event_filter
from shared.objectstore import LocalObjectStore, sha256_hex
from shared.settings import DEPLOY_DIR, Settings
from shared.temporal import connect_temporal

NAME = "rush"
PROGRAM, YEAR = "bench-rush", 2026
TARGETS = json.dumps([{"key": "patents", "name": "新增发明专利", "target": 30, "unit": "件"}])
ZERO = Goal("zero")
_ACCEPTED = HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
_COMPLETED = HistoryEventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED
HTTP_TIMEOUT_S = 300.0  # long enough to see the real latency rather than a client timeout


@dataclass
class Stack:
    url: str
    nats_url: str
    state: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes]


def stack_env(state: Path, upload_max: int) -> dict[str, str]:
    return dict(
        os.environ,
        NAVCYCLE_STATE_DIR=str(state),
        NAVCYCLE_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        NAVCYCLE_TEMPORAL_UI_PORT=str(free_port()),
        NAVCYCLE_NATS_URL=f"nats://127.0.0.1:{free_port()}",
        NAVCYCLE_NATS_MONITOR_PORT=str(free_port()),
        NAVCYCLE_HTTP_PORT=str(free_port()),
        NAVCYCLE_UPLOAD_MAX_BYTES=str(upload_max),
        NAVCYCLE_LOG_FORMAT="json",
    )


def launch_up(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli.main", "up"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def stack_up(state: Path, upload_max: int) -> Stack:
    env = stack_env(state, upload_max)
    proc = launch_up(env)
    assert proc.stdout is not None
    deadline, output = time.monotonic() + 240, []
    while time.monotonic() < deadline:
        line = (await asyncio.to_thread(proc.stdout.readline)).decode()
        output.append(line)
        if "navcycle is up" in line:
            # Keep draining its output, so a full pipe never blocks the stack.
            asyncio.get_running_loop().run_in_executor(None, proc.stdout.read)
            url = f"http://127.0.0.1:{env['NAVCYCLE_HTTP_PORT']}"
            # navcycle up's nats-server has users: the bench connects as its operator.
            nats_url = Settings(state_dir=state, nats_url=env["NAVCYCLE_NATS_URL"]).nats_servers[0]
            return Stack(url, nats_url, state, env, proc)
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise RuntimeError("navcycle up did not come up:\n" + "".join(output[-30:]))


async def stack_down(stack: Stack) -> None:
    if stack.proc.poll() is None:
        stack.proc.send_signal(signal.SIGINT)
        try:
            await asyncio.to_thread(stack.proc.wait, 90)
        except subprocess.TimeoutExpired:
            stack.proc.kill()


def cli_token(stack: Stack, name: str, role: str, **scope: str) -> str:
    """A user made with ``navcycle user add``, as an operator would."""
    argv = [sys.executable, "-m", "services.cli.main", "user", "add", "--name", name]
    argv += ["--role", role, *(a for k, v in scope.items() for a in (f"--{k}", v))]
    done = subprocess.run(argv, env=stack.env, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return done.stdout.strip().splitlines()[-1]


def base_tokens(stack: Stack, bases: list[str]) -> dict[str, str]:
    """One base_user per base, made by the same function ``navcycle user add`` calls (starting
    the CLI once per base would take minutes)."""
    engine = make_engine(Settings(state_dir=stack.state).database_url_for("gateway"))
    return {
        b: add_user(engine, Principal(name=f"{b}-staff", role="base_user", program=PROGRAM, base=b))
        for b in bases
    }


def rush_rules() -> dict[str, Any]:
    doc = load_rules_file(DEPLOY_DIR / "programs" / "demo-fast.yaml").model_dump(
        mode="json", by_alias=True
    )
    doc["id"] = PROGRAM
    doc["calendar"]["plan_window"] = "PT2H"  # the rush is well inside the window
    doc["eligibility"]["one_base_per_domain"] = False
    return doc


def registration(base: str, n: int) -> dict[str, Any]:
    return {
        "id": base,
        "name": f"{base} 专利导航服务基地",
        "region": CITIES[n % len(CITIES)],
        "domain": "新材料",
        "host_type": "园区",
        "staff": {"total": 12, "senior_full_time": 4},
        "pct_minimum_data": True,
    }


async def prepare(stack: Stack, bases: list[str]) -> dict[str, str]:
    token = await asyncio.to_thread(
        cli_token, stack, "bench-admin", "province_admin", program=PROGRAM
    )
    admin = {"Authorization": f"Bearer {token}"}
    # A launch needs a roster long enough for a review (409 roster_too_short otherwise).
    await asyncio.to_thread(cli_token, stack, "bench-expert", "expert", program=PROGRAM)
    api = f"/v1/programs/{PROGRAM}"
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as http:
        applied = await http.put(api, json=rush_rules(), headers=admin)
        applied.raise_for_status()
        gate = asyncio.Semaphore(8)

        async def register(n: int, base: str) -> None:
            async with gate:
                created = await http.post(f"{api}/bases", json=registration(base, n), headers=admin)
            if created.status_code != 201:
                raise RuntimeError(f"registering {base}: {created.status_code} {created.text}")

        await asyncio.gather(*(register(n, b) for n, b in enumerate(bases)))
        say(NAME, f"{len(bases)} bases registered; making their tokens")
        tokens = await asyncio.to_thread(base_tokens, stack, bases)
        launched = await http.post(f"{api}/years/{YEAR}/launch", headers=admin)
        launched.raise_for_status()
    nc = await nats.connect(stack.nats_url)
    try:
        await wait_opened(nc.jetstream(), PROGRAM, YEAR, len(bases))
    finally:
        await nc.close()
    return tokens


def documents(bases: list[str], size: int) -> dict[str, bytes]:
    """A distinct PDF of ``size`` bytes per base (the gateway checks the type from its bytes)."""
    out = {}
    for b in bases:
        head = f"%PDF-1.4\n% plan of {b}\n".encode()
        out[b] = head + os.urandom(size - len(head))
    return out


@dataclass
class Filing:
    base: str
    started_at: float  # wall clock (time.time()), to set against the cycle's history
    seconds: float
    status: int
    code: str


async def file_all(stack: Stack, tokens: dict[str, str], docs: dict[str, bytes]) -> list[Filing]:
    go = asyncio.Event()
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(HTTP_TIMEOUT_S)
    async with httpx.AsyncClient(base_url=stack.url, limits=limits, timeout=timeout) as http:

        async def one(base: str) -> Filing:
            await go.wait()
            started, started_at = time.monotonic(), time.time()
            try:
                resp = await http.post(
                    f"/v1/programs/{PROGRAM}/years/{YEAR}/bases/{base}/plan",
                    headers={"Authorization": f"Bearer {tokens[base]}"},
                    files={"file": ("实施方案.pdf", docs[base], "application/pdf")},
                    data={"targets": TARGETS},
                )
            except httpx.HTTPError as exc:
                elapsed = time.monotonic() - started
                return Filing(base, started_at, elapsed, 0, type(exc).__name__)
            code = "" if _success(resp.status_code) else _problem_code(resp)
            return Filing(base, started_at, time.monotonic() - started, resp.status_code, code)

        tasks = [asyncio.create_task(one(b)) for b in docs]
        await asyncio.sleep(0.5)  # every request ready to go
        go.set()
        return list(await asyncio.gather(*tasks))


def _success(status: int) -> bool:
    """Any 2xx: 201 recorded, 202 accepted by the cycle and recorded after the answer."""
    return 200 <= status < 300


def _problem_code(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("code", resp.status_code))
    except ValueError:
        return str(resp.status_code)


async def floor_puts(store: LocalObjectStore, docs: dict[str, bytes]) -> list[float]:
    go = asyncio.Event()

    async def one(base: str, data: bytes) -> float:
        await go.wait()
        started = time.monotonic()
        await store.put(f"bench-floor/{base}/{sha256_hex(data)}.pdf", data, "application/pdf")
        return time.monotonic() - started

    tasks = [asyncio.create_task(one(b, d)) for b, d in docs.items()]
    await asyncio.sleep(0.5)
    go.set()
    return list(await asyncio.gather(*tasks))


async def plans_recorded(stack: Stack, expected: int, since: datetime) -> dict[str, Any]:
    """How many plans the cycles recorded (waiting while more arrive), and when, in seconds
    after the rush began: also those whose request the gateway answered with an error."""
    nc = await nats.connect(stack.nats_url)
    subject = event_filter(PROGRAM, YEAR, event_type="plan.filed")
    try:
        events = await read_events(nc.jetstream(), subject)
        quiet_since = time.monotonic()
        while len(events) < expected and time.monotonic() - quiet_since < 30:
            await asyncio.sleep(2)
            more = await read_events(nc.jetstream(), subject)
            if len(more) > len(events):
                quiet_since = time.monotonic()
            events = more
    finally:
        await nc.close()
    at = sorted((e.time - since).total_seconds() for _, e in events)
    return {
        "count": len(events),
        "first_s": round(at[0], 2) if at else None,
        "median_s": round(at[len(at) // 2], 2) if at else None,
        "last_s": round(at[-1], 2) if at else None,
        "rate_per_s": round(len(at) / (at[-1] - at[0]), 2) if len(at) > 1 else None,
    }


@dataclass
class Timeline:
    """One filing's update in its cycle's history, in seconds after its request began."""

    filing: Filing
    accepted: float | None
    completed: float | None


async def update_timelines(
    stack: Stack, results: list[Filing], patience_s: float = 60
) -> list[Timeline]:
    """Each filing's update from its cycle's history. A plan is published (plan.filed) a
    workflow task or more before its update completes, so updates that were accepted, or
    answered 2xx, and have not completed yet are read again until they have, or until none
    completed for ``patience_s``: only then is one counted as never recorded."""
    client = await connect_temporal(stack.env["NAVCYCLE_TEMPORAL_ADDRESS"])
    gate = asyncio.Semaphore(8)

    async def one(f: Filing) -> Timeline:
        async with gate:
            history = await client.get_workflow_handle(
                cycle_id(PROGRAM, YEAR, f.base)
            ).fetch_history()
        accepted = completed = None
        for e in history.events:
            if e.event_type == _ACCEPTED and accepted is None:
                accepted = e.event_time.ToDatetime(UTC).timestamp() - f.started_at
            if e.event_type == _COMPLETED and completed is None:
                completed = e.event_time.ToDatetime(UTC).timestamp() - f.started_at
        return Timeline(f, accepted, completed)

    def unfinished(t: Timeline) -> bool:
        return t.completed is None and (t.accepted is not None or _success(t.filing.status))

    timelines = list(await asyncio.gather(*(one(f) for f in results)))
    progress_at = time.monotonic()
    while time.monotonic() - progress_at < patience_s:
        waiting = [n for n, t in enumerate(timelines) if unfinished(t)]
        if not waiting:
            break
        await asyncio.sleep(2)
        again = await asyncio.gather(*(one(timelines[n].filing) for n in waiting))
        for n, t in zip(waiting, again, strict=True):
            if t.completed is not None:
                progress_at = time.monotonic()
            timelines[n] = t
    return timelines


def timeline_figures(timelines: list[Timeline]) -> dict[str, Any]:
    """Where each request's time went, from its cycle's history: from the request to the
    update's acceptance by the workflow (authentication, authorisation, the stage query, the
    upload, waiting for the worker), and from acceptance to completion (the cycle recording the
    plan). Split by how the gateway answered."""
    out: dict[str, Any] = {}
    for label, keep in (
        ("answered_201", lambda s: s == 201),
        ("answered_202", lambda s: s == 202),
        ("answered_error", lambda s: not _success(s)),
    ):
        mine = [(t.accepted, t.completed) for t in timelines if keep(t.filing.status)]
        out[label] = {
            "requests": len(mine),
            "updates_completed": sum(1 for _, c in mine if c is not None),
            "until_accepted": summary_ms([a for a, _ in mine if a is not None]),
            "accepted_to_completed": summary_ms(
                [c - a for a, c in mine if a is not None and c is not None]
            ),
            "until_recorded": summary_ms([c for _, c in mine if c is not None]),
        }
    return out


async def run(filings: int = 500, size: int = 1_048_576) -> Outcome:
    bases = [f"r{n:04d}" for n in range(filings)]
    upload_max = max(Settings().upload_max_bytes, 2 * size)
    with tempfile.TemporaryDirectory(prefix="navcycle-bench-rush-") as tmp:
        state = Path(tmp) / "state"
        say(NAME, "starting the stack (navcycle up on free ports)")
        stack = await stack_up(state, upload_max)
        try:
            tokens = await prepare(stack, bases)
            # Before the rush, while the year's cycles wait quietly: after it the server is busy
            # with the cycles moving on, which would slow the floor, not navcycle.
            say(NAME, f"engine floor: {filings} updates to {filings} waiting bare workflows")
            client = await connect_temporal(stack.env["NAVCYCLE_TEMPORAL_ADDRESS"], "default")
            engine = await update_floor(client, filings)
            say(NAME, f"year launched, {filings} cycles open; {filings} filings of {size:,} bytes")
            docs = documents(bases, size)
            meter = CpuMeter("bench: HTTP clients")
            meter.start()
            started, started_at = time.monotonic(), datetime.now(UTC)
            results = await file_all(stack, tokens, docs)
            wall = time.monotonic() - started
            cpu = meter.stop()
            filed = await plans_recorded(stack, filings, started_at)
            timelines = await update_timelines(stack, results)
            say(NAME, "floor: the same bytes put straight into the object store")
            floor = await floor_puts(LocalObjectStore(Settings(state_dir=state).objects_dir), docs)
            logs = _log_tails(state)
        finally:
            await stack_down(stack)
    outcome = _outcome(filings, size, timelines, wall, filed, floor, logs)
    _engine_rows(outcome, timelines, engine)
    outcome.figures["navcycle"]["cpu_s_by_process"] = meter.by_process
    outcome.figures["navcycle"]["cpu_s"] = round(cpu, 1)
    outcome.figures["navcycle"]["update_timeline"] = timeline_figures(timelines)
    return outcome


def _engine_rows(outcome: Outcome, timelines: list[Timeline], engine: UpdateFloor) -> None:
    """navcycle's filings against the engine's floor: plans recorded per second over the rush
    (from the first request to the last plan recorded) and p99 until recorded."""
    completed = [t.completed for t in timelines if t.completed is not None]
    span = max(completed) if completed else math.nan
    nav_rate = len(completed) / span if completed else 0.0
    nav = summary_ms(completed)
    flo = summary_ms(engine.latencies_s)
    outcome.figures["engine_floor"] = {
        "updates": len(engine.latencies_s),
        "wall_s": round(engine.wall_s, 2),
        "recorded_per_s": round(engine.rate_per_s, 1),
        "latency": flo,
        "navcycle_recorded_per_s": round(nav_rate, 1),
    }
    outcome.rows[1:1] = [
        Row(
            "deadline rush: plans recorded per second vs bare updates on the same server",
            f"{nav_rate:,.1f}/s",
            f"{engine.rate_per_s:,.1f}/s",
            Goal("report"),
            ratio(nav_rate, engine.rate_per_s),
        ),
        Row(
            "deadline rush: p99 until recorded vs bare updates",
            f"{nav.get('p99_ms', math.nan) / 1000:,.2f} s",
            f"{flo['p99_ms'] / 1000:,.2f} s",
            Goal("report"),
            ratio(nav.get("p99_ms", math.nan), flo["p99_ms"]),
        ),
    ]


def _log_tails(state: Path) -> dict[str, list[str]]:
    """Warnings and errors the stack logged during the rush (for the report)."""
    out: dict[str, list[str]] = {}
    for path in sorted((state / "logs").glob("*.log")):
        lines = [
            line[:300]
            for line in path.read_text(errors="replace").splitlines()
            if '"level": "error"' in line or '"level": "warning"' in line or "Traceback" in line
        ]
        if lines:
            out[path.stem] = lines[-5:]
    return out


def _outcome(
    filings: int,
    size: int,
    timelines: list[Timeline],
    wall: float,
    filed: dict[str, Any],
    floor: list[float],
    logs: dict[str, list[str]],
) -> Outcome:
    results = [t.filing for t in timelines]
    refused = [r for r in results if not _success(r.status)]
    # Answered 201 or 202, yet the cycle never completed the update: a success that was not.
    unrecorded = [t.filing for t in timelines if _success(t.filing.status) and t.completed is None]
    errors = len(refused) + len(unrecorded)
    nav = summary_ms([r.seconds for r in results])
    recorded = summary_ms([t.completed for t in timelines if t.completed is not None])
    flo = summary_ms(floor)
    statuses = Counter(str(r.status) for r in results)
    say(
        NAME,
        f"answers {dict(statuses)}; p99 to the answer {nav['p99_ms'] / 1000:.1f} s, until"
        f" recorded {recorded.get('p99_ms', math.nan) / 1000:.1f} s; {errors} errors; floor p99"
        f" {flo['p99_ms']:.0f} ms",
    )
    figures: dict[str, Any] = {
        "filings": filings,
        "bytes_each": size,
        "navcycle": {
            "latency_all": nav,
            "latency_201": summary_ms([r.seconds for r in results if r.status == 201]),
            "latency_202": summary_ms([r.seconds for r in results if r.status == 202]),
            "until_recorded": recorded,
            "wall_s": round(wall, 2),
            "throughput_per_s": round(filings / wall, 1),
            "statuses": dict(statuses),
            "errors": errors,
            "errors_by_code": dict(Counter(r.code for r in refused)),
            "answered_2xx_never_recorded": [f.base for f in unrecorded],
            "plans_recorded": filed,
            "accept_timeout_s": ACCEPT_TIMEOUT.total_seconds(),
            "update_answer_wait_s": Settings().update_answer_wait_s,
        },
        "floor": {"latency": flo},
        "stack_log_warnings": logs,
    }
    answered = ", ".join(f"{n} × {s}" for s, n in sorted(statuses.items()))
    rows = [
        Row(
            f"deadline rush: p99 latency to the answer, {filings} × {size / 1_048_576:g} MB",
            f"{nav['p99_ms'] / 1000:,.2f} s",
            f"{flo['p99_ms'] / 1000:,.2f} s",
            Goal("report"),
            ratio(nav["p99_ms"], flo["p99_ms"]),
        ),
        Row(
            "deadline rush: p99 until the plan is recorded",
            f"{recorded['p99_ms'] / 1000:,.2f} s" if recorded["count"] else "none recorded",
            "-",
            Goal("report"),
        ),
        Row("deadline rush: answers", answered, "-", Goal("report")),
        Row(
            "deadline rush: errors (non-2xx, or 2xx never recorded)",
            f"{errors} of {filings}",
            "0",
            ZERO,
            value=errors,
        ),
    ]
    return Outcome(NAME, rows, figures)
