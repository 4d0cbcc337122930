"""Published exports rendered once and served from memory with an ETag.

A published notice never changes (a later change is a new, numbered 补充公示), so its CSV, XLSX
and PDF are rendered once per notice and kept. The key also carries a digest of the notice as
stored, so a notice stored again is rendered again rather than served stale. Concurrent requests
for the same export wait for the one rendering rather than starting their own.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from shared.logging import get_logger

log = get_logger("gateway")
MAX_ENTRIES = 64  # notices x formats; a bureau publishes a handful a year


@dataclass(frozen=True)
class Rendered:
    body: bytes
    etag: str  # a strong ETag, quoted

    def matches(self, if_none_match: str | None) -> bool:
        """Whether an ``If-None-Match`` header names this rendering (or is ``*``)."""
        return etag_matches(self.etag, if_none_match)


def etag_matches(etag: str, if_none_match: str | None) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (or is ``*``)."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


class ExportCache:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be positive")
        self.max_entries = max_entries
        self.renders = 0  # how many times anything was rendered (tests and metrics read it)
        self._done: OrderedDict[tuple[str, ...], Rendered] = OrderedDict()
        self._pending: dict[tuple[str, ...], asyncio.Task[Rendered]] = {}

    @property
    def rendered(self) -> int:
        """How many exports are kept, rendered (a rendering under way is not counted)."""
        return len(self._done)

    async def get(self, key: tuple[str, ...], render: Callable[[], Awaitable[bytes]]) -> Rendered:
        """The export under ``key``, made by ``render`` the first time (which must keep the
        rendering itself off the event loop)."""
        if (found := self._done.get(key)) is not None:
            self._done.move_to_end(key)
            return found
        task = self._pending.get(key)
        if task is None:
            # A task of its own: a requester that goes away does not cancel the others' wait.
            task = asyncio.create_task(self._render(key, render))
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)

    async def _render(
        self, key: tuple[str, ...], render: Callable[[], Awaitable[bytes]]
    ) -> Rendered:
        self.renders += 1
        started = time.monotonic()
        body = await render()
        rendered = Rendered(body, f'"{hashlib.sha256(body).hexdigest()}"')
        log.info(
            "export.rendered",
            export="/".join(key[:4]),
            bytes=len(body),
            seconds=round(time.monotonic() - started, 3),
        )
        self._done[key] = rendered
        if len(self._done) > self.max_entries:
            self._done.popitem(last=False)
        return rendered
