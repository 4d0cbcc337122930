"""The dashboard service: keeps projections of the event log current as events arrive, tells
whoever listens when they changed, and answers the page's and the API's questions."""

from __future__ import annotations

import asyncio

from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine

from services.dashboard import store
from services.dashboard.rebuild import CHECKPOINT
from shared.consumer import event_consumer
from shared.contracts.dashboard import (
    BaseQuery,
    BaseTimeline,
    CycleList,
    ProjectionUpdated,
    YearCounts,
    YearList,
    YearQuery,
    updated_subject,
)
from shared.db import session_scope
from shared.events.envelope import CloudEvent
from shared.rpc import Empty, rpc_handler
from shared.service import rpc_subscriber, service_broker

SERVICE = "dashboard"


def build_router(engine: Engine) -> NatsRouter:
    router = NatsRouter()

    subscriber = rpc_subscriber(router, SERVICE)

    @subscriber("years")
    @rpc_handler(Empty)
    async def years(_: Empty) -> YearList:
        with session_scope(engine) as session:
            return store.years(session)

    @subscriber("counts")
    @rpc_handler(YearQuery)
    async def counts(req: YearQuery) -> YearCounts:
        with session_scope(engine) as session:
            return store.year_counts(session, req.program, req.year, CHECKPOINT)

    @subscriber("cycles")
    @rpc_handler(YearQuery)
    async def cycles(req: YearQuery) -> CycleList:
        with session_scope(engine) as session:
            return store.year_cycles(session, req.program, req.year)

    @subscriber("timeline")
    @rpc_handler(BaseQuery)
    async def timeline(req: BaseQuery) -> BaseTimeline:
        with session_scope(engine) as session:
            return store.base_timeline(session, req.program, req.year, req.base)

    return router


def build_broker(nats_url: str | list[str], engine: Engine, start_after: int = 0) -> NatsBroker:
    broker = service_broker(SERVICE, nats_url, engine, build_router(engine))

    def project(event: CloudEvent, stream_seq: int) -> bool:
        with session_scope(engine) as session:
            return store.project(session, event, stream_seq, CHECKPOINT)

    async def handle(event: CloudEvent, stream_seq: int) -> None:
        # In a thread: waiting for the projection lock (a rebuild swapping) must not stop the
        # service answering requests and health checks.
        if await asyncio.to_thread(project, event, stream_seq):
            # After the commit: a listener that asks now sees the change.
            note = ProjectionUpdated(
                program=event.program,
                year=event.year,
                base=event.base,
                event_id=event.id,
                type=event.type,
                stream_seq=stream_seq,
            )
            await broker.publish(
                note.model_dump_json().encode(), updated_subject(event.program, event.year)
            )

    event_consumer(broker, name=SERVICE, handler=handle, start_after=start_after)
    return broker
