"""Run the benchmarks, each against its floor in the same run; print one table and write
``bench/results.json``.

    python -m bench                      # everything at full size (make bench)
    python -m bench --only replay --only rebuild
    python -m bench --quick              # small sizes: a smoke run of every benchmark
    python -m bench --only year --bases 200

Benchmarks run one after another, each with its own servers, so none disturbs another.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from bench import memory, pdf_load, pipeline, rebuild, replay, rush, year, year_costs
from bench.report import Goal, Outcome, Row, say, table, write_results
from shared.logging import configure_logging
from shared.settings import WORKER_CACHED_WORKFLOWS

Runner = Callable[[argparse.Namespace], Coroutine[Any, Any, Outcome]]

BENCHMARKS: dict[str, Runner] = {
    "replay": lambda a: replay.run(repeat=a.replay_repeat),
    "rebuild": lambda a: rebuild.run(events=a.rebuild_events, bases=a.rebuild_events // 10),
    "pipeline": lambda a: pipeline.run(
        rate=a.rate, seconds=a.pipeline_seconds, flood_count=a.flood, floor_flood=a.floor_flood
    ),
    "rush": lambda a: rush.run(filings=a.filings, size=a.filing_bytes),
    "pdf_load": lambda a: pdf_load.run(filings=a.pdf_filings),
    "memory": lambda a: memory.run(cycles=a.memory_cycles),
    "memory_cached": lambda a: memory.run(
        cycles=a.memory_cycles, cache=a.memory_cycles, name="memory_cached"
    ),
    "year": lambda a: (
        year.floor_from(a.floor_from, cache=a.year_cache)
        if a.floor_from
        else year.run(
            bases=a.bases,
            scale=a.year_scale,
            cache=a.year_cache,
            partial=a.out.with_name(f"year_{a.bases}_navcycle.partial.json"),
        )
    ),
    "cycle_costs": lambda a: year_costs.run(bases=a.cost_bases, scale=a.year_scale),
}
QUICK = {
    "replay_repeat": 5,
    "rebuild_events": 20_000,
    "pipeline_seconds": 3,
    "flood": 500,
    "floor_flood": 20_000,
    "filings": 50,
    "pdf_filings": 20,
    "memory_cycles": 500,
    "bases": 50,
    "cost_bases": 30,
    "year_scale": 0.3,
}


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--only", action="append", choices=list(BENCHMARKS), help="repeatable")
    p.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results.json")
    p.add_argument("--bases", type=int, default=1000, help="year: bases in the program year")
    p.add_argument(
        "--year-cache",
        type=int,
        default=WORKER_CACHED_WORKFLOWS,
        help="year: both sides' workflow cache (NAVCYCLE_WORKER_CACHED_WORKFLOWS)",
    )
    p.add_argument(
        "--floor-from",
        type=Path,
        default=None,
        help="year: run only the floor, for navcycle's side kept in this partial file",
    )
    p.add_argument("--year-scale", type=float, default=1.0, help="year: stretch the calendar")
    p.add_argument("--cost-bases", type=int, default=300, help="cycle_costs: bases in its year")
    p.add_argument("--rate", type=float, default=500, help="pipeline: fixed events/s")
    p.add_argument("--pipeline-seconds", type=float, default=10, help="pipeline: at that rate")
    p.add_argument("--flood", type=int, default=30_000, help="pipeline: navcycle's flood")
    p.add_argument("--floor-flood", type=int, default=100_000, help="pipeline: floor's flood")
    p.add_argument("--filings", type=int, default=500, help="rush: concurrent plan filings")
    p.add_argument("--filing-bytes", type=int, default=1_048_576, help="rush: bytes each")
    p.add_argument("--pdf-filings", type=int, default=60, help="pdf_load: filings each way")
    p.add_argument("--replay-repeat", type=int, default=20, help="replay: passes over histories")
    p.add_argument("--rebuild-events", type=int, default=100_000, help="rebuild: log size")
    p.add_argument("--memory-cycles", type=int, default=10_000, help="memory: open cycles")
    args = p.parse_args(argv)
    if args.quick:
        defaults = {a.dest: a.default for a in p._actions}
        for key, value in QUICK.items():
            if getattr(args, key) == defaults[key]:
                setattr(args, key, value)
    return args


def failed(name: str, exc: BaseException) -> Outcome:
    text = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
    row = Row(name, f"FAILED ({text})", "-", Goal("ran"))
    return Outcome(name, [row], {"error": traceback.format_exception(exc)[-6:]})


async def told(name: str, benchmark: Awaitable[Outcome]) -> Outcome:
    """The benchmark, its failure said (with where) as it happens: ``asyncio.run`` then cancels
    the tasks left, which can hang for minutes on calls to a server that has gone."""
    try:
        return await benchmark
    except Exception as exc:
        say(name, f"failed: {type(exc).__name__}: {exc}")
        traceback.print_exc()
        raise


def run_one(name: str, args: argparse.Namespace) -> Outcome:
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    say(name, "starting")
    try:
        outcome = asyncio.run(told(name, BENCHMARKS[name](args)))
    except Exception as exc:
        outcome = failed(name, exc)
    outcome.seconds = time.monotonic() - started
    outcome.figures["load_avg_1m"] = {
        "before": round(load_before, 2),
        "after": round(os.getloadavg()[0], 2),
    }
    say(name, f"done in {outcome.seconds:.0f} s")
    return outcome


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    configure_logging("console", "WARNING")
    names = args.only or list(BENCHMARKS)
    outcomes = [run_one(name, args) for name in names]
    rows = [row for o in outcomes for row in o.rows]
    print()
    print(table(rows))
    write_results(args.out, outcomes)
    print(f"\nwritten to {args.out} ({os.cpu_count()} CPUs)")
    return 1 if any("error" in o.figures for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
