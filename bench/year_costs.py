"""Per-cycle costs alone: navcycle's side of the year benchmark (no floor), whose figures
``bench/cycle_costs.py`` measures. Stored as its own entry, so a smaller year run for the costs
keeps the full-size year's comparison with its floor."""

from __future__ import annotations

from typing import Any

from bench.report import REPORT, Outcome, Row, say
from bench.year import navcycle_side, year_engines

NAME = "cycle_costs"


async def run(bases: int = 300, scale: float = 1.0, seed: int = 2026) -> Outcome:
    async with year_engines("navcycle-bench-costs-") as (root, nats_url, env):
        say(NAME, f"a program year of {bases} bases on the dev server, metered")
        nav, _, _ = await navcycle_side(env, nats_url, root, bases, scale, seed)
    costs: dict[str, Any] = nav.detail["per_cycle"]
    return Outcome(NAME, rows(costs), {**nav.detail, "wall_s": round(nav.wall_s, 1)})


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def rows(c: dict[str, Any]) -> list[Row]:
    head = f"per cycle ({c['bases']} bases)"
    return [
        Row(
            f"{head}: Temporal server CPU",
            f"{_ms(c['server_cpu_s'])} (launch {_ms(c['server_cpu_s_launch'])},"
            f" plan filing {_ms(c['server_cpu_s_plan_filings'])})",
            "-",
            REPORT,
            value=c["server_cpu_s"],
        ),
        Row(
            f"{head}: worker CPU",
            f"{_ms(c['worker_cpu_s'])} (whole process {_ms(c['worker_cpu_s_whole_process'])})",
            "-",
            REPORT,
            value=c["worker_cpu_s"],
        ),
        Row(
            f"{head}: history",
            f"{c['history_bytes'] / 1024:.1f} KiB, {c['history_events']:.0f} events",
            "-",
            REPORT,
            value=c["history_bytes"],
        ),
        Row(
            f"{head}: database rows, log events",
            f"{c['database_rows']:.1f} rows, {c['events']:.1f} events ({c['log_bytes']} B)",
            "-",
            REPORT,
            value=c["database_rows"],
        ),
    ]
