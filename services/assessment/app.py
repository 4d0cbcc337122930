"""The assessment service: the expert roster, review assignments, every decision record.

A review round is assigned before it opens (``assignments.open``), never with fewer experts than
it needs; silent or revoked experts' places go to the next experts on the roster
(``assignments.reassign``, ``experts.remove``). Every assignment is an event, published once
the transaction has committed: the ids are deterministic, so a retry publishes nothing new. The
request/reply use cases are in ``use_cases.py``, run here in a thread.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine

from services.assessment import events, store, use_cases
from shared.consumer import event_consumer
from shared.contracts.assessment import (
    AddExpert,
    AssignmentQuery,
    Assignments,
    ExpertRemoved,
    ExpertReviews,
    ExpertReviewsQuery,
    OpenAssignments,
    ReassignExperts,
    RemoveExpert,
    RosterQuery,
    RosterStatus,
)
from shared.db import session_scope
from shared.events.envelope import CloudEvent
from shared.events.payloads import ReviewGraded, ReviewOpened, read_payload
from shared.events.types import EventType
from shared.logging import get_logger
from shared.rpc import Empty
from shared.service import rpc_subscriber, service_broker

log = get_logger("assessment")
SERVICE = "assessment"


def _due(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def make_handler(engine: Engine, sink: events.Events):  # type: ignore[no-untyped-def]
    async def handle(event: CloudEvent, stream_seq: int) -> None:
        if event.event_type not in (EventType.REVIEW_OPENED, EventType.REVIEW_GRADED):
            return
        pending: list[CloudEvent] = []
        with session_scope(engine) as session:
            if store.already_processed(session, event.id):
                return
            payload = read_payload(event)
            if isinstance(payload, ReviewOpened):
                rows = store.assign(
                    session,
                    program=event.program,
                    year=event.year,
                    base=event.base,
                    round_=payload.round,
                    needed=payload.experts_required,
                    due=_due(payload.due),
                )
                pending = events.assigned(rows, event.time)
                log.info(
                    "review.assigned",
                    program=event.program,
                    base=event.base,
                    experts=[r.expert for r in rows],
                )
            elif isinstance(payload, ReviewGraded):
                store.record_decision(session, record=payload)
            store.mark_processed(session, event.id)
        # After the commit, never inside it (see use_cases). A crash between the two
        # loses these notices; the review.opened path is the old one, kept for reviews opened
        # before assignments.open existed.
        await sink.publish(pending)

    return handle


def build_router(engine: Engine, sink: events.Events) -> NatsRouter:
    router = NatsRouter()

    subscriber = rpc_subscriber(router, SERVICE)

    @subscriber("experts.add")
    async def experts_add(req: AddExpert) -> Empty:
        return await asyncio.to_thread(use_cases.add_expert, engine, req)

    @subscriber("roster.check")
    async def roster_check(req: RosterQuery) -> RosterStatus:
        return await asyncio.to_thread(use_cases.check_roster, engine, req)

    @subscriber("assignments.open")
    async def assignments_open(req: OpenAssignments) -> Assignments:
        publish = sink.from_thread()
        return await asyncio.to_thread(use_cases.open_assignments, engine, req, publish)

    @subscriber("assignments.reassign")
    async def assignments_reassign(req: ReassignExperts) -> Assignments:
        publish = sink.from_thread()
        return await asyncio.to_thread(use_cases.reassign_experts, engine, req, publish)

    @subscriber("experts.remove")
    async def experts_remove(req: RemoveExpert) -> ExpertRemoved:
        """Off the roster, then each undecided review reassigned in a transaction of its own."""
        publish = sink.from_thread()
        return await asyncio.to_thread(use_cases.remove_expert, engine, req, publish)

    @subscriber("assignments.current")
    async def assignments(req: AssignmentQuery) -> Assignments:
        return await asyncio.to_thread(use_cases.current_assignments, engine, req)

    @subscriber("assignments.of_expert")
    async def expert_reviews(req: ExpertReviewsQuery) -> ExpertReviews:
        return await asyncio.to_thread(use_cases.expert_reviews, engine, req)

    return router


def build_broker(nats_url: str | list[str], engine: Engine) -> NatsBroker:
    sink = events.Events()
    broker = service_broker(SERVICE, nats_url, engine, build_router(engine, sink))
    sink.bind(broker)
    event_consumer(broker, name=SERVICE, handler=make_handler(engine, sink))
    return broker
