"""The notifier: turns events into notices, keeps them in an inbox, and delivers them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine

from services.notifier import use_cases
from services.notifier.notices import notices_for
from services.notifier.outbox import Recipients, enqueue
from services.notifier.sender import OutboxSender
from services.notifier.tables import NoticeRow, ProcessedEvent
from shared.consumer import event_consumer
from shared.contracts.notifier import Inbox, InboxQuery
from shared.db import session_scope
from shared.events.envelope import CloudEvent
from shared.events.payloads import CycleContext, read_payload
from shared.logging import get_logger
from shared.service import rpc_subscriber, service_broker

log = get_logger("notifier")
SERVICE = "notifier"


def make_handler(
    engine: Engine, recipients: Recipients, on_enqueued: Callable[[], None] | None = None
) -> Callable[[CloudEvent, int], Awaitable[None]]:
    """The event's notices and their deliveries, in one transaction with the processed mark:
    the sender delivers them later, so a crash after the commit loses nothing."""

    async def handle(event: CloudEvent, stream_seq: int) -> None:
        notices = notices_for(event)
        event_json = event.model_dump(mode="json")
        region = _region(event) if notices else ""
        queued = 0
        with session_scope(engine) as session:
            if session.get(ProcessedEvent, event.id) is not None:
                return  # a redelivery: the notices exist already
            for n in notices:
                row = NoticeRow(
                    event_id=event.id,
                    program=event.program,
                    year=event.year,
                    base=event.base,
                    region=region,
                    audience=n.audience,
                    recipient=n.recipient,
                    kind=n.kind,
                    title_zh=n.title_zh,
                    title_en=n.title_en,
                    body_zh=n.body_zh,
                    body_en=n.body_en,
                )
                session.add(row)
                session.flush()
                queued += len(enqueue(session, row, event_json, recipients))
            session.add(ProcessedEvent(event_id=event.id))
        if queued and on_enqueued is not None:
            on_enqueued()

    return handle


def _region(event: CloudEvent) -> str:
    """The base's region, for a province officer's or a city's inbox (cycle events carry it)."""
    payload = read_payload(event)
    return (payload.region or "") if isinstance(payload, CycleContext) else ""


def build_router(engine: Engine) -> NatsRouter:
    router = NatsRouter()
    subscriber = rpc_subscriber(router, SERVICE)

    @subscriber("inbox.list")
    async def inbox(req: InboxQuery) -> Inbox:
        return await asyncio.to_thread(use_cases.inbox, engine, req)

    return router


def build_broker(
    nats_url: str | list[str],
    engine: Engine,
    recipients: Recipients | None = None,
    on_enqueued: Callable[[], None] | None = None,
    consumer: str = SERVICE,
    start_after: int = 0,
) -> NatsBroker:
    broker = service_broker(SERVICE, nats_url, engine, build_router(engine))
    handler = make_handler(engine, recipients or Recipients(), on_enqueued)
    event_consumer(broker, name=consumer, handler=handler, start_after=start_after)
    return broker


@dataclass
class Notifier:
    """The notifier process: the event consumer (and inbox) and the outbox's sender."""

    broker: NatsBroker
    sender: OutboxSender

    async def start(self, *, deliver: bool = True) -> None:
        await self.broker.start()
        if deliver:
            await self.sender.start()

    async def stop(self) -> None:
        await self.broker.stop()  # first: no notice is written while the sender winds down
        await self.sender.stop()


def build_notifier(
    nats_url: str | list[str],
    engine: Engine,
    sender: OutboxSender,
    recipients: Recipients,
    consumer: str = SERVICE,
    start_after: int = 0,
) -> Notifier:
    broker = build_broker(nats_url, engine, recipients, sender.wake, consumer, start_after)
    return Notifier(broker, sender)
