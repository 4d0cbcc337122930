"""Reading the event log back: everything under a subject filter, from a point, in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from shared.events.envelope import CloudEvent
from shared.events.payloads import UnknownPayload
from shared.stream import EVENTS_STREAM

_END = object()


def _config(since_seq: int | None, since_time: datetime | None) -> ConsumerConfig:
    if since_seq is not None:
        return ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(1, since_seq)
        )
    if since_time is not None:
        return ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=since_time)
    return ConsumerConfig(deliver_policy=DeliverPolicy.ALL)


async def stream_events(
    js: JetStreamContext,
    filter_subject: str,
    *,
    since_seq: int | None = None,
    since_time: datetime | None = None,
    unreadable: list[int] | None = None,
) -> AsyncIterator[tuple[int, CloudEvent]]:
    """Every event stored now under the filter as ``(stream sequence, event)``, oldest first,
    as it arrives: an ordered consumer (pushed with flow control, no acknowledgements), which
    reads several times faster than pulling. It ends at the last event that was pending when
    it started reading.

    A message that is not a readable CloudEvent (envelope and payload) raises, unless
    ``unreadable`` is given: then its stream sequence is noted there and reading goes on (the
    consumers dead-letter such messages).
    """
    arrived: asyncio.Queue[Msg | object] = asyncio.Queue()

    async def on_msg(msg: Msg) -> None:
        arrived.put_nowait(msg)
        if not msg.metadata.num_pending:
            arrived.put_nowait(_END)

    try:
        sub = await js.subscribe(
            filter_subject,
            stream=EVENTS_STREAM,
            ordered_consumer=True,
            config=_config(since_seq, since_time),
            cb=on_msg,
        )
    except NotFoundError:
        return
    try:
        info = await sub.consumer_info()
        if not info.num_pending and not (info.delivered and info.delivered.consumer_seq):
            return  # nothing under the filter
        while (msg := await arrived.get()) is not _END:
            assert isinstance(msg, Msg)
            seq = msg.metadata.sequence.stream
            try:
                event = CloudEvent.read(msg.data)
            except (ValidationError, UnknownPayload):
                if unreadable is None:
                    raise
                unreadable.append(seq)
                continue
            yield seq, event
    finally:
        await sub.unsubscribe()


async def read_events(
    js: JetStreamContext,
    filter_subject: str,
    *,
    since_seq: int | None = None,
    since_time: datetime | None = None,
    unreadable: list[int] | None = None,
) -> list[tuple[int, CloudEvent]]:
    """:func:`stream_events`, gathered into a list."""
    return [
        item
        async for item in stream_events(
            js,
            filter_subject,
            since_seq=since_seq,
            since_time=since_time,
            unreadable=unreadable,
        )
    ]


async def fetch_events(js: JetStreamContext, filter_subject: str) -> list[tuple[int, CloudEvent]]:
    """:func:`read_events` without a consumer: each stored message under the filter fetched by
    itself (the stream's next one by subject). For a reader that may make no consumer, such as
    the gateway (a user that may make one may reconfigure another's), and a handful of events;
    a whole log is :func:`stream_events`'s."""
    found: list[tuple[int, CloudEvent]] = []
    seq = 1
    while True:
        try:
            msg = await js.get_msg(EVENTS_STREAM, seq=seq, subject=filter_subject, next=True)
        except NotFoundError:
            return found
        assert msg.seq is not None and msg.data is not None
        found.append((msg.seq, CloudEvent.from_json(msg.data)))
        seq = msg.seq + 1
