"""The assessment service: the expert roster, review assignments, every decision record.

A review round is assigned before it opens (``assignments.open``), never with fewer experts than
it needs; silent or revoked experts' places go to the next experts on the roster
(``assignments.reassign``, ``experts.remove``). Every assignment is an event, published before
the transaction commits: the ids are deterministic, so a retry after a failed commit publishes
nothing new.
"""

from __future__ import annotations

from datetime import UTC, datetime

from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine
from sqlmodel import Session

from services.assessment import events, store
from shared.consumer import event_consumer
from shared.contracts.assessment import (
    AddExpert,
    AssignmentQuery,
    Assignments,
    ExpertRemoved,
    OpenAssignments,
    ReassignExperts,
    RemoveExpert,
    ReviewRef,
    RosterQuery,
    RosterStatus,
)
from shared.db import session_scope
from shared.events.envelope import CloudEvent
from shared.events.payloads import ReviewGraded, ReviewOpened, read_payload
from shared.events.types import EventType
from shared.logging import get_logger
from shared.rpc import Empty, RpcError, rpc_handler
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
        # After the commit, never inside it (see assignments_open). A crash between the two
        # loses these notices; the review.opened path is the old one, kept for reviews opened
        # before assignments.open existed.
        await sink.publish(pending)

    return handle


def _answer(round_: int | None, rows: list) -> Assignments:  # type: ignore[type-arg]
    active = [r for r in rows if r.replaced_at is None]
    return Assignments(
        round=round_,
        experts=sorted(r.expert for r in active),
        due=active[0].due if active else None,
        replaced=sorted(r.expert for r in rows if r.replaced_at is not None),
    )


def _short_message(size: int, needed: int) -> str:
    return (
        f"专家库人数不足：评审需要 {needed} 名专家，专家库现有 {size} 名，请先增补专家"
        f" — the roster is too short: a review needs {needed} experts and the roster has {size}"
    )


def _reassign(
    session: Session,
    *,
    program: str,
    year: int,
    base: str,
    round_: int,
    keep: list[str],
    reason: str,
    by: str,
    due: datetime | None,
    at: datetime,
) -> tuple[Assignments, list[CloudEvent]]:
    """Reassign one round: the round's answer, and the events saying who left, who came and
    why (published by the caller once the transaction has committed)."""
    _, replaced = store.reassign(
        session,
        program=program,
        year=year,
        base=base,
        round_=round_,
        keep=keep,
        reason=reason,
        due=due,
        at=at,
    )
    rows = store.round_rows(session, program=program, year=year, base=base, round_=round_)
    new = {r.by for r in replaced}
    pending = events.reassigned(
        program=program,
        year=year,
        base=base,
        round_=round_,
        replacements=replaced,
        by=by,
        reason=reason,
        at=at,
    ) + events.assigned([r for r in rows if r.expert in new], at)
    log.info(
        "review.reassigned",
        program=program,
        base=base,
        replaced=[(r.replaced, r.by) for r in replaced],
        by=by,
    )
    return _answer(round_, rows), pending


