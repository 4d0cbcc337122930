"""An in-process sliding-window limit per key (a client address), bounded in memory.

Enough for one gateway process to keep an anonymous client from flooding a public form; several
gateway replicas each keep their own count, so the effective limit is per replica.
"""

from __future__ import annotations

from collections import OrderedDict, deque


class SlidingWindow:
    def __init__(self, limit: int, window_s: float, max_keys: int = 10_000) -> None:
        if limit < 1 or window_s <= 0 or max_keys < 1:
            raise ValueError("limit, window and max_keys must be positive")
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, key: str, now: float) -> float | None:
        """Count one request for ``key`` at ``now`` (monotonic seconds) if the window allows it
        and return ``None``; else the seconds until it would be allowed (nothing counted)."""
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        self._hits[key] = hits  # most recently seen last
        if len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)
        if len(hits) >= self.limit:
            return hits[0] + self.window_s - now
        hits.append(now)
        return None
