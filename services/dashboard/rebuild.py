"""Rebuilding every projection from sequence 1 of the event log."""

from __future__ import annotations

import time
from collections.abc import Callable

from nats.js import JetStreamContext
from sqlalchemy import Engine

from services.dashboard import store
from shared.db import session_scope
from shared.eventlog import read_events

CHECKPOINT = "dashboard"


async def rebuild(
    js: JetStreamContext, engine: Engine, progress: Callable[[int], None] | None = None
) -> tuple[int, float]:
    """Clear and replay; returns (events applied, seconds)."""
    started = time.monotonic()
    store.clear(engine)
    skipped: list[int] = []  # not CloudEvents: the live consumer dead-letters them too
    events = await read_events(js, "navcycle.events.>", since_seq=1, batch=2000, unreadable=skipped)
    with session_scope(engine) as session:
        for n, (seq, event) in enumerate(events, 1):
            store.project(session, event, seq, CHECKPOINT)
            if progress and n % 500 == 0:
                progress(n)
    return len(events), time.monotonic() - started
