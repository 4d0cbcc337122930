"""The benchmark table and ``bench/results.json``: every figure, ratio, goal and verdict.

A benchmark returns one :class:`Outcome`: the rows it adds to the table and its detailed figures.
Results accumulate in the JSON file by benchmark, so ``--only`` updates one entry and keeps the
others (each entry carries the date it was measured).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

GoalKind = Literal["max_ratio", "min_ratio", "min_value", "zero", "report", "ran"]


@dataclass(frozen=True)
class Goal:
    """What a row must reach. Ratios are navcycle's figure over the floor's."""

    kind: GoalKind
    value: float = 0.0

    @property
    def text(self) -> str:
        return {
            "max_ratio": f"≤ {self.value:g}×",
            "min_ratio": f"≥ {self.value:g}×",
            "min_value": f"≥ {self.value:,.0f}",
            "zero": "0",
            "report": "(report)",
            "ran": "completes",
        }[self.kind]

    def met(self, ratio: float | None, value: float | None) -> bool | None:
        if self.kind == "report":
            return None
        if self.kind == "ran":
            return False  # only a benchmark that could not run has this goal
        if self.kind in ("max_ratio", "min_ratio"):
            if ratio is None:
                return False
            return ratio <= self.value if self.kind == "max_ratio" else ratio >= self.value
        if value is None:
            return False
        return value == 0 if self.kind == "zero" else value >= self.value


REPORT = Goal("report")
_STARTED = time.monotonic()


def say(benchmark: str, text: str) -> None:
    """A progress line on stderr, with the time since the run began."""
    elapsed = time.monotonic() - _STARTED
    print(f"[{elapsed:6.0f}s] {benchmark:<8} {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Row:
    benchmark: str
    navcycle: str
    floor: str
    goal: Goal
    ratio: float | None = None
    value: float | None = None  # the figure a value goal (min_value, zero) is checked on

    @property
    def met(self) -> bool | None:
        return self.goal.met(self.ratio, self.value)

    def as_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "navcycle": self.navcycle,
            "floor": self.floor,
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "value": self.value,
            "goal": {**asdict(self.goal), "text": self.goal.text},
            "met": self.met,
        }


@dataclass
class Outcome:
    name: str
    rows: list[Row]
    figures: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def ratio(navcycle: float, floor: float) -> float | None:
    return navcycle / floor if floor else None


def _verdict(met: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[met]


def table(rows: list[Row]) -> str:
    header = ("benchmark", "navcycle", "floor", "ratio", "goal", "met?")
    body = [
        (
            r.benchmark,
            r.navcycle,
            r.floor,
            "-" if r.ratio is None else f"{r.ratio:.2f}×",
            r.goal.text,
            _verdict(r.met),
        )
        for r in rows
    ]
    widths = [max(len(str(line[i])) for line in [header, *body]) for i in range(len(header))]

    def fmt(line: tuple[str, ...]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([fmt(header), rule, *(fmt(line) for line in body)])


def machine() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count() or 0
    memory_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "memory_mb": memory_kb // 1024,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
    }


def write_results(path: Path, outcomes: list[Outcome]) -> dict[str, Any]:
    """Merge this run's outcomes into ``path`` and return the whole document."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    document: dict[str, Any] = {}
    if path.exists():
        try:
            document = json.loads(path.read_text())
        except json.JSONDecodeError:
            document = {}
    info = machine()
    document.update(date=now, cpu_count=info["cpu_count"], machine=info)
    benchmarks = document.setdefault("benchmarks", {})
    for outcome in outcomes:
        benchmarks[outcome.name] = {
            "measured_at": now,
            "cpu_count": info["cpu_count"],
            "seconds": round(outcome.seconds, 1),
            "rows": [r.as_json() for r in outcome.rows],
            "figures": outcome.figures,
        }
    document["table"] = [row for b in benchmarks.values() for row in b.get("rows", [])]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    return document
