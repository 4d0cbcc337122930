"""The dashboard service: keeps projections of the event log current as events arrive."""

from __future__ import annotations

from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine

from services.dashboard import store
from services.dashboard.rebuild import CHECKPOINT
from shared.consumer import event_consumer
from shared.db import session_scope
from shared.events.envelope import CloudEvent
from shared.service import service_broker

SERVICE = "dashboard"


def build_broker(nats_url: str | list[str], engine: Engine) -> NatsBroker:
    async def handle(event: CloudEvent, stream_seq: int) -> None:
        with session_scope(engine) as session:
            store.project(session, event, stream_seq, CHECKPOINT)

    broker = service_broker(SERVICE, nats_url, engine, NatsRouter())
    event_consumer(broker, name=SERVICE, handler=handle)
    return broker
