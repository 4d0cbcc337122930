"""Event pipeline: publish → projection updated, against nats-py's own floor on the same server.

navcycle's side: events published with :class:`EventPublisher` to NAVCYCLE_EVENTS; the dashboard
service (``navcycle serve dashboard``: SQLite, migrated, in its own process as deployed) applies
each one and publishes ``navcycle.projection.updated.<program>.<year>``; the lag is from the
publish call to that notice, both seen in this process. The floor: ``publish_async`` of the
same bytes and headers to a stream of the same configuration, read by an ordered consumer.

First a flood (the maximum sustained rate: messages through the whole way per second while it
has a backlog), then a fixed 500 events/s for some seconds (p50 and p99 lag), then the same at a
rate the dashboard keeps up with (half its sustained rate, at most 500/s) on both sides.

Last, the dashboard's writes of the flood alone (``bench.bulk_write``): the library paths it
uses against the hand-written ``BulkStatement`` it replaced, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from bench import bulk_write
from bench.events import lifecycle
from bench.report import REPORT, Goal, Outcome, Row, ratio, say
from bench.resources import cpu_seconds
from bench.servers import serve
from bench.stats import summary_ms
from shared.embedded import nats_server
from shared.events.envelope import CloudEvent
from shared.events.subjects import rpc_subject
from shared.publisher import EventPublisher
from shared.settings import Settings
from shared.stream import events_stream_config

NAME = "pipeline"
PROGRAM, YEAR = "bench-pipe", 2026
FLOOR_STREAM, FLOOR_SUBJECT = "BENCH_FLOOR", "bench.floor"
GOAL = Goal("min_ratio", 0.5)
FLOOD_IN_FLIGHT = 256
STALL_S = 60.0  # give up waiting when nothing arrives for this long


class Tracker:
    """Send and arrival times by message id."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.arrived: dict[str, float] = {}
        self._waiting: set[str] = set()
        self._done = asyncio.Event()
        self._last = time.monotonic()

    def send(self, key: str) -> None:
        self.sent[key] = time.monotonic()

    def arrive(self, key: str) -> None:
        if key in self.arrived:
            return
        self.arrived[key] = self._last = time.monotonic()
        if key in self._waiting:
            self._waiting.discard(key)
            if not self._waiting:
                self._done.set()

    async def wait_all(self, keys: list[str]) -> int:
        """Wait until every key arrived, or nothing arrived for STALL_S; the number missing."""
        self._waiting = {k for k in keys if k not in self.arrived}
        self._done.clear()
        while self._waiting:
            try:
                await asyncio.wait_for(self._done.wait(), 1.0)
            except TimeoutError:
                if time.monotonic() - self._last > STALL_S:
                    return len(self._waiting)
        return 0

    def lags(self, keys: list[str]) -> list[float]:
        return [self.arrived[k] - self.sent[k] for k in keys if k in self.arrived]

    def rate(self, keys: list[str]) -> float:
        """Messages through per second: first send to last arrival."""
        done = [self.arrived[k] for k in keys if k in self.arrived]
        if not done:
            return 0.0
        return len(done) / (max(done) - min(self.sent[k] for k in keys))


async def paced(
    rate: float, items: list[Any], send: Callable[[Any], Coroutine[Any, Any, None]]
) -> float:
    """Start ``send(item)`` at ``rate`` per second on a fixed schedule; the achieved rate."""
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    tasks: list[asyncio.Task[None]] = []
    for n, item in enumerate(items):
        delay = t0 + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(item)))
    started = loop.time() - t0
    await asyncio.gather(*tasks)
    return len(items) / started if started > 0 else 0.0


async def flood(items: Iterable[Any], send: Callable[[Any], Coroutine[Any, Any, None]]) -> None:
    """Send everything as fast as it goes, FLOOD_IN_FLIGHT at a time."""
    pending = iter(items)

    async def sender() -> None:
        for item in pending:  # one shared iterator: each item is taken once
            await send(item)

    await asyncio.gather(*(sender() for _ in range(FLOOD_IN_FLIGHT)))


