"""The registry service: programs and their rules versions, bases and their status."""

from __future__ import annotations

from pathlib import Path

import yaml
from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine

from services.registry import calendars, registration, store
from services.registry import status as base_status
from shared.contracts.cycle import BaseInfo
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
from shared.domain.rules import ProgramRules, RulesError, load_rules_file, parse_rules
from shared.logging import get_logger
from shared.rpc import Empty, RpcError, rpc_handler
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
    @rpc_handler(GetProgram)
    async def rules_current(req: GetProgram) -> PinnedRules:
        with session_scope(engine) as session:
            row = store.current_rules(session, program=req.program)
        if row is None:
            raise RpcError("program_not_found", f"no program {req.program!r}", 404)
        return PinnedRules(rules=ProgramRules.model_validate(row.document), version=row.version)

    @subscriber("programs.list")
    @rpc_handler(Empty)
    async def programs_list(_: Empty) -> ProgramList:
        with session_scope(engine) as session:
            rows = store.current_rules_all(session)
        return ProgramList(
            programs=[
                PinnedRules(rules=ProgramRules.model_validate(r.document), version=r.version)
                for r in rows
            ]
        )

    @subscriber("rules.apply")
    @rpc_handler(ApplyRules)
    async def rules_apply(req: ApplyRules) -> RulesApplied:
        try:
            rules = parse_rules(req.document)
        except RulesError as exc:
            raise RpcError("invalid_rules", str(exc), 422, errors=exc.errors) from None
        with session_scope(engine) as session:
            row, created = store.apply_rules(session, rules=rules)
        if created:
            log.info("rules.applied", program=rules.id, version=row.version, source="api")
        return RulesApplied(program=rules.id, version=row.version, created=created)

    @subscriber("bases.get")
    @rpc_handler(GetBase)
    async def bases_get(req: GetBase) -> BasePublic:
        with session_scope(engine) as session:
            row = store.get_base(session, program=req.program, base=req.base)
            if row is None:
                raise RpcError("base_not_found", f"no base {req.base!r} in {req.program!r}", 404)
            return store.to_public(row)

    @subscriber("bases.register")
    @rpc_handler(RegisterBase)
    async def bases_register(req: RegisterBase) -> BasePublic:
        with session_scope(engine) as session:
            public = registration.register_base(session, program=req.program, reg=req.registration)
        log.info("base.registered", program=req.program, base=public.id)
        return public

    @subscriber("bases.active")
    @rpc_handler(ListBasesRequest)
    async def bases_active(req: ListBasesRequest) -> BasesPage:
        limit = max(1, min(req.limit, 1000))
        with session_scope(engine) as session:
            rows = store.bases_page(
                session,
                program=req.program,
                after=req.cursor,
                limit=limit,
                exclude_status="delisted",
            )
        bases = [
            BaseInfo(id=r.id, name=r.name, region=r.region, domain=r.domain, status=r.status)
            for r in rows
        ]
        return BasesPage(bases=bases, next_cursor=rows[-1].id if len(rows) == limit else None)

    @subscriber("bases.list")
    @rpc_handler(ListBases)
    async def bases_list(req: ListBases) -> BaseList:
        with session_scope(engine) as session:
            rows = store.list_bases(
                session, program=req.program, status=req.status, region=req.region
            )
        return BaseList(bases=[store.to_public(r).model_dump() for r in rows])

    @subscriber("bases.status")
    @rpc_handler(BaseStatusChange)
    async def bases_status(req: BaseStatusChange) -> BaseStatusResult:
        """A cycle's request, answered: a refused change is an answer, not a failure."""
        with session_scope(engine) as session:
            result = base_status.change_status(session, req)
        log.info(
            "base.status",
            program=req.program,
            base=req.base,
            year=req.year,
            asked=req.status,
            status=result.status,
            changed=result.changed,
            refused=result.refused,
        )
        return result

    @subscriber("bases.reinstate")
    @rpc_handler(Reinstate)
    async def bases_reinstate(req: Reinstate) -> Reinstated:
        with session_scope(engine) as session:
            done = base_status.reinstate(session, req)
        log.info("base.reinstated", program=req.program, base=req.base, by=req.by)
        return done

    router.include_router(calendars.build_router(engine))
    return router


def build_broker(nats_url: str | list[str], engine: Engine) -> NatsBroker:
    return service_broker(SERVICE, nats_url, engine, build_router(engine))
