"""A per-client rate limit on the public, anonymous endpoints (results, notices, the 公示 page,
the public objection list): over it, 429 ``rate_limited`` with ``Retry-After``.

Keyed by the client's address as the gateway sees it (behind a reverse proxy, run uvicorn with
``--proxy-headers`` and the proxy's address in ``--forwarded-allow-ips`` so this is the real
client). One window for all public endpoints, kept per gateway process.
"""

from __future__ import annotations

import math
import time

from fastapi import Depends, Request

from services.gateway.problems import ApiError
from services.gateway.rate_limit import SlidingWindow

PUBLIC_LIMIT = 600  # requests per client per window: a person never nears it, a script does
PUBLIC_WINDOW_S = 60.0


def public_window(request: Request) -> SlidingWindow:
    state = request.app.state
    if not hasattr(state, "public_reads"):
        state.public_reads = SlidingWindow(PUBLIC_LIMIT, PUBLIC_WINDOW_S)
    window: SlidingWindow = state.public_reads
    return window


async def public_rate_limit(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    wait = public_window(request).retry_after(client, time.monotonic())
    if wait is not None:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            "rate_limited",
            f"请求过于频繁，请{seconds}秒后再试 — too many requests; retry in {seconds} s",
            retry_after=seconds,
        )


PublicRate = Depends(public_rate_limit)
