"""Durable consumers of the event log, with an explicit policy.

FastStream's default ack policy terminates a message whose handler raised, losing it. Here every
message is acknowledged only after its handler succeeded; a failure is retried after a delay; a
message that cannot be parsed, or still fails after ``max_deliver`` attempts, goes to a
dead-letter subject with the reason, so nothing is silently lost. A failure that says the
service's own database or network is away (``transient``) is retried without counting: the event
waits for the database rather than going to the dead letters. Handlers must be idempotent by
event id: a redelivery after a crash must change nothing twice.

Two shapes: :func:`event_consumer` hands over one event at a time (side effects per event: mail,
webhooks, scoring); :class:`BatchConsumer` hands over every event that is waiting, up to a
batch, so a projection applies them in one transaction and acknowledges them together.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats.errors
from faststream import AckPolicy
from faststream.nats import JStream, NatsBroker, PullSub
from faststream.nats.annotations import NatsMessage
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.events.envelope import CloudEvent
from shared.events.payloads import UnknownPayload
from shared.logging import get_logger
from shared.nats_auth import SHARED_INBOX
from shared.service import ServiceBroker
from shared.stream import DLQ_STREAM, EVENTS_STREAM

log = get_logger("consumer")
ALL_EVENTS = "navcycle.events.>"
# A handler gets the event and its stream sequence (a checkpoint for projections).
Handler = Callable[[CloudEvent, int], Awaitable[None]]
_UNREADABLE = (ValidationError, UnknownPayload, json.JSONDecodeError, UnicodeDecodeError)


@dataclass(frozen=True)
class Delivered:
    event: CloudEvent
    stream_seq: int


# A batch handler applies every event it is given, or none of them (it raises).
BatchHandler = Callable[[list[Delivered]], Awaitable[None]]


def stream_seq(msg: Msg) -> int:
    """A JetStream message's stream sequence, read from its reply subject without building the
    whole ``msg.metadata`` (a tenth of a batch consumer's time per event went there):
    ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.<pending>``,
    or the longer form with a domain and an account hash before the stream."""
    tokens = (msg.reply or "").split(".")
    if tokens[:2] != ["$JS", "ACK"] or len(tokens) < 9:
        return msg.metadata.sequence.stream  # not a JetStream reply: let nats-py say so
    return int(tokens[5] if len(tokens) == 9 else tokens[7])


def dlq_subject(consumer: str) -> str:
    return f"navcycle.dlq.{consumer}"


def transient(exc: BaseException) -> bool:
    """The service's database or network is away: worth waiting for, not the event's fault."""
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout | ConnectionError)


def start_config(start_after: int, ack_wait_s: float = 60) -> ConsumerConfig:
    """Where a new durable consumer starts: after the service's stored checkpoint, or at 1."""
    if start_after <= 0:
        return ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_wait=ack_wait_s)
    return ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
        opt_start_seq=start_after + 1,
        ack_wait=ack_wait_s,
    )


async def dead_letter(
    broker: NatsBroker, consumer: str, body: bytes, subject: str, reason: str
) -> None:
    await broker.publish(
        body,
        dlq_subject(consumer),
        headers={"Navcycle-Dead-Reason": reason[:500], "Navcycle-Subject": subject},
        stream=DLQ_STREAM,
    )
    log.error("event.dead_lettered", consumer=consumer, subject=subject, reason=reason)


def event_consumer(
    broker: NatsBroker,
    *,
    name: str,
    handler: Handler,
    subject: str = ALL_EVENTS,
    max_deliver: int = 5,
    retry_delay_s: float = 2.0,
    start_after: int = 0,
) -> None:
    """Register ``handler`` as the durable consumer ``name`` of the event stream.

    A durable consumer that exists resumes where it stopped. One that does not (a new service,
    or a NATS whose consumer state was lost) starts after ``start_after``, the checkpoint its
    service stored with its data, or from sequence 1.
    """
    inbox = broker.inbox if isinstance(broker, ServiceBroker) else SHARED_INBOX

    @broker.subscriber(
        subject,
        stream=JStream(EVENTS_STREAM, declare=False),
        durable=name,
        # A pull consumer: replicas of a service share it; a batch of one keeps per-base order.
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        config=start_config(start_after),
        ack_policy=AckPolicy.MANUAL,
        # The pulls' answers come to the user's own inbox (FastStream would take ``_INBOX.``).
        inbox_prefix=f"{inbox}.".encode(),
        # One channel per consumer in the AsyncAPI document (the subject alone names several).
        title=f"{subject}:{name}",
        description=f"The durable consumer {name!r} of the event stream: CloudEvents 1.0.",
    )
    async def consume(msg: NatsMessage) -> None:
        raw = msg.raw_message
        try:
            event = CloudEvent.read(msg.body)
        except _UNREADABLE as exc:
            await dead_letter(broker, name, msg.body, raw.subject, f"unreadable event: {exc}")
            await msg.ack()
            return
        try:
            await handler(event, raw.metadata.sequence.stream)
        except Exception as exc:
            delivered = raw.metadata.num_delivered or 1
            if delivered >= max_deliver and not transient(exc):
                reason = f"{type(exc).__name__}: {exc} (after {delivered} attempts)"
                await dead_letter(broker, name, msg.body, raw.subject, reason)
                await msg.ack()
                return
            log.warning(
                "event.retry", consumer=name, event_id=event.id, attempt=delivered, error=str(exc)
            )
            await msg.nack(delay=retry_delay_s)
            return
        await msg.ack()


