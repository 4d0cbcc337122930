"""The registry service: programs and their rules versions, bases and their status."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import yaml
from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine

from services.registry import store, use_cases
from shared.consumer import event_consumer
from shared.contracts.calendars import (
    ApplyCalendar,
    CalendarApplyResult,
    CalendarVersionPublic,
    GetCalendar,
)
from shared.contracts.registry import (
    ApplyRules,
    BaseList,
    BasePublic,
    BaseRegistration,
    BasesPage,
    BaseStatusChange,
    BaseStatusResult,
    GetBase,
    GetProgram,
    ListBases,
    ListBasesRequest,
    PinnedRules,
    ProgramList,
    RegisterBase,
    Reinstate,
    Reinstated,
    RulesApplied,
)
from shared.db import session_scope
from shared.domain.rules import load_rules_file
from shared.events.envelope import CloudEvent
from shared.events.payloads import OutcomeDecided, read_payload
from shared.events.subjects import event_filter
from shared.events.types import EventType
from shared.logging import get_logger
from shared.rpc import Empty
from shared.service import rpc_subscriber, service_broker

log = get_logger("registry")
SERVICE = "registry"


def load_presets(engine: Engine, programs_dir: Path) -> None:
    """Apply every preset in ``programs_dir``; unchanged rules create no new version."""
    for path in sorted(programs_dir.glob("*.yaml")):
        rules = load_rules_file(path)
        with session_scope(engine) as session:
            row, created = store.apply_rules(session, rules=rules)
        if created:
            log.info("rules.applied", program=rules.id, version=row.version, source=path.name)


def seed_bases(engine: Engine, bases_file: Path | None) -> None:
    if bases_file is None or not bases_file.exists():
        return
    document = yaml.safe_load(bases_file.read_text(encoding="utf-8")) or {}
    for program, bases in document.items():
        for raw in bases:
            reg = BaseRegistration.model_validate(raw)
            with session_scope(engine) as session:
                if store.get_base(session, program=program, base=reg.id) is None:
                    store.add_base(session, program=program, reg=reg)
                    log.info("base.seeded", program=program, base=reg.id)


def build_router(engine: Engine) -> NatsRouter:
    router = NatsRouter()

    subscriber = rpc_subscriber(router, SERVICE)

    @subscriber("rules.current")
    async def rules_current(req: GetProgram) -> PinnedRules:
        return await asyncio.to_thread(use_cases.current_rules, engine, req)

    @subscriber("programs.list")
    async def programs_list(_: Empty) -> ProgramList:
        return await asyncio.to_thread(use_cases.programs, engine)

    @subscriber("rules.apply")
    async def rules_apply(req: ApplyRules) -> RulesApplied:
        return await asyncio.to_thread(use_cases.apply_rules, engine, req)

    @subscriber("bases.get")
    async def bases_get(req: GetBase) -> BasePublic:
        return await asyncio.to_thread(use_cases.get_base, engine, req)

    @subscriber("bases.register")
    async def bases_register(req: RegisterBase) -> BasePublic:
        return await asyncio.to_thread(use_cases.register_base, engine, req)

    @subscriber("bases.active")
    async def bases_active(req: ListBasesRequest) -> BasesPage:
        return await asyncio.to_thread(use_cases.active_bases, engine, req)

    @subscriber("bases.list")
    async def bases_list(req: ListBases) -> BaseList:
        return await asyncio.to_thread(use_cases.list_bases, engine, req)

    @subscriber("bases.status")
    async def bases_status(req: BaseStatusChange) -> BaseStatusResult:
        """A cycle's request, answered: a refused change is an answer, not a failure."""
        return await asyncio.to_thread(use_cases.change_status, engine, req)

    @subscriber("bases.reinstate")
    async def bases_reinstate(req: Reinstate) -> Reinstated:
        return await asyncio.to_thread(use_cases.reinstate, engine, req)

    @subscriber("calendars.apply")
    async def calendars_apply(req: ApplyCalendar) -> CalendarApplyResult:
        return await asyncio.to_thread(use_cases.apply_calendar, engine, req)

    @subscriber("calendars.get")
    async def calendars_get(req: GetCalendar) -> CalendarVersionPublic:
        return await asyncio.to_thread(use_cases.get_calendar, engine, req)

    return router


def outcome_handler(engine: Engine) -> Callable[[CloudEvent, int], Awaitable[None]]:
    """Each ``outcome.decided`` takes effect once (see ``services.registry.outcomes``)."""

    async def handle(event: CloudEvent, stream_seq: int) -> None:
        decision = read_payload(event)
        if isinstance(decision, OutcomeDecided):
            await asyncio.to_thread(use_cases.apply_outcome, engine, event, decision)

    return handle


def build_broker(
    nats_url: str | list[str], engine: Engine, consumer: str = SERVICE, start_after: int = 0
) -> NatsBroker:
    """The registry's RPCs and its durable consumer ``consumer`` of the outcome decisions."""
    broker = service_broker(SERVICE, nats_url, engine, build_router(engine))
    event_consumer(
        broker,
        name=consumer,
        handler=outcome_handler(engine),
        subject=event_filter(event_type=EventType.OUTCOME_DECIDED),
        start_after=start_after,
    )
    return broker