@dataclass
class Side:
    """One way through: how to make messages, send them, and see them arrive."""

    label: str
    make: Callable[[str, int], list[Any]]  # (tag, count) -> messages
    key: Callable[[Any], str]
    send: Callable[[Any], Coroutine[Any, Any, None]]
    tracker: Tracker
    consumer_cpu: Callable[[], float]  # CPU seconds of the process that applies messages


async def measure(side: Side, rate: float, seconds: float, flood_count: int) -> dict[str, Any]:
    """The flood first (the sustained rate), then ``rate`` for ``seconds`` (the lag)."""
    warm = side.make("warm", 100)
    await flood(warm, side.send)
    await side.tracker.wait_all([side.key(m) for m in warm])

    burst = side.make("flood", flood_count)
    say(NAME, f"{side.label}: flood of {flood_count:,}")
    cpu0 = side.consumer_cpu()
    await flood(burst, side.send)
    flood_missing = await side.tracker.wait_all([side.key(m) for m in burst])
    cpu = side.consumer_cpu() - cpu0
    sustained = side.tracker.rate([side.key(m) for m in burst])
    say(NAME, f"{side.label}: {sustained:,.0f}/s sustained")
    out: dict[str, Any] = {
        "flood": {"messages": flood_count, "missing": flood_missing},
        "sustained_rate": round(sustained, 1),
        "consumer_cpu_ms_per_message": round(1000 * cpu / max(1, flood_count), 3),
    }
    out["paced"] = await paced_lag(side, "paced", rate, seconds)
    return out


async def paced_lag(side: Side, tag: str, rate: float, seconds: float) -> dict[str, Any]:
    messages = side.make(tag, max(1, int(rate * seconds)))
    say(NAME, f"{side.label}: {len(messages):,} at {rate:,.0f}/s")
    achieved = await paced(rate, messages, side.send)
    keys = [side.key(m) for m in messages]
    missing = await side.tracker.wait_all(keys)
    lag = summary_ms(side.tracker.lags(keys))
    say(NAME, f"{side.label}: lag p50 {lag.get('p50_ms')} ms, p99 {lag.get('p99_ms')} ms")
    return {
        "rate_asked": rate,
        "rate_achieved": round(achieved, 1),
        "messages": len(messages),
        "missing": missing,
        "lag": lag,
    }


# ---------------------------------------------------------------- navcycle: the dashboard


def start_dashboard(
    nats_url: str, state: Path
) -> AbstractAsyncContextManager[subprocess.Popen[bytes]]:
    """``navcycle serve dashboard``: SQLite in ``state``, migrated on start, as deployed."""
    return serve("dashboard", state, nats_url=nats_url)


