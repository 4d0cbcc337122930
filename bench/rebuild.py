"""Projection rebuild: the dashboard's ``rebuild`` from sequence 1 of an event log of a real
year's shape (services/dashboard/rebuild.py, as ``navcycle dashboard rebuild`` runs it), into
a fresh, migrated SQLite database. The plain ordered read of the same log is reported alongside,
to show how much of the time is reading and parsing and how much is projecting and writing."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import nats
from nats.js import JetStreamContext

from bench.events import lifecycle
from bench.report import Goal, Outcome, Row, say
from services.dashboard.rebuild import ALL_EVENTS, rebuild
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from shared.db import make_engine
from shared.embedded import nats_server
from shared.eventlog import read_events
from shared.migrations import upgrade
from shared.settings import Settings
from shared.stream import ensure_events_stream

NAME = "rebuild"
GOAL = Goal("min_value", 10_000)
PROGRAM, YEAR = "bench-rebuild", 2026


async def fill(js: JetStreamContext, events: int, bases: int) -> float:
    """Publish the log (setup, not measured); returns the publish rate."""
    started = time.monotonic()
    for event in lifecycle(PROGRAM, YEAR, events, bases):
        await js.publish_async(
            event.nats_subject,
            event.to_json(),
            headers={"Nats-Msg-Id": event.id, "Content-Type": "application/cloudevents+json"},
        )
    await js.publish_async_completed()
    return events / (time.monotonic() - started)


async def run(events: int = 100_000, bases: int = 10_000) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="navcycle-bench-rebuild-") as tmp:
        root = Path(tmp)
        with nats_server(root / "nats") as nats_url:
            nc = await nats.connect(nats_url)
            js = nc.jetstream()
            await ensure_events_stream(js, Settings().event_duplicate_window_s)
            say(NAME, f"writing an event log of {events:,} events over {bases:,} cycles")
            fill_rate = await fill(js, events, bases)
            info = await js.stream_info("NAVCYCLE_EVENTS")
            engine = make_engine(f"sqlite:///{root / 'dashboard.db'}")
            upgrade(engine, DASHBOARD_MIGRATIONS)
            started = time.monotonic()
            read = await read_events(js, ALL_EVENTS, since_seq=1)
            read_rate = len(read) / (time.monotonic() - started)
            del read
            say(NAME, f"ordered read alone: {read_rate:,.0f} events/s; rebuilding")
            cpu = time.process_time()
            report = await rebuild(js, engine)
            cpu = time.process_time() - cpu
            await nc.close()
    say(NAME, f"rebuild: {report.events:,} events in {report.seconds:.1f} s")
    figures: dict[str, Any] = {
        "events": report.events,
        "skipped": report.skipped,
        "seconds": round(report.seconds, 2),
        "rate": round(report.rate, 1),
        "log_bytes": info.state.bytes,
        "cpu_s": round(cpu, 2),
        "rate_per_cpu_s": round(report.events / cpu, 1) if cpu else None,
        "read_only_rate": round(read_rate, 1),
        "fill_rate": round(fill_rate, 1),
        "database": "SQLite (WAL), migrated",
    }
    row = Row(
        "projection rebuild from sequence 1",
        f"{report.rate:,.0f} ev/s ({report.events:,} events)",
        f"(read alone {read_rate:,.0f} ev/s)",
        GOAL,
        value=round(report.rate, 1),
    )
    return Outcome(NAME, [row], figures)
