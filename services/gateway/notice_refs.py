"""Which stored notice a results request means, remembered for a few seconds.

An export request names a program year and a notice number, or none for the latest. Finding
the stored notice costs object store round trips (a ``stat`` per notice to find the latest);
under a crowd of anonymous requests those round trips, not the cached export, were most of each
request's cost and kept the event loop busy. The answer, the notice's number and the digest of
its stored bytes, is kept for ``REMEMBER_S``: shorter than the exports' ``max-age`` (60 s), so a
new 补充公示 shows within that time, and a crowd costs one lookup every few seconds. Concurrent
lookups of the same notice wait for one; a failed lookup (404, 503) is not remembered.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

REMEMBER_S = 5.0
MAX_ENTRIES = 256  # program years x notice numbers asked for


@dataclass(frozen=True)
class StoredNotice:
    number: int
    digest: str  # sha256 of the notice as stored: a notice stored again is another export


Key = tuple[str, int, int | None]


class NoticeRefs:
    def __init__(
        self,
        remember_s: float = REMEMBER_S,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if remember_s < 0 or max_entries < 1:
            raise ValueError("remember_s must be >= 0 and max_entries positive")
        self.remember_s, self.max_entries, self._clock = remember_s, max_entries, clock
        self.lookups = 0  # how many times the store was asked (tests and metrics read it)
        self._known: OrderedDict[Key, tuple[float, StoredNotice]] = OrderedDict()
        self._pending: dict[Key, asyncio.Task[StoredNotice]] = {}

    def known(self, program: str, year: int, number: int | None) -> StoredNotice | None:
        """The remembered answer, if still fresh: no I/O, no await."""
        found = self._known.get((program, year, number))
        if found is None or self._clock() - found[0] > self.remember_s:
            return None
        return found[1]

    async def get(
        self,
        program: str,
        year: int,
        number: int | None,
        look_up: Callable[[], Awaitable[StoredNotice]],
    ) -> StoredNotice:
        if (ref := self.known(program, year, number)) is not None:
            return ref
        key = (program, year, number)
        task = self._pending.get(key)
        if task is None:
            task = asyncio.create_task(self._look_up(key, look_up))
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)

    def forget(self, program: str, year: int) -> None:
        """Drop what is remembered of a program year (a notice was just published)."""
        for key in [k for k in self._known if k[:2] == (program, year)]:
            del self._known[key]

    async def _look_up(
        self, key: Key, look_up: Callable[[], Awaitable[StoredNotice]]
    ) -> StoredNotice:
        self.lookups += 1
        ref = await look_up()
        self._known[key] = (self._clock(), ref)
        self._known.move_to_end(key)
        if len(self._known) > self.max_entries:
            self._known.popitem(last=False)
        return ref