async def wait_healthy(nc: NatsClient, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(240):
        if proc.poll() is not None:
            raise RuntimeError(f"the dashboard service exited with {proc.returncode}")
        try:
            await nc.request(rpc_subject("dashboard", "health"), b"{}", timeout=0.5)
            return
        except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
            await asyncio.sleep(0.25)
    raise TimeoutError("the dashboard service did not answer its health check")


async def navcycle_way(nc: NatsClient, js: JetStreamContext, dashboard: int) -> Side:
    tracker = Tracker()
    publisher = EventPublisher(js)

    async def on_note(msg: Msg) -> None:
        # A dashboard's listener needs only the ids: plain JSON, as light as the floor's header.
        for applied in json.loads(msg.data)["events"]:
            tracker.arrive(applied["event_id"])

    async def send(event: CloudEvent) -> None:
        tracker.send(event.id)
        await publisher.publish(event)

    await nc.subscribe(f"navcycle.projection.updated.{PROGRAM}.>", cb=on_note)
    return Side(
        "navcycle",
        lambda tag, n: list(lifecycle(PROGRAM, YEAR, n, 1000, tag=f"-{tag}")),
        lambda e: str(e.id),
        send,
        tracker,
        lambda: cpu_seconds(dashboard),
    )


# ---------------------------------------------------------------- the floor: nats-py alone


async def floor_way(js: JetStreamContext) -> Side:
    config = dataclasses.replace(
        events_stream_config(Settings().event_duplicate_window_s),
        name=FLOOR_STREAM,
        subjects=[f"{FLOOR_SUBJECT}.>"],
        description="benchmark floor",
    )
    await js.add_stream(config)
    tracker = Tracker()

    async def on_msg(msg: Msg) -> None:
        tracker.arrive((msg.headers or {})["Nats-Msg-Id"])

    await js.subscribe(f"{FLOOR_SUBJECT}.>", stream=FLOOR_STREAM, ordered_consumer=True, cb=on_msg)

    def make(tag: str, n: int) -> list[tuple[str, str, bytes]]:
        # The same CloudEvents bytes and headers as navcycle's side, serialised beforehand.
        return [
            (e.id, e.nats_subject.replace("navcycle.events", FLOOR_SUBJECT, 1), e.to_json())
            for e in lifecycle(PROGRAM, YEAR, n, 1000, tag=f"-floor-{tag}")
        ]

    async def send(item: tuple[str, str, bytes]) -> None:
        key, subject, payload = item
        tracker.send(key)
        headers = {"Nats-Msg-Id": key, "Content-Type": "application/cloudevents+json"}
        await js.publish_async(subject, payload, headers=headers)

    return Side("floor", make, lambda m: str(m[0]), send, tracker, time.process_time)


# ---------------------------------------------------------------- the benchmark


async def run(
    rate: float = 500, seconds: float = 10, flood_count: int = 30_000, floor_flood: int = 100_000
) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="navcycle-bench-pipe-") as tmp:
        root = Path(tmp)
        with nats_server(root / "nats") as nats_url:
            nc = await nats.connect(nats_url)
            js = nc.jetstream()
            async with start_dashboard(nats_url, root / "state") as proc:
                await wait_healthy(nc, proc)
                say(NAME, "dashboard service up (its own process, SQLite)")
                nav_side = await navcycle_way(nc, js, proc.pid)
                nav = await measure(nav_side, rate, seconds, flood_count)
                # Also the lag at a rate the dashboard keeps up with, if 500/s is beyond it.
                easy = min(rate, max(5.0, 0.5 * nav["sustained_rate"]))
                nav["easy"] = await paced_lag(nav_side, "easy", easy, seconds)
            floor_side = await floor_way(js)
            floor = await measure(floor_side, rate, seconds, floor_flood)
            floor["easy"] = await paced_lag(floor_side, "easy", easy, seconds)
            await nc.close()
    say(NAME, f"the projection's writes of {flood_count:,} events, every way")
    writes = await asyncio.to_thread(bulk_write.run, events=flood_count)
    outcome = _outcome(rate, nav, floor)
    outcome.rows.extend(bulk_write.rows(writes))
    outcome.figures["bulk_write"] = writes
    return outcome


def _outcome(rate: float, nav: dict[str, Any], floor: dict[str, Any]) -> Outcome:
    rows = []
    for phase, at in (("paced", f"{rate:,.0f}/s"), ("easy", f"{nav['easy']['rate_asked']:,.0f}/s")):
        for p in ("p50", "p99"):
            n = nav[phase]["lag"].get(f"{p}_ms", 0.0)
            f = floor[phase]["lag"].get(f"{p}_ms", 0.0)
            rows.append(
                Row(
                    f"event pipeline: {p} lag at {at}",
                    f"{n:,.1f} ms",
                    f"{f:,.1f} ms",
                    REPORT,
                    ratio(n, f),
                )
            )
    n_rate, f_rate = nav["sustained_rate"], floor["sustained_rate"]
    rows.append(
        Row(
            "event pipeline: max sustained rate",
            f"{n_rate:,.0f} ev/s",
            f"{f_rate:,.0f} msg/s",
            GOAL,
            ratio(n_rate, f_rate),
        )
    )
    return Outcome(NAME, rows, {"navcycle": nav, "floor": floor})