def build_router(engine: Engine, sink: events.Events) -> NatsRouter:
    router = NatsRouter()

    subscriber = rpc_subscriber(router, SERVICE)

    @subscriber("experts.add")
    @rpc_handler(AddExpert)
    async def experts_add(req: AddExpert) -> Empty:
        with session_scope(engine) as session:
            store.add_expert(session, program=req.program, expert=req.expert)
        return Empty()

    @subscriber("roster.check")
    @rpc_handler(RosterQuery)
    async def roster_check(req: RosterQuery) -> RosterStatus:
        with session_scope(engine) as session:
            size = len(store.roster(session, program=req.program))
        ok = size >= req.needed
        return RosterStatus(
            size=size,
            needed=req.needed,
            ok=ok,
            message=None if ok else _short_message(size, req.needed),
        )

    @subscriber("assignments.open")
    @rpc_handler(OpenAssignments)
    async def assignments_open(req: OpenAssignments) -> Assignments:
        at = req.at or datetime.now(UTC)
        with session_scope(engine) as session:
            store.open_round(
                session,
                program=req.program,
                year=req.year,
                base=req.base,
                round_=req.round,
                needed=req.needed,
                due=req.due,
            )
            rows = store.round_rows(
                session, program=req.program, year=req.year, base=req.base, round_=req.round
            )
            answer = _answer(req.round, rows)
            # Every current expert's notice again on a retry: their ids repeat, so JetStream
            # and the notifier keep one each.
            pending = events.assigned([r for r in rows if r.replaced_at is None], at)
        # Published once committed: an await inside the transaction would hold SQLite's write
        # lock while the event consumer, on this same loop, waits for it.
        await sink.publish(pending)
        log.info("review.assigned", program=req.program, base=req.base, experts=answer.experts)
        return answer

    @subscriber("assignments.reassign")
    @rpc_handler(ReassignExperts)
    async def assignments_reassign(req: ReassignExperts) -> Assignments:
        at = req.at or datetime.now(UTC)
        with session_scope(engine) as session:
            round_ = req.round
            if round_ is None:
                round_ = store.latest_round(
                    session, program=req.program, year=req.year, base=req.base
                )
            if round_ is None:
                raise RpcError(
                    "review_not_assigned",
                    f"该基地 {req.year} 年度尚无评审专家 — no review of {req.base} in {req.year}"
                    " has experts assigned",
                    404,
                )
            if store.is_decided(
                session, program=req.program, year=req.year, base=req.base, round_=round_
            ):
                raise RpcError(
                    "review_decided",
                    f"第 {round_} 轮评审已评定，不能改派 — round {round_} is already graded",
                    409,
                )
            keep = req.keep
            if keep is None:
                current = store.round_rows(
                    session, program=req.program, year=req.year, base=req.base, round_=round_
                )
                active = {r.expert for r in current if r.replaced_at is None}
                unknown = sorted(set(req.replace or []) - active)
                if unknown:
                    raise RpcError(
                        "not_assigned",
                        f"不在本轮评审的专家：{', '.join(unknown)} — not on this review:"
                        f" {', '.join(unknown)}",
                        422,
                    )
                keep = sorted(active - set(req.replace or []))
            answer, pending = _reassign(
                session,
                program=req.program,
                year=req.year,
                base=req.base,
                round_=round_,
                keep=keep,
                reason=req.reason,
                by=req.by,
                due=req.due,
                at=at,
            )
        await sink.publish(pending)
        return answer

    @subscriber("experts.remove")
    @rpc_handler(RemoveExpert)
    async def experts_remove(req: RemoveExpert) -> ExpertRemoved:
        """Off the roster, then each undecided review reassigned in a transaction of its own."""
        with session_scope(engine) as session:
            removed = store.remove_expert(session, program=req.program, expert=req.expert)
            places = [
                (r.year, r.base, r.round)
                for r in store.open_reviews_of(session, program=req.program, expert=req.expert)
            ]
        done = ExpertRemoved(program=req.program, expert=req.expert, removed=removed)
        reason = req.reason or f"专家 {req.expert} 已被撤销 — expert {req.expert} was revoked"
        for year, base, round_ in places:
            ref = ReviewRef(year=year, base=base, round=round_)
            try:
                await assignments_reassign_one(req, year, base, round_, reason)
            except RpcError as exc:
                done.unfilled.append(ref.model_copy(update={"message": exc.message}))
            else:
                done.reassigned.append(ref)
        return done

    async def assignments_reassign_one(
        req: RemoveExpert, year: int, base: str, round_: int, reason: str
    ) -> None:
        with session_scope(engine) as session:
            rows = store.round_rows(
                session, program=req.program, year=year, base=base, round_=round_
            )
            _, pending = _reassign(
                session,
                program=req.program,
                year=year,
                base=base,
                round_=round_,
                keep=[r.expert for r in rows if r.replaced_at is None and r.expert != req.expert],
                reason=reason,
                by=req.by,
                due=None,
                at=datetime.now(UTC),
            )
        await sink.publish(pending)

    @subscriber("assignments.current")
    @rpc_handler(AssignmentQuery)
    async def assignments(req: AssignmentQuery) -> Assignments:
        with session_scope(engine) as session:
            round_, rows = store.current_assignments(
                session, program=req.program, year=req.year, base=req.base
            )
            return _answer(round_, rows)

    return router


def build_broker(nats_url: str | list[str], engine: Engine) -> NatsBroker:
    sink = events.Events()
    broker = service_broker(SERVICE, nats_url, engine, build_router(engine, sink))
    sink.bind(broker)
    event_consumer(broker, name=SERVICE, handler=make_handler(engine, sink))
    return broker
