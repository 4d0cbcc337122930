"""Published exports made once and remembered by what they are, not by their bytes.

A published notice never changes (a later change is a new, numbered 补充公示), so its XLSX and PDF
are rendered once per notice and kept in the object store (:mod:`services.gateway.export_store`).
This cache remembers, per export, only where it is stored, its size and its ETag: a few hundred
bytes whatever the size of the rendering. The key (the object's key) carries a digest of the
notice as stored, so a notice stored again is rendered again rather than served stale. Concurrent
requests for the same export wait for the one lookup (and rendering) rather than starting their
own; an export already in the store (rendered by another gateway, or before a restart) is found
there, not rendered again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.logging import get_logger

log = get_logger("gateway")
MAX_ENTRIES = 64  # notices x formats; a bureau publishes a handful a year


@dataclass(frozen=True)
class Rendered:
    key: str  # the object's key in the store
    size: int  # bytes
    etag: str  # a strong ETag, quoted (the rendering's sha256)

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an ``If-None-Match`` header names this rendering (or is ``*``)."""
        return etag_matches(self.etag, if_none_match)


def etag_matches(etag: str, if_none_match: str | None) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (or is ``*``)."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


Find = Callable[[], Awaitable[Rendered | None]]
Render = Callable[[], Awaitable[Rendered]]


class ExportCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self.renders = 0  # how many times anything was rendered (tests and metrics read it)
        self._done: OrderedDict[str, Rendered] = OrderedDict()
        self._pending: dict[str, asyncio.Task[Rendered]] = {}

    @property
    def rendered(self) -> int:
        """How many exports are known (one being looked up or rendered is not counted)."""
        return len(self._done)

    async def get(self, key: str, find: Find, render: Render) -> Rendered:
        """The export under ``key``: remembered, else ``find`` in the store, else made by
        ``render`` (which must keep the rendering itself off the event loop)."""
        if (found := self._done.get(key)) is not None:
            self._done.move_to_end(key)
            return found
        task = self._pending.get(key)
        if task is None:
            # A task of its own: a requester that goes away does not cancel the others' wait.
            task = asyncio.create_task(self._make(key, find, render))
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)

    def forget(self, key: str) -> None:
        """Stop remembering ``key`` (its object went missing): the next request makes it again."""
        self._done.pop(key, None)

    async def _make(self, key: str, find: Find, render: Render) -> Rendered:
        made = await find()
        if made is None:
            self.renders += 1
            started = time.monotonic()
            made = await render()
            log.info(
                "export.rendered",
                export=key,
                bytes=made.size,
                seconds=round(time.monotonic() - started, 3),
            )
        self._done[key] = made
        if len(self._done) > self.max_entries:
            self._done.popitem(last=False)
        return made
