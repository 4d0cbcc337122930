"""outcome.decided through the running dashboard and notifier on a real NATS: neither knows what
to do with it, and neither stops or dead-letters it. The dashboard keeps it in the base's
timeline and out of the cycle's view (the cycle's next event still moves the view, with the
cycle's own sequence); the notifier marks it processed, sends nothing for it, and goes on to the
next event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NatsClient
from sqlmodel import col, select

from services.dashboard import store
from services.dashboard.app import build_broker
from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
from services.notifier.app import build_notifier
from services.notifier.delivery import EmailChannel, WebhookChannel
from services.notifier.outbox import Recipients
from services.notifier.sender import OutboxSender, SenderLimits
from services.notifier.tables import MIGRATIONS as NOTIFIER_MIGRATIONS
from services.notifier.tables import NoticeRow, ProcessedEvent
from shared.db import make_engine, session_scope
from shared.domain.outcome_rules import decide_outcomes
from shared.embedded import free_port
from shared.events.envelope import YEAR_SOURCE, CloudEvent, new_event
from shared.events.payloads import OutcomeDecided
from shared.events.types import EventType
from shared.migrations import upgrade
from shared.publisher import EventPublisher
from tests.event_samples import required
from tests.helpers import log_end, until
from tests.integration.test_batch_consumer import _dead
from tests.unit.test_outcome_rules import RULES

ORDERED = {"round": 1, "due": "2026-09-01T00:00:00+08:00", "region": "410100"}


def _cycle_event(program: str, sequence: int, event_type: EventType, **data: Any) -> CloudEvent:
    return new_event(
        event_type=event_type,
        program=program,
        year=2026,
        base="o1",
        time=datetime.now(UTC),
        stream_key=f"cycle/{program}/2026/o1@run",
        sequence=sequence,
        data={**required(event_type), **data},
    )


def _exit(program: str) -> CloudEvent:
    [decision] = decide_outcomes(RULES, "fail", {2025: "fail"}, year=2026)
    return new_event(
        payload=OutcomeDecided(**decision.model_dump()),
        program=program,
        year=2026,
        base="o1",
        time=datetime.now(UTC),
        stream_key=f"program-year/{program}/2026",
        sequence=40,
        source=YEAR_SOURCE,
    )


async def test_the_dashboard_keeps_it_in_the_timeline_only(
    nats_url: str, nc: NatsClient, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'dashboard.db'}")
    upgrade(engine, DASHBOARD_MIGRATIONS)
    consumer = f"dashboard-{uuid.uuid4().hex[:8]}"
    broker = build_broker(nats_url, engine, consumer=consumer, start_after=await log_end(nc))
    await broker.start()
    try:
        publisher = EventPublisher(nc.jetstream())
        decided = _exit("ocdash")
        for event in (
            _cycle_event("ocdash", 1, EventType.CYCLE_OPENED, region="410100"),
            decided,
            _cycle_event("ocdash", 2, EventType.RECTIFICATION_ORDERED, **ORDERED),
        ):
            await publisher.publish(event)
        rows = await until(
            lambda: [c for c in store.cycles(engine) if c["program"] == "ocdash"],
            lambda rows: rows and rows[0]["stage"] == "rectifying",
            "the cycle's view after the outcome decision",
        )
        assert [(r["base"], r["stage"], r["last_sequence"]) for r in rows] == [
            ("o1", "rectifying", 2)
        ]
        line = [t for t in store.timeline(engine) if t["program"] == "ocdash"]
        assert sorted(t["type"] for t in line) == [
            "navcycle.cycle.opened",
            "navcycle.outcome.decided",
            "navcycle.rectification.ordered",
        ]
        assert await _dead(nc, consumer) == 0
    finally:
        await broker.stop()


async def test_the_notifier_sends_nothing_for_it_and_goes_on(
    nats_url: str, nc: NatsClient, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'notifier.db'}")
    upgrade(engine, NOTIFIER_MIGRATIONS)
    sender = OutboxSender(
        engine,
        webhooks=WebhookChannel("outcome-test-key"),
        email=EmailChannel("127.0.0.1", free_port(), "navcycle@test"),
        limits=SenderLimits(poll_s=0.05),
    )
    consumer = f"notifier-{uuid.uuid4().hex[:8]}"
    service = build_notifier(
        nats_url, engine, sender, Recipients(), consumer=consumer, start_after=await log_end(nc)
    )
    await service.start()
    try:
        publisher = EventPublisher(nc.jetstream())
        decided = _exit("ocnote")
        marker = _cycle_event("ocnote", 2, EventType.RECTIFICATION_ORDERED, **ORDERED)
        await publisher.publish(decided)
        await publisher.publish(marker)

        def notices() -> list[tuple[str, str]]:
            with session_scope(engine) as session:
                found = session.exec(
                    select(NoticeRow).where(col(NoticeRow.event_id).in_([decided.id, marker.id]))
                )
                return sorted((n.event_id, n.audience) for n in found)

        await until(notices, lambda found: found, "the notice of the event behind it")
        assert {event_id for event_id, _ in notices()} == {marker.id}
        with session_scope(engine) as session:
            assert session.get(ProcessedEvent, decided.id) is not None
        assert await _dead(nc, consumer) == 0
    finally:
        await service.stop()
