"""Dashboard projections: live from the consumer, and rebuilt from sequence 1, are equal."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient

from services.dashboard import store
from services.dashboard.app import build_broker
from services.dashboard.rebuild import CHECKPOINT, rebuild
from shared.db import make_engine
from shared.events.envelope import new_event
from shared.events.types import EventType
from shared.migrations import upgrade
from shared.publisher import EventPublisher
from shared.stream import EVENTS_STREAM

STEPS = [
    (EventType.CYCLE_OPENED, {}),
    (EventType.PLAN_FILED, {}),
    (EventType.PLAN_ACCEPTED, {}),
    (EventType.SELFEVAL_OVERDUE, {"due": "x"}),
    (EventType.REVIEW_GRADED, {"round": 0, "total": 0.0, "grade": "fail"}),
    (EventType.RECTIFICATION_ORDERED, {"round": 1}),
    (EventType.BASE_DELISTED, {}),
]


async def test_live_projections_equal_a_rebuild_from_sequence_one(
    nats_url: str, nc: NatsClient, tmp_path: Path
) -> None:
    live = make_engine(f"sqlite:///{tmp_path / 'live.db'}")
    rebuilt = make_engine(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    for engine in (live, rebuilt):
        upgrade(engine, "dashboard")
    broker = build_broker(nats_url, live)
    await broker.start()
    try:
        js = nc.jetstream()
        publisher = EventPublisher(js)
        for n, (event_type, data) in enumerate(STEPS, 1):
            event = new_event(
                event_type=event_type,
                program="dash",
                year=2026,
                base="d1",
                time=datetime.now(UTC),
                stream_key="cycle/dash/2026/d1@run",
                sequence=n,
                data={**data, "region": "410100"},
            )
            await publisher.publish(event)
        # The same event under another message id: projected once.
        await js.publish(event.nats_subject, event.to_json(), headers={"Nats-Msg-Id": "dup"})

        for _attempt in range(5):
            last = (await js.stream_info(EVENTS_STREAM)).state.last_seq
            for _ in range(600):
                if store.checkpoint(live, CHECKPOINT) >= last:
                    break
                await asyncio.sleep(0.05)
            count, _ = await rebuild(js, rebuilt)
            if store.checkpoint(rebuilt, CHECKPOINT) == store.checkpoint(live, CHECKPOINT) == last:
                break  # nothing arrived while rebuilding: the two read the same log
        else:
            pytest.fail("the event log kept moving during every rebuild")
        assert count >= len(STEPS) + 1
        assert store.cycles(live) == store.cycles(rebuilt)
        assert store.timeline(live) == store.timeline(rebuilt)
        d1 = [c for c in store.cycles(live) if c["program"] == "dash"]
        assert d1 == [
            {
                "program": "dash",
                "year": 2026,
                "base": "d1",
                "region": "410100",
                "stage": "delisted",
                "grade": "fail",
                "total": 0.0,
                "overdue": 1,
                "last_sequence": len(STEPS),
            }
        ]
    finally:
        await broker.stop()
