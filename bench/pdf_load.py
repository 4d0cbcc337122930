"""Filings under PDF load: plan filings through the gateway of ``navcycle up``, each either
alone (the floor) or while a crowd of 200 anonymous clients fetches the 公示 PDF at once.

The results of another year are published as the program year workflow publishes them: the
notice (1,000 bases) stored in the stack's object store, then its ``results.published`` event;
the dashboard projects it and the gateway renders the PDF in the background. Then the filings go
in pairs, one after another: one alone, then one sent as a burst of 200 GETs starts (each client
from an address of its own, 127.0.0.2 and up, so each keeps under the public rate limit as a
person would; the crowd in a process of its own), the next pair once the burst is answered.
Pairing the two kinds keeps whatever else the shared machine does from favouring either side.

Compared: the filings' p99 with the burst over without (the floor), each filing a separate base
of one program year. Also reported: the PDF answers (all 200, one ETag), the PDF latency, and how
many times the gateway rendered anything (its ``export.rendered`` log lines: exactly 1).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import queue
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import nats

from bench import rush
from bench.report import Goal, Outcome, Row, ratio, say
from bench.stats import summary_ms
from shared.contracts.results import ResultEntry, ResultsNotice, dump_results, results_key
from shared.events.envelope import new_event
from shared.events.payloads.results import ResultsPublished, StoredNotice
from shared.objectstore import LocalObjectStore
from shared.publisher import EventPublisher
from shared.settings import Settings

NAME = "pdf_load"
NOTICE_YEAR = rush.YEAR - 1  # a year with results and no cycles of the run
CLIENTS = 200
PLAN_BYTES = 64 * 1024
# The p99 of filings under a burst over the p99 of filings alone: the "barely moves".
# Measured on 2 cores shared with other test runs (load 5-7): 1.48x, 3.26x, 3.26x after the fix,
# 2.57x before it (render in the crowd's path, a read and a hash per request). Under that load
# a filing sent with a burst waits for the gateway to serve the 200 (p50 ~800 ms against
# ~300 ms alone, before and after alike): the goal is the issue's, not yet met there.
GOAL = Goal("max_ratio", 1.5)


def notice() -> ResultsNotice:
    return ResultsNotice(
        program=rush.PROGRAM,
        year=NOTICE_YEAR,
        program_name="专利导航服务基地",
        issuer="河南省知识产权局",
        published_at=datetime(rush.YEAR, 1, 5, 2, tzinfo=UTC),
        publication_period="5WD",
        entries=[
            ResultEntry(
                base=f"n{i:04d}",
                name=f"第{i}号基地",
                region="410100",
                domain="新材料",
                total=60 + i % 40,
                grade="pass",
            )
            for i in range(1000)
        ],
    )


async def publish(stack: rush.Stack) -> None:
    """Store the notice, then emit its ``results.published``, as the program year does."""
    objects = LocalObjectStore(Settings(state_dir=stack.state).objects_dir)
    stored = await objects.put(
        results_key(rush.PROGRAM, NOTICE_YEAR), dump_results(notice()), "application/json"
    )
    nc = await nats.connect(stack.nats_url)
    try:
        event = new_event(
            payload=ResultsPublished(
                results=StoredNotice(key=stored.key, sha256=stored.sha256, size=stored.size)
            ),
            program=rush.PROGRAM,
            year=NOTICE_YEAR,
            base=None,
            time=datetime.now(UTC),
            stream_key=f"year/{rush.PROGRAM}/{NOTICE_YEAR}@bench",
            sequence=1,
        )
        await EventPublisher(nc.jetstream()).publish(event)
    finally:
        await nc.close()


def renders(state: Path) -> int:
    """How many exports the gateway rendered (its ``export.rendered`` log lines)."""
    count = 0
    for path in (state / "logs").glob("*.log"):
        for line in path.read_text(errors="replace").splitlines():
            if '"export.rendered"' in line:
                count += 1
    return count


async def file_one(http: httpx.AsyncClient, token: str, base: str, plan: bytes) -> float:
    started = time.monotonic()
    resp = await http.post(
        f"/v1/programs/{rush.PROGRAM}/years/{rush.YEAR}/bases/{base}/plan",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": ("实施方案.pdf", plan, "application/pdf")},
        data={"targets": rush.TARGETS},
    )
    took = time.monotonic() - started
    if resp.status_code not in (201, 202):
        raise RuntimeError(f"filing of {base}: {resp.status_code} {resp.text[:200]}")
    return took


class Client:
    """One anonymous client on an address of its own: plain HTTP/1.1 GETs on one kept-alive
    connection (a few hundred bytes of parsing, far lighter than a full HTTP client, so the
    crowd takes as little of the shared cores as it can)."""

    def __init__(self, host: str, port: int, address: str) -> None:
        self.host, self.port, self.address = host, port, address
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, str, int]:
        """Status, ETag and body length; on a fresh connection if the kept one was closed (the
        server closes one idle for 5 s)."""
        try:
            return await self._get(path)
        except (asyncio.IncompleteReadError, ConnectionError):
            await self.close()
            return await self._get(path)

    async def _get(self, path: str) -> tuple[int, str, int]:
        if self._conn is None:
            self._conn = await asyncio.open_connection(
                self.host, self.port, local_addr=(self.address, 0)
            )
        reader, writer = self._conn
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(head[0].split()[1]), headers.get("etag", ""), len(body)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn[1].close()
            self._conn = None


async def _crowd(url: str, path: str, commands: Any, out: Any) -> None:
    host, port = url.removeprefix("http://").split(":")
    clients = [Client(host, int(port), f"127.0.0.{n + 2}") for n in range(CLIENTS)]
    statuses: Counter[int] = Counter()
    etags: set[str] = set()
    took: list[float] = []
    bursts = 0

    async def one(client: Client) -> None:
        started = time.monotonic()
        status, etag, _ = await client.get(path)
        took.append(time.monotonic() - started)
        statuses[status] += 1
        if status == 200:
            etags.add(etag)

    while await asyncio.to_thread(commands.get) == "burst":
        bursts += 1
        burst = asyncio.gather(*(one(c) for c in clients))
        out.put("started")
        await burst
        out.put("answered")
    await asyncio.gather(*(c.close() for c in clients))
    out.put({"statuses": dict(statuses), "etags": len(etags), "took": took, "bursts": bursts})


def crowd_process(url: str, path: str, commands: Any, out: Any) -> None:
    """The crowd in a process of its own: its clients never hold up the filings' client."""
    asyncio.run(_crowd(url, path, commands, out))


