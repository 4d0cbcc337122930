"""The per-cycle arithmetic of the cost benchmark (bench/cycle_costs.py), the rows it counts in
a SQLite file, and how it tells the worker's threads from the rest of the process."""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

from bench.cycle_costs import Mark, per_cycle, sqlite_rows, thread_cpu_seconds
from bench.floor_models import Shape
from bench.history_shapes import CycleShape


def _cycle(events: int, size: int) -> CycleShape:
    return CycleShape(Shape(), [], events, size)


def test_costs_are_divided_by_the_cycles() -> None:
    costs = per_cycle(
        bases=4,
        wall=100.04,
        server=2.0,
        marks={
            "opened": Mark(5.0, 0.4, 0.04, 0.4),
            "plans": Mark(25.0, 1.2, 0.12, 1.6),
            "scores": Mark(60.0, 1.8, 0.6, 3.0),
        },
        threads={"workflow code": 0.6, "SDK core (native threads)": 0.2, "main": 3.0},
        process=4.0,
        events=50,
        log_bytes=40_000,
        rows={"filings": {"filings_documents": 9}, "dashboard": {"dashboard_cycles": 4}},
        cycles=[_cycle(150, 30_000), _cycle(160, 31_000), _cycle(140, 29_000), _cycle(150, 30_000)],
    )
    assert costs == {
        "bases": 4,
        "wall_s": 100.0,
        "server_cpu_s": 0.5,
        "server_cpu_s_launch": 0.1,
        "server_cpu_s_plan_filings": 0.2,
        "launch_s": 5.0,
        "plan_filings_s": 20.0,
        "worker_cpu_s": 0.2,
        "worker_cpu_s_launch": 0.01,
        "worker_cpu_s_plan_filings": 0.02,
        "worker_cpu_s_whole_process": 1.0,
        "process_cpu_s_by_thread": {
            "workflow code": 0.6,
            "SDK core (native threads)": 0.2,
            "main": 3.0,
        },
        "by_phase_end": {
            "opened": [5.0, 0.4, 0.0, 0.4],
            "plans": [25.0, 1.2, 0.1, 1.6],
            "scores": [60.0, 1.8, 0.6, 3.0],
        },
        "history_bytes": 30_000,
        "history_events": 150.0,
        "histories_measured": 4,
        "events": 12.5,
        "log_bytes": 10_000,
        "database_rows": 3.25,
        "database_rows_by_table": {
            "filings": {"filings_documents": 9},
            "dashboard": {"dashboard_cycles": 4},
        },
    }


def test_rows_are_counted_in_every_table(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE a (n INTEGER)")
        db.execute("CREATE TABLE b (n INTEGER)")
        db.executemany("INSERT INTO a VALUES (?)", [(1,), (2,), (3,)])
        db.commit()
    assert sqlite_rows(path) == {"a": 3, "b": 0}


def test_a_workflow_thread_is_told_from_the_main_thread() -> None:
    spun, done = threading.Event(), threading.Event()

    def spin() -> None:
        until = time.thread_time() + 0.3
        while time.thread_time() < until:
            pass
        spun.set()
        done.wait(10)  # alive while measured: an ended thread's CPU has no name

    thread = threading.Thread(target=spin, name="temporal_workflow_0")
    thread.start()
    try:
        assert spun.wait(10)
        used = thread_cpu_seconds()
    finally:
        done.set()
        thread.join()
    assert used["workflow code"] >= 0.25
    assert "main: play, activities, services' handlers" in used
