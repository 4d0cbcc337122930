"""The dashboard service: keeps projections of the event log current as events arrive, tells
whoever listens when they changed, and answers the page's and the API's questions."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from faststream.nats import NatsRouter
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from services.dashboard import store, use_cases
from services.dashboard.rebuild import CHECKPOINT
from shared.consumer import BatchConsumer, Delivered
from shared.contracts.dashboard import (
    BaseQuery,
    BaseTimeline,
    CitiesQuery,
    CityCounts,
    CycleList,
    CyclesQuery,
    ObjectionsList,
    ObjectionsQuery,
    OverdueList,
    OverdueQuery,
    ProjectionUpdated,
    YearCounts,
    YearList,
    YearQuery,
    YearsQuery,
    updated_subject,
)
from shared.db import impatient, session_scope
from shared.service import ServiceBroker, rpc_subscriber, service_broker

SERVICE = "dashboard"


def build_router(engine: Engine) -> NatsRouter:
    router = NatsRouter()

    subscriber = rpc_subscriber(router, SERVICE)

    @subscriber("years")
    async def years(req: YearsQuery) -> YearList:
        return await asyncio.to_thread(use_cases.years, engine, req)

    @subscriber("counts")
    async def counts(req: YearQuery) -> YearCounts:
        return await asyncio.to_thread(use_cases.counts, engine, req)

    @subscriber("cycles")
    async def cycles(req: CyclesQuery) -> CycleList:
        return await asyncio.to_thread(use_cases.cycles, engine, req)

    @subscriber("cities")
    async def cities(req: CitiesQuery) -> CityCounts:
        return await asyncio.to_thread(use_cases.cities, engine, req)

    @subscriber("overdue")
    async def overdue(req: OverdueQuery) -> OverdueList:
        return await asyncio.to_thread(use_cases.overdue, engine, req)

    @subscriber("objections")
    async def objections(req: ObjectionsQuery) -> ObjectionsList:
        return await asyncio.to_thread(use_cases.objections, engine, req)

    @subscriber("timeline")
    async def timeline(req: BaseQuery) -> BaseTimeline:
        return await asyncio.to_thread(use_cases.timeline, engine, req)

    return router


def notes(applied: list[Delivered]) -> list[ProjectionUpdated]:
    """One notice per program year that a commit changed, naming the events it applied."""
    by_year: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for d in applied:
        e = d.event
        by_year[(e.program, e.year)].append(
            {"base": e.base, "event_id": e.id, "type": e.type, "stream_seq": d.stream_seq}
        )
    return [
        ProjectionUpdated.model_validate(
            {"program": p, "year": y, "stream_seq": events[-1]["stream_seq"], "events": events}
        )
        for (p, y), events in by_year.items()
    ]


def build_broker(
    nats_url: str | list[str],
    engine: Engine,
    start_after: int = 0,
    max_batch: int = 500,
    consumer: str = SERVICE,
) -> ServiceBroker:
    """The dashboard service. ``consumer`` names its durable consumer, which belongs with the
    database it fills: another database (a test's) takes a consumer of its own."""
    broker = service_broker(SERVICE, nats_url, engine, build_router(engine))
    quick = impatient(engine)

    def project(db: Engine, batch: list[Delivered]) -> list[Delivered]:
        with session_scope(db) as session:
            return store.project(session, batch, CHECKPOINT)

    async def handle(batch: list[Delivered]) -> None:
        # On the event loop: a thread would cost a third more CPU per event in handing over and
        # contending for the GIL. A batch is milliseconds of work; but the projection lock, held
        # for seconds while a rebuild swaps, is waited for in a thread, so the service goes on
        # answering requests and health checks meanwhile.
        try:
            applied = project(quick, batch)
        except OperationalError:
            applied = await asyncio.to_thread(project, engine, batch)
        # After the commit: a listener that asks now sees the change.
        for note in notes(applied):
            await broker.publish(
                note.model_dump_json().encode(), updated_subject(note.program, note.year)
            )

    broker.attach(
        BatchConsumer(
            broker, name=consumer, handler=handle, start_after=start_after, max_batch=max_batch
        )
    )
    return broker
