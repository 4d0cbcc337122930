"""Rebuilding every projection from sequence 1 of the event log, aside, then swapped in.

The log is folded into memory while the live service goes on writing its tables. Then, holding
the projection's write lock (which the live consumer also takes for every event), the events
that arrived meanwhile are folded in too, and the tables are replaced in one transaction. Readers
see the old projections until the commit and the new ones after it; no event applied by the live
service in between is lost, and none is applied twice (both are idempotent by event id).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from nats.js import JetStreamContext
from sqlalchemy import Engine

from services.dashboard import store
from shared.db import session_scope
from shared.eventlog import read_events, stream_events

CHECKPOINT = "dashboard"
ALL_EVENTS = "navcycle.events.>"


@dataclass(frozen=True)
class RebuildReport:
    events: int
    skipped: int
    caught_up: int
    stream_seq: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


async def rebuild(
    js: JetStreamContext, engine: Engine, progress: Callable[[int], None] | None = None
) -> RebuildReport:
    started = time.monotonic()
    aside = store.Aside()
    skipped: list[int] = []  # not CloudEvents: the live consumer dead-letters them too
    read = 0
    async for seq, event in stream_events(js, ALL_EVENTS, since_seq=1, unreadable=skipped):
        aside.add(event, seq)
        read += 1
        if progress and read % 1000 == 0:
            progress(read)
    with session_scope(engine) as session:
        store.lock(session, CHECKPOINT)
        after = max([aside.stream_seq, *skipped])
        tail = await read_events(js, ALL_EVENTS, since_seq=after + 1, unreadable=skipped)
        for seq, event in tail:
            aside.add(event, seq)
        caught_up = len(tail)
        store.swap(session, aside, CHECKPOINT)
    if progress:
        progress(read + caught_up)
    return RebuildReport(
        events=read + caught_up,
        skipped=len(skipped),
        caught_up=caught_up,
        stream_seq=aside.stream_seq,
        seconds=time.monotonic() - started,
    )
