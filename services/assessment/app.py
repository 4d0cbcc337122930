"""The assessment service: assigns experts when a review opens, keeps every decision record."""

from __future__ import annotations

from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine

from services.assessment import store
from shared.consumer import event_consumer
from shared.contracts.assessment import AddExpert, AssignmentQuery, Assignments
from shared.db import session_scope
from shared.events.envelope import CloudEvent
from shared.events.types import EventType
from shared.logging import get_logger
from shared.rpc import Empty, rpc_handler
from shared.service import rpc_subscriber, service_broker

log = get_logger("assessment")
SERVICE = "assessment"


def make_handler(engine: Engine):  # type: ignore[no-untyped-def]
    async def handle(event: CloudEvent, stream_seq: int) -> None:
        if event.event_type not in (EventType.REVIEW_OPENED, EventType.REVIEW_GRADED):
            return
        with session_scope(engine) as session:
            if store.already_processed(session, event.id):
                return
            if event.event_type == EventType.REVIEW_OPENED:
                chosen = store.assign(
                    session,
                    program=event.program,
                    year=event.year,
                    base=event.base,
                    round_=int(event.data.get("round", 0)),
                    needed=int(event.data.get("experts_required", 1)),
                )
                log.info("review.assigned", program=event.program, base=event.base, experts=chosen)
            else:
                store.record_decision(session, record=event.data)
            store.mark_processed(session, event.id)

    return handle


def build_router(engine: Engine) -> NatsRouter:
    router = NatsRouter()

    subscriber = rpc_subscriber(router, SERVICE)

    @subscriber("experts.add")
    @rpc_handler(AddExpert)
    async def experts_add(req: AddExpert) -> Empty:
        with session_scope(engine) as session:
            store.add_expert(session, program=req.program, expert=req.expert)
        return Empty()

    @subscriber("assignments.current")
    @rpc_handler(AssignmentQuery)
    async def assignments(req: AssignmentQuery) -> Assignments:
        with session_scope(engine) as session:
            round_, experts = store.current_assignments(
                session, program=req.program, year=req.year, base=req.base
            )
        return Assignments(round=round_, experts=experts)

    return router


def build_broker(nats_url: str | list[str], engine: Engine) -> NatsBroker:
    broker = service_broker(SERVICE, nats_url, engine, build_router(engine))
    event_consumer(broker, name=SERVICE, handler=make_handler(engine))
    return broker
