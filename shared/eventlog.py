"""Reading the event log back: everything under a subject filter, from a point, in order."""

from __future__ import annotations

from datetime import datetime

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from shared.events.envelope import CloudEvent
from shared.stream import EVENTS_STREAM


async def read_events(
    js: JetStreamContext,
    filter_subject: str,
    *,
    since_seq: int | None = None,
    since_time: datetime | None = None,
    batch: int = 500,
    unreadable: list[int] | None = None,
) -> list[tuple[int, CloudEvent]]:
    """Every stored event matching the filter as ``(stream sequence, event)``, oldest first.

    A message that is not a CloudEvent raises, unless ``unreadable`` is given: then its stream
    sequence is noted there and reading goes on (the consumers dead-letter such messages).
    """
    if since_seq is not None:
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=since_seq
        )
    elif since_time is not None:
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=since_time
        )
    else:
        config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    config.ack_policy = AckPolicy.NONE
    config.filter_subject = filter_subject
    config.inactive_threshold = 30.0
    try:
        sub = await js.pull_subscribe(filter_subject, stream=EVENTS_STREAM, config=config)
    except NotFoundError:
        return []
    out: list[tuple[int, CloudEvent]] = []
    try:
        pending = (await sub.consumer_info()).num_pending or 0
        while pending > 0:
            msgs = await sub.fetch(min(batch, pending), timeout=5)
            for msg in msgs:
                try:
                    out.append((msg.metadata.sequence.stream, CloudEvent.from_json(msg.data)))
                except ValidationError:
                    if unreadable is None:
                        raise
                    unreadable.append(msg.metadata.sequence.stream)
            pending = (msgs[-1].metadata.num_pending or 0) if msgs else 0
    finally:
        await sub.unsubscribe()
    return out