class BatchConsumer:
    """The durable consumer ``name``, handing its handler every waiting event, up to
    ``max_batch``, in stream order. Under load the batches grow, so a projection pays for one
    transaction per batch rather than per event; when idle, an event is handed over as soon as
    it arrives. It is a push consumer that acknowledges a batch at once with its last message
    (``AckPolicy.ALL``), which costs a third of the CPU of pulling and acknowledging each event.

    Events are applied strictly in order. A batch whose handler raised is applied again one event
    at a time; an event that keeps failing is retried here ``max_deliver`` times and then
    dead-lettered, and the next one goes on. A failure that says the database is away is retried
    until it is back. A consumer of the same name made by an earlier version (a pull consumer, or
    one acknowledging each event) is replaced by one that starts after ``start_after``, the
    checkpoint the service stored with its data.
    """

    def __init__(
        self,
        broker: NatsBroker,
        *,
        name: str,
        handler: BatchHandler,
        subject: str = ALL_EVENTS,
        start_after: int = 0,
        max_batch: int = 500,
        max_deliver: int = 5,
        retry_delay_s: float = 2.0,
        gather_s: float = 0.002,
    ) -> None:
        self._broker = broker
        self.name = name
        self._gather_s = gather_s
        self._handler = handler
        self._subject = subject
        self._start_after = start_after
        self._max_batch = max_batch
        self._max_deliver = max_deliver
        self._retry_delay_s = retry_delay_s
        self._arrived: asyncio.Queue[Msg] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._sub: JetStreamContext.PushSubscription | None = None

    async def start(self) -> None:
        js = self._broker.connection.jetstream()
        config = start_config(self._start_after)
        config.max_ack_pending = 4 * self._max_batch
        config.ack_policy = JsAckPolicy.ALL
        try:
            info = await js.consumer_info(EVENTS_STREAM, self.name)
        except NotFoundError:
            info = None
        if info is not None and (
            not info.config.deliver_subject or info.config.ack_policy != JsAckPolicy.ALL
        ):
            log.warning("consumer.replaced", consumer=self.name, start_after=self._start_after)
            await js.delete_consumer(EVENTS_STREAM, self.name)
        self._sub = await js.subscribe(
            self._subject,
            durable=self.name,
            stream=EVENTS_STREAM,
            config=config,
            manual_ack=True,
            cb=self._arrive,
        )
        self._task = asyncio.create_task(self._run(), name=f"consumer:{self.name}")

    async def _arrive(self, msg: Msg) -> None:
        self._arrived.put_nowait(msg)

    async def stop(self) -> None:
        if self._sub is not None:
            try:
                # Stops delivery and keeps the durable consumer: the next start resumes there.
                await self._sub.unsubscribe()
            except nats.errors.Error:
                pass  # the connection went first
            self._sub = None
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        busy = False
        while True:
            msgs = [await self._arrived.get()]
            if busy or not self._arrived.empty():
                # Under load, a moment lets the events already on the socket join this batch:
                # per batch costs (a commit) then weigh on more events. An idle consumer
                # hands a lone event over at once.
                await asyncio.sleep(self._gather_s)
            while len(msgs) < self._max_batch and not self._arrived.empty():
                msgs.append(self._arrived.get_nowait())
            busy = len(msgs) > 1
            while True:  # never past a batch not taken: the next acknowledgement covers it
                try:
                    await self.take(msgs)
                    break
                except Exception as exc:
                    log.error("consumer.batch_crashed", consumer=self.name, error=repr(exc))
                    await asyncio.sleep(self._retry_delay_s)

    async def take(self, msgs: list[Msg]) -> None:
        """Hand one batch to the handler, in order, then acknowledge all of it at once."""
        readable: list[tuple[Msg, Delivered]] = []
        for msg in msgs:
            try:
                event = CloudEvent.read(msg.data)
            except _UNREADABLE as exc:
                await dead_letter(
                    self._broker, self.name, msg.data, msg.subject, f"unreadable event: {exc}"
                )
                continue
            readable.append((msg, Delivered(event, stream_seq(msg))))
        if readable:
            await self._apply(readable, readable[-1][0])
        await msgs[-1].ack()  # and every message before it

    async def _apply(self, batch: list[tuple[Msg, Delivered]], last: Msg) -> None:
        events = [d for _, d in batch]
        if await self._retrying(events, last, lambda exc, _: not transient(exc)) is None:
            return
        if len(batch) > 1:
            log.warning("consumer.batch_failed", consumer=self.name, size=len(batch))
        for msg, delivered in batch:  # one at a time: a bad event stays alone, the rest go on
            failed = await self._retrying(
                [delivered], last, lambda exc, n: n >= self._max_deliver and not transient(exc)
            )
            if failed is not None:
                reason = f"{type(failed).__name__}: {failed} (after {self._max_deliver} attempts)"
                await dead_letter(self._broker, self.name, msg.data, msg.subject, reason)

    async def _retrying(
        self, events: list[Delivered], last: Msg, give_up: Callable[[Exception, int], bool]
    ) -> Exception | None:
        """Hand ``events`` to the handler until it succeeds (``None``) or ``give_up(failure,
        attempt)`` says stop (that failure). Between attempts the batch is kept from being
        redelivered (an in-progress ping on its last message) and the retry delay passes."""
        attempt = 1
        while True:
            try:
                await self._handler(events)
                return None
            except Exception as exc:
                if give_up(exc, attempt):
                    return exc
                log.warning(
                    "event.retry",
                    consumer=self.name,
                    event_id=events[0].event.id,
                    events=len(events),
                    attempt=attempt,
                    error=str(exc),
                )
            attempt += 1
            await last.in_progress()
            await asyncio.sleep(self._retry_delay_s)
