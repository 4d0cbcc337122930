"""The batch consumer on a real nats-server: batches under a backlog, one bad event retried alone
and dead-lettered, a database outage waited out, a consumer left by an older version replaced."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import AckPolicy, ConsumerConfig
from sqlalchemy.exc import OperationalError

from shared.consumer import BatchConsumer, Delivered, dlq_subject
from shared.events.envelope import CloudEvent, new_event
from shared.events.subjects import event_filter
from shared.events.types import EventType
from shared.publisher import EventPublisher
from shared.service import ServiceBroker
from shared.stream import DLQ_STREAM, EVENTS_STREAM
from tests.helpers import until


def _events(program: str, count: int) -> list[CloudEvent]:
    return [
        new_event(
            event_type=EventType.PLAN_OVERDUE,
            program=program,
            year=2026,
            base=f"b{n % 7}",
            time=datetime.now(UTC),
            stream_key=f"cycle/{program}@run",
            sequence=n,
        )
        for n in range(1, count + 1)
    ]


async def _dead(nc: NatsClient, consumer: str) -> int:
    subject = dlq_subject(consumer)
    info = await nc.jetstream().stream_info(DLQ_STREAM, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


def _consumer(
    nats_url: str, program: str, handler: Callable[[list[Delivered]], Awaitable[None]], **kw: float
) -> ServiceBroker:
    broker = ServiceBroker(nats_url, logger=None)
    broker.attach(
        BatchConsumer(
            broker,
            name=f"batch-{program}",
            handler=handler,
            subject=event_filter(program),
            retry_delay_s=0.1,
            **kw,  # type: ignore[arg-type]
        )
    )
    return broker


async def test_a_backlog_comes_in_batches_and_a_bad_event_is_dead_lettered_alone(
    nats_url: str, nc: NatsClient
) -> None:
    events = _events("batchbad", 60)
    poison = events[17].id
    for event in events:
        await EventPublisher(nc.jetstream()).publish(event)
    sizes: list[int] = []
    applied: Counter[str] = Counter()
    order: list[str] = []

    async def handler(batch: list[Delivered]) -> None:
        sizes.append(len(batch))
        if any(d.event.id == poison for d in batch):
            raise ValueError("cannot apply this one")
        applied.update(d.event.id for d in batch)
        order.extend(d.event.id for d in batch)

    broker = _consumer(nats_url, "batchbad", handler, max_deliver=3)
    await broker.start()
    try:
        await until(lambda: len(applied) == 59)
        assert max(sizes) > 1, "a waiting backlog was handed over one event at a time"
        assert poison not in applied and all(n == 1 for n in applied.values())
        assert order == [e.id for e in events if e.id != poison], "applied out of order"
        await until(lambda: _dead(nc, "batch-batchbad"), lambda n: n == 1)
        dead = await nc.jetstream().get_last_msg(DLQ_STREAM, dlq_subject("batch-batchbad"))
        assert CloudEvent.from_json(dead.data).id == poison
        assert dead.headers and "after 3 attempts" in dead.headers["Navcycle-Dead-Reason"]
    finally:
        await broker.stop()


async def test_a_database_outage_is_waited_out_rather_than_dead_lettered(
    nats_url: str, nc: NatsClient
) -> None:
    events = _events("batchdown", 10)
    failures = 0
    applied: set[str] = set()

    async def handler(batch: list[Delivered]) -> None:
        nonlocal failures
        if failures < 8:  # more attempts than max_deliver allows a bad event
            failures += 1
            raise OperationalError("SELECT 1", {}, ConnectionError("the database went away"))
        applied.update(d.event.id for d in batch)

    broker = _consumer(nats_url, "batchdown", handler, max_deliver=2)
    await broker.start()
    try:
        for event in events:
            await EventPublisher(nc.jetstream()).publish(event)
        await until(lambda: len(applied) == 10)
        assert failures == 8
        assert await _dead(nc, "batch-batchdown") == 0
    finally:
        await broker.stop()


@pytest.mark.parametrize("earlier", ["pull", "push acknowledging each event"])
async def test_a_consumer_left_by_an_older_version_is_replaced_from_the_checkpoint(
    nats_url: str, nc: NatsClient, earlier: str
) -> None:
    js = nc.jetstream()
    program = "batchold" if earlier == "pull" else "batchexp"
    events = _events(program, 7)
    marker = events.pop()  # published once the replacement has applied what it should
    for event in events:
        await EventPublisher(js).publish(event)
    # The earlier version's consumer, which had taken nothing.
    if earlier == "pull":
        await js.pull_subscribe(event_filter(program), durable=f"batch-{program}")
    else:
        config = ConsumerConfig(deliver_subject=nc.new_inbox(), ack_policy=AckPolicy.EXPLICIT)
        await js.add_consumer(EVENTS_STREAM, config, durable_name=f"batch-{program}")
    first = (await js.get_last_msg(EVENTS_STREAM, events[3].nats_subject)).seq
    applied: list[int] = []

    async def handler(batch: list[Delivered]) -> None:
        applied.extend(d.event.sequence for d in batch)

    # The service's own checkpoint says the first four were applied.
    broker = _consumer(nats_url, program, handler, start_after=first)
    await broker.start()
    try:
        await until(lambda: len(applied) == 2)
        # Nothing more comes: a marker published behind them is the next and last applied.
        await EventPublisher(js).publish(marker)
        await until(lambda: marker.sequence in applied)
        assert applied == [5, 6, 7]
        info = await js.consumer_info(EVENTS_STREAM, f"batch-{program}")
        assert info.config.deliver_subject and info.config.ack_policy == AckPolicy.ALL
    finally:
        await broker.stop()


async def test_an_event_whose_payload_does_not_read_is_dead_lettered_at_the_edge(
    nats_url: str, nc: NatsClient
) -> None:
    """A well-formed envelope whose payload misses what its model requires never reaches the
    handler (it would fail it on every retry); the events behind it are applied."""
    js = nc.jetstream()
    bad = new_event(
        event_type=EventType.PLAN_FILED,
        program="batchpayload",
        year=2026,
        base="b1",
        time=datetime.now(UTC),
        stream_key="cycle/batchpayload@run",
        sequence=1,
        data={},  # no document: PlanFiled requires one
    )
    good = _events("batchpayload", 3)[1:]
    for event in (bad, *good):
        await EventPublisher(js).publish(event)
    seen: list[str] = []

    async def handler(batch: list[Delivered]) -> None:
        seen.extend(d.event.id for d in batch)

    broker = _consumer(nats_url, "batchpayload", handler)
    await broker.start()
    try:
        await until(lambda: list(seen), lambda ids: len(ids) == len(good))
        assert seen == [e.id for e in good]
        assert await until(lambda: _dead(nc, "batch-batchpayload"), lambda n: n == 1)
    finally:
        await broker.stop()
