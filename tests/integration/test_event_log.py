"""Publishing to the real JetStream stream: de-duplication by event id, reading back."""

from datetime import UTC, datetime

from nats.aio.client import Client as NatsClient

from shared.eventlog import read_events
from shared.events.envelope import new_event
from shared.events.subjects import event_filter
from shared.events.types import EventType
from shared.publisher import EventPublisher
from shared.stream import EVENTS_STREAM, ensure_events_stream
from tests.event_samples import required


async def test_publishing_the_same_event_twice_stores_it_once(nc: NatsClient) -> None:
    js = nc.jetstream()
    publisher = EventPublisher(js)
    event = new_event(
        event_type=EventType.PLAN_FILED,
        program="dedup",
        year=2026,
        base="b1",
        time=datetime.now(UTC),
        stream_key="cycle/dedup/2026/b1",
        sequence=1,
        data=required(EventType.PLAN_FILED),
    )
    first = await publisher.publish(event)
    second = await publisher.publish(event)
    assert not first.duplicate and second.duplicate
    assert second.stream_seq == first.stream_seq
    stored = await read_events(js, event_filter("dedup", 2026, "b1"))
    assert [e for _, e in stored] == [event]


async def test_stream_creation_is_idempotent_and_keeps_events(nc: NatsClient) -> None:
    js = nc.jetstream()
    before = (await js.stream_info(EVENTS_STREAM)).state
    await ensure_events_stream(js, duplicate_window_s=120)
    info = await js.stream_info(EVENTS_STREAM)
    # Other tests' cycles may still publish meanwhile: nothing may be lost, more may arrive.
    assert info.state.first_seq == before.first_seq
    assert info.state.messages >= before.messages
    assert info.config.subjects == ["navcycle.events.>"]
    assert info.config.max_age == 0


async def test_read_events_from_a_sequence(nc: NatsClient) -> None:
    js = nc.jetstream()
    publisher = EventPublisher(js)
    seqs = []
    for n in range(1, 4):
        event = new_event(
            event_type=EventType.REMINDER_SENT,
            program="since",
            year=2026,
            base="b1",
            time=datetime.now(UTC),
            stream_key="k",
            sequence=n,
            data=required(EventType.REMINDER_SENT),
        )
        seqs.append((await publisher.publish(event)).stream_seq)
    later = await read_events(js, event_filter("since"), since_seq=seqs[1])
    assert [e.sequence for _, e in later] == [2, 3]
