"""CPU-heavy rendering (the PDF notice, the spreadsheets) in a worker process.

A thread keeps the work off the event loop but not off the interpreter lock: a pure-Python
renderer in a thread still slows every request the loop serves. One spawned process (started on
first use, so a gateway that never renders never starts it) takes the work away entirely.

On a small machine that process still competes for a core with the requests the gateway serves,
so it runs at a lower priority (``os.nice``): a rendering takes what the event loop leaves over.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
WORKERS = 1  # renderings are rare (once per notice and format): one process is enough
NICE = 10  # added to the render process's niceness: below the gateway's requests

_pool: ProcessPoolExecutor | None = None


def _lower_priority() -> None:
    """In the render process, before any rendering: yield the CPU to the gateway."""
    with contextlib.suppress(OSError):  # not permitted here: render at the same priority
        os.nice(NICE)


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, not fork: the gateway runs threads, which a forked child would inherit broken.
        _pool = ProcessPoolExecutor(
            WORKERS,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_lower_priority,
        )
    return _pool


async def render_off_loop(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the render process (``fn`` and its arguments must pickle)."""
    global _pool
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), fn, *args)
    except BrokenProcessPool:
        _pool = None  # the process died (killed, out of memory): the next call starts another
        raise