class Crowd:
    """The crowd's process, driven a burst at a time."""

    def __init__(self, url: str, path: str) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.commands, self.out = spawn.Queue(), spawn.Queue()
        self.proc = spawn.Process(target=crowd_process, args=(url, path, self.commands, self.out))
        self.proc.start()

    async def _next(self) -> Any:
        for _ in range(300):
            try:
                return await asyncio.to_thread(self.out.get, True, 1.0)
            except queue.Empty:
                if not self.proc.is_alive():
                    raise RuntimeError(
                        f"the crowd's process ended ({self.proc.exitcode})"
                    ) from None
        raise TimeoutError("the crowd did not answer within 300 s")

    async def start_burst(self) -> None:
        self.commands.put("burst")
        assert await self._next() == "started"

    async def answered(self) -> None:
        assert await self._next() == "answered"

    async def stop(self) -> dict[str, Any]:
        self.commands.put("stop")
        seen: dict[str, Any] = await self._next()
        await asyncio.to_thread(self.proc.join, 30)
        return seen

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()


async def run(filings: int = 60) -> Outcome:
    bases = [f"q{n:04d}" for n in range(2 * filings)]
    plan = b"%PDF-1.4\n% plan\n" + b"0" * PLAN_BYTES
    path = f"/v1/programs/{rush.PROGRAM}/years/{NOTICE_YEAR}/results?format=pdf"
    with tempfile.TemporaryDirectory(prefix="navcycle-bench-pdf-") as tmp:
        state = Path(tmp) / "state"
        say(NAME, "starting the stack (navcycle up on free ports)")
        stack = await rush.stack_up(state, max(Settings().upload_max_bytes, 2 * len(plan)))
        try:
            tokens = await rush.prepare(stack, bases)
            say(NAME, f"{len(bases)} cycles open; publishing the results of {NOTICE_YEAR}")
            await publish(stack)
            await asyncio.sleep(5)  # the publication reaches the gateway; it renders meanwhile
            crowd = Crowd(stack.url, path)
            try:
                await crowd.start_burst()  # connects the clients: not measured
                await crowd.answered()
                say(NAME, f"{filings} filings alone and {filings} under a burst, in pairs")
                quiet, loaded = [], []
                async with httpx.AsyncClient(base_url=stack.url, timeout=300) as http:
                    for alone, burst in zip(bases[:filings], bases[filings:], strict=True):
                        quiet.append(await file_one(http, tokens[alone], alone, plan))
                        await crowd.start_burst()
                        loaded.append(await file_one(http, tokens[burst], burst, plan))
                        await crowd.answered()
                seen = await crowd.stop()
            finally:
                crowd.kill()
            rendered = renders(state)
            logs = rush._log_tails(state)
        finally:
            await rush.stack_down(stack)
    return _outcome(filings, quiet, loaded, seen, rendered, logs)


