"""CPU time and memory of this process and the servers it started, read from ``/proc``.

The Temporal dev server and nats-server run as children of the benchmark process (the dev
server is spawned by the Temporal core's threads, so children are looked up per thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = _children(pid)
    while todo:
        child = todo.pop()
        if child not in out:
            out.append(child)
            todo += _children(child)
    return out


def cpu_seconds(pid: int | str) -> float:
    """User plus system CPU of one live process (0 once it is gone), or of one thread, given
    as ``"<pid>/task/<tid>"``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def tree_cpu_seconds(pid: int | None = None) -> float:
    """CPU of a process and every live descendant."""
    root = pid or os.getpid()
    return cpu_seconds(root) + sum(cpu_seconds(p) for p in descendants(root))


def status_kb(pid: int, field: str) -> int:
    """A ``kB`` field of ``/proc/<pid>/status``: VmHWM (peak RSS), VmRSS."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def process_name(pid: int) -> str:
    """``gateway`` for ``navcycle serve gateway``, ``temporal`` for the dev server, and so on."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"
    words = [a.decode(errors="replace") for a in argv]
    if "serve" in words and words.index("serve") + 1 < len(words):
        return words[words.index("serve") + 1]
    if "up" in words and "services.cli.main" in words:
        return "navcycle up"
    return comm


class CpuMeter:
    """CPU used between start and stop by this process and each live descendant, by name."""

    def __init__(self, label: str = "bench") -> None:
        self._label = label  # what this process is, in the breakdown
        self._start: dict[int, float] = {}
        self.by_process: dict[str, float] = {}

    def start(self) -> None:
        root = os.getpid()
        self._start = {p: cpu_seconds(p) for p in [root, *descendants(root)]}

    def stop(self) -> float:
        root = os.getpid()
        used: dict[str, float] = {}
        for pid in [root, *descendants(root)]:
            name = self._label if pid == root else process_name(pid)
            spent = cpu_seconds(pid) - self._start.get(pid, 0.0)
            used[name] = round(used.get(name, 0.0) + spent, 1)
        self.by_process = used
        return sum(used.values())


@contextlib.asynccontextmanager
async def load_watch(into: dict[str, float], every_s: float = 5.0) -> AsyncIterator[None]:
    """Samples the 1-minute load average while the block runs (this benchmark's own processes
    included); the mean and maximum land in ``into``."""
    samples: list[float] = []

    async def sample() -> None:
        while True:
            samples.append(os.getloadavg()[0])
            await asyncio.sleep(every_s)

    task = asyncio.create_task(sample())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if samples:
            into.update(mean=round(sum(samples) / len(samples), 2), max=round(max(samples), 2))
