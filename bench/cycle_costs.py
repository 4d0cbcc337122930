"""What one base's yearly cycle costs, measured over a program year of the year benchmark: the
Temporal server's CPU (in all, in the launch burst and in the plan filings), the worker's CPU,
the history bytes Temporal stores, the rows navcycle's databases gain and the events its log
gains. ``deploy/README.md``'s capacity arithmetic is built on these figures.

The worker runs in the benchmark process beside the play and the services, so its CPU is given
two ways: its own threads alone (the workflow code's threads and the SDK core's native threads:
a lower bound, since the activities run on the main thread with everything else) and the whole
process (an upper bound). The dashboard is not part of the year's play: its rows are those of a
rebuild of its projections from the year's log, as ``navcycle dashboard rebuild`` makes them.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

from nats.js import JetStreamContext

from bench.history_shapes import CycleShape
from bench.resources import cpu_seconds, descendants, process_name
from services.dashboard.rebuild import rebuild
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from shared.db import make_engine
from shared.migrations import upgrade
from shared.stream import EVENTS_STREAM

SERVICE_DATABASES = ("registry", "filings", "assessment")  # the SQLite files of the play
WORKER_THREADS = ("workflow code", "SDK core (native threads)")
LAUNCH, FILINGS = "opened", "plans"  # the play's phases that end the two bursts


def server_cpu_seconds() -> float:
    """CPU of the Temporal dev server(s) this process started."""
    return sum(cpu_seconds(p) for p in descendants(os.getpid()) if process_name(p) == "temporal")


def _thread_group(tid: int, names: dict[int | None, str]) -> str:
    if tid == os.getpid():
        return "main: play, activities, services' handlers"
    name = names.get(tid)
    if name is None:
        return WORKER_THREADS[1]
    if name.startswith("temporal_workflow_"):
        return WORKER_THREADS[0]
    if name.startswith("asyncio_"):
        return "to_thread pool: services' database calls, object store"
    return "other Python threads"


def thread_cpu_seconds() -> dict[str, float]:
    """This process's CPU by kind of thread; threads that ended are counted apart."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    pid = os.getpid()
    used: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        group = _thread_group(int(task.name), names)
        used[group] = used.get(group, 0.0) + cpu_seconds(f"{pid}/task/{task.name}")
    used["ended threads"] = max(0.0, cpu_seconds(pid) - sum(used.values()))
    return used


def sqlite_rows(path: Path) -> dict[str, int]:
    """Rows of every table of a SQLite file."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: int(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}


def service_rows(root: Path) -> dict[str, dict[str, int]]:
    return {name: sqlite_rows(root / f"{name}.db") for name in SERVICE_DATABASES}


async def dashboard_rows(js: JetStreamContext, root: Path) -> dict[str, int]:
    """The dashboard's rows for the log as it stands: its projections rebuilt from sequence 1."""
    path = root / "dashboard-rebuilt.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, DASHBOARD_MIGRATIONS)
    await rebuild(js, engine)
    engine.dispose()
    rows = sqlite_rows(path)
    return {t: n for t, n in rows.items() if not t.startswith("alembic_version")}


class Mark(NamedTuple):
    """At a phase's end, since the year began: seconds, and CPU seconds of the server, of the
    worker's threads and of the whole benchmark process."""

    seconds: float
    server: float
    worker: float
    process: float


def _worker(threads: dict[str, float]) -> float:
    return sum(threads.get(k, 0.0) for k in WORKER_THREADS)


def _minus(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after}


class CycleCosts:
    """Snapshots before the year, at the end of each of its phases, and after it."""

    def __init__(self, root: Path, js: JetStreamContext) -> None:
        self._root, self._js = root, js
        self._marks: dict[str, Mark] = {}

    async def start(self) -> None:
        info = await self._js.stream_info(EVENTS_STREAM)
        self._log = (info.state.messages, info.state.bytes)
        self._rows = service_rows(self._root)
        self._threads = thread_cpu_seconds()
        self._process = cpu_seconds(os.getpid())
        self._t0, self._server = time.monotonic(), server_cpu_seconds()

    def mark(self, phase: str) -> None:
        self._marks[phase] = Mark(
            time.monotonic() - self._t0,
            server_cpu_seconds() - self._server,
            _worker(_minus(thread_cpu_seconds(), self._threads)),
            cpu_seconds(os.getpid()) - self._process,
        )

    async def finish(self, cycles: list[CycleShape]) -> dict[str, Any]:
        """Per cycle, for the year's ``cycles`` (each base's, not the program year's)."""
        wall, server = time.monotonic() - self._t0, server_cpu_seconds() - self._server
        threads = _minus(thread_cpu_seconds(), self._threads)
        process = cpu_seconds(os.getpid()) - self._process
        info = await self._js.stream_info(EVENTS_STREAM)
        events = info.state.messages - self._log[0]
        log_bytes = info.state.bytes - self._log[1]
        before, after = self._rows, service_rows(self._root)
        rows = {
            db: {t: n - before[db].get(t, 0) for t, n in tables.items() if n != before[db].get(t)}
            for db, tables in after.items()
        }
        rows["dashboard (rebuilt from the log)"] = await dashboard_rows(self._js, self._root)
        return per_cycle(
            bases=len(cycles),
            wall=wall,
            server=server,
            marks=self._marks,
            threads=threads,
            process=process,
            events=events,
            log_bytes=log_bytes,
            rows=rows,
            cycles=cycles,
        )


def per_cycle(
    *,
    bases: int,
    wall: float,
    server: float,
    marks: dict[str, Mark],
    threads: dict[str, float],
    process: float,
    events: int,
    log_bytes: int,
    rows: dict[str, dict[str, int]],
    cycles: list[CycleShape],
) -> dict[str, Any]:
    def each(value: float, digits: int = 4) -> float:
        return round(value / bases, digits)

    launch = marks.get(LAUNCH, Mark(0.0, 0.0, 0.0, 0.0))
    filed = marks.get(FILINGS, launch)
    row_total = sum(n for tables in rows.values() for n in tables.values())
    history_bytes = sum(s.bytes for s in cycles)
    return {
        "bases": bases,
        "wall_s": round(wall, 1),
        "server_cpu_s": each(server),
        "server_cpu_s_launch": each(launch.server),
        "server_cpu_s_plan_filings": each(filed.server - launch.server),
        "launch_s": round(launch.seconds, 1),
        "plan_filings_s": round(filed.seconds - launch.seconds, 1),
        "worker_cpu_s": each(_worker(threads)),
        "worker_cpu_s_launch": each(launch.worker),
        "worker_cpu_s_plan_filings": each(filed.worker - launch.worker),
        "worker_cpu_s_whole_process": each(process),
        "process_cpu_s_by_thread": {k: round(v, 1) for k, v in threads.items()},
        "by_phase_end": {p: [round(x, 1) for x in m] for p, m in marks.items()},
        "history_bytes": round(history_bytes / len(cycles)) if cycles else None,
        "history_events": round(sum(s.events for s in cycles) / len(cycles), 1) if cycles else None,
        "histories_measured": len(cycles),
        "events": each(events, 2),
        "log_bytes": round(log_bytes / bases),
        "database_rows": each(row_total, 2),
        "database_rows_by_table": rows,
    }
