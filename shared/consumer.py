"""Durable consumers of the event log, with an explicit policy.

FastStream's default ack policy terminates a message whose handler raised, losing it. Here every
message is acknowledged only after its handler succeeded; a failure is retried after a delay; a
message that cannot be parsed, or still fails after ``max_deliver`` attempts, goes to a
dead-letter subject with the reason, so nothing is silently lost. Handlers must be idempotent by
event id: a redelivery after a crash must change nothing twice.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js.api import ConsumerConfig, DeliverPolicy
from pydantic import ValidationError

from shared.events.envelope import CloudEvent
from shared.logging import get_logger
from shared.stream import DLQ_STREAM, EVENTS_STREAM

log = get_logger("consumer")
# A handler gets the event and its stream sequence (a checkpoint for projections).
Handler = Callable[[CloudEvent, int], Awaitable[None]]


def dlq_subject(consumer: str) -> str:
    return f"navcycle.dlq.{consumer}"


def event_consumer(
    broker: NatsBroker,
    *,
    name: str,
    handler: Handler,
    subject: str = "navcycle.events.>",
    max_deliver: int = 5,
    retry_delay_s: float = 2.0,
    start_after: int = 0,
) -> None:
    """Register ``handler`` as the durable consumer ``name`` of the event stream.

    A durable consumer that exists resumes where it stopped. One that does not (a new service,
    or a NATS whose consumer state was lost) starts after ``start_after``, the checkpoint its
    service stored with its data, or from sequence 1.
    """
    start = (
        ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_wait=60)
        if start_after <= 0
        else ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=start_after + 1,
            ack_wait=60,
        )
    )

    async def dead_letter(msg: NatsMessage, reason: str) -> None:
        await broker.publish(
            msg.body,
            dlq_subject(name),
            headers={
                "Navcycle-Dead-Reason": reason[:500],
                "Navcycle-Subject": msg.raw_message.subject,
            },
            stream=DLQ_STREAM,
        )
        log.error(
            "event.dead_lettered", consumer=name, subject=msg.raw_message.subject, reason=reason
        )

    @broker.subscriber(
        subject,
        stream=JStream(EVENTS_STREAM, declare=False),
        durable=name,
        # A pull consumer: replicas of a service share it; a batch of one keeps per-base order.
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        config=start,
        ack_policy=AckPolicy.MANUAL,
    )
    async def consume(msg: NatsMessage) -> None:
        try:
            event = CloudEvent.from_json(msg.body)
        except (ValidationError, json.JSONDecodeError, UnicodeDecodeError) as exc:
            await dead_letter(msg, f"unreadable event: {exc}")
            await msg.ack()
            return
        try:
            await handler(event, msg.raw_message.metadata.sequence.stream)
        except Exception as exc:
            delivered = msg.raw_message.metadata.num_delivered or 1
            if delivered >= max_deliver:
                await dead_letter(msg, f"{type(exc).__name__}: {exc} (after {delivered} attempts)")
                await msg.ack()
                return
            log.warning(
                "event.retry", consumer=name, event_id=event.id, attempt=delivered, error=str(exc)
            )
            await msg.nack(delay=retry_delay_s)
            return
        await msg.ack()