def _outcome(
    filings: int,
    quiet: list[float],
    loaded: list[float],
    crowd: dict[str, Any],
    rendered: int,
    logs: dict[str, list[str]],
) -> Outcome:
    q, lo, pdf = summary_ms(quiet), summary_ms(loaded), summary_ms(crowd["took"])
    statuses: dict[int, int] = crowd["statuses"]
    requests, bursts = sum(statuses.values()), crowd["bursts"]
    not_ok = requests - statuses.get(200, 0)
    say(
        NAME,
        f"filings p99 {q['p99_ms']:.0f} ms alone, {lo['p99_ms']:.0f} ms under load "
        f"({requests} PDF requests in {bursts} bursts, {statuses}); "
        f"renders {rendered}",
    )
    rows = [
        Row(
            f"filings under PDF load: p99 of {filings} filings, each under {CLIENTS} PDF requests",
            f"{lo['p99_ms']:,.0f} ms",
            f"{q['p99_ms']:,.0f} ms (alone)",
            GOAL,
            ratio(lo["p99_ms"], q["p99_ms"]),
        ),
        Row(
            "filings under PDF load: PDF requests not answered 200",
            f"{not_ok} of {requests} ({bursts} bursts; p99 {pdf.get('p99_ms', 0):,.0f} ms)",
            "-",
            Goal("zero"),
            value=not_ok,
        ),
        Row(
            "filings under PDF load: renders beyond the one (renders - 1)",
            f"{rendered} rendered",
            "-",
            Goal("zero"),
            value=rendered - 1,
        ),
    ]
    figures: dict[str, Any] = {
        "filings": filings,
        "clients": CLIENTS,
        "navcycle": {
            "filings_loaded": lo,
            "pdf_requests": requests,
            "pdf_bursts": bursts,
            "pdf_statuses": {str(k): v for k, v in statuses.items()},
            "pdf_etags": crowd["etags"],
            "pdf_latency": pdf,
            "renders": rendered,
        },
        "floor": {"filings_quiet": q},
        "p99_ratio": ratio(lo["p99_ms"], q["p99_ms"]),
        "stack_log_warnings": json.loads(json.dumps(logs)),
    }
    return Outcome(NAME, rows, figures)
