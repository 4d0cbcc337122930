"""The assessment service's use cases, one function each: plain functions of the database and a
request model that return the reply model or raise ``RpcError``. The handlers in ``app.py`` run
them in a thread; tests call them directly, with no broker.

A use case that assigns experts hands its events to ``publish`` once its transaction has
committed, never inside it: an await inside the transaction would hold SQLite's write lock while
the event consumer waits for it, and the ids are deterministic, so a retry after a failed commit
publishes nothing new. In the service ``publish`` waits for the broker; a test collects them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlmodel import Session

from services.assessment import events, store
from services.assessment.tables import AssignmentRow
from shared import paging
from shared.contracts.assessment import (
    AddExpert,
    AssignmentQuery,
    Assignments,
    ExpertRemoved,
    ExpertReview,
    ExpertReviews,
    ExpertReviewsQuery,
    OpenAssignments,
    ReassignExperts,
    RemoveExpert,
    ReviewRef,
    RosterQuery,
    RosterStatus,
)
from shared.db import session_scope
from shared.events.envelope import CloudEvent
from shared.logging import get_logger
from shared.rpc import Empty, RpcError

log = get_logger("assessment")
Publish = Callable[[list[CloudEvent]], None]  # called after a commit, with what it decided


def _answer(round_: int | None, rows: Sequence[AssignmentRow]) -> Assignments:
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


def add_expert(engine: Engine, req: AddExpert) -> Empty:
    with session_scope(engine) as session:
        store.add_expert(session, program=req.program, expert=req.expert)
    return Empty()


def check_roster(engine: Engine, req: RosterQuery) -> RosterStatus:
    with session_scope(engine) as session:
        size = len(store.roster(session, program=req.program))
    ok = size >= req.needed
    return RosterStatus(
        size=size,
        needed=req.needed,
        ok=ok,
        message=None if ok else _short_message(size, req.needed),
    )


def open_assignments(engine: Engine, req: OpenAssignments, publish: Publish) -> Assignments:
    """Assign a round before it opens, idempotent; ``roster_too_short`` while it cannot be."""
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
        # Every current expert's notice again on a retry: their ids repeat, so JetStream and
        # the notifier keep one each.
        pending = events.assigned([r for r in rows if r.replaced_at is None], at)
    publish(pending)
    log.info("review.assigned", program=req.program, base=req.base, experts=answer.experts)
    return answer


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


def _keep(session: Session, req: ReassignExperts, round_: int) -> list[str]:
    """Who stays on the round: ``keep`` as asked, or everyone now on it but ``replace``."""
    if req.keep is not None:
        return req.keep
    current = store.round_rows(
        session, program=req.program, year=req.year, base=req.base, round_=round_
    )
    active = {r.expert for r in current if r.replaced_at is None}
    unknown = sorted(set(req.replace or []) - active)
    if unknown:
        raise RpcError(
            "not_assigned",
            f"不在本轮评审的专家：{', '.join(unknown)} — not on this review: {', '.join(unknown)}",
            422,
        )
    return sorted(active - set(req.replace or []))


def reassign_experts(engine: Engine, req: ReassignExperts, publish: Publish) -> Assignments:
    """Give places on an undecided round to the next experts on the roster."""
    at = req.at or datetime.now(UTC)
    with session_scope(engine) as session:
        round_ = req.round
        if round_ is None:
            round_ = store.latest_round(session, program=req.program, year=req.year, base=req.base)
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
        answer, pending = _reassign(
            session,
            program=req.program,
            year=req.year,
            base=req.base,
            round_=round_,
            keep=_keep(session, req, round_),
            reason=req.reason,
            by=req.by,
            due=req.due,
            at=at,
        )
    publish(pending)
    return answer


def _replace_on(
    engine: Engine, req: RemoveExpert, place: ReviewRef, reason: str
) -> list[CloudEvent]:
    """The removed expert's place on one review, given away; the events to publish."""
    with session_scope(engine) as session:
        rows = store.round_rows(
            session, program=req.program, year=place.year, base=place.base, round_=place.round
        )
        _, pending = _reassign(
            session,
            program=req.program,
            year=place.year,
            base=place.base,
            round_=place.round,
            keep=[r.expert for r in rows if r.replaced_at is None and r.expert != req.expert],
            reason=reason,
            by=req.by,
            due=None,
            at=datetime.now(UTC),
        )
    return pending


def remove_expert(engine: Engine, req: RemoveExpert, publish: Publish) -> ExpertRemoved:
    """Off the roster, then each undecided review reassigned in a transaction of its own (its
    events published once it commits); a review the roster cannot fill keeps the expert."""
    with session_scope(engine) as session:
        removed = store.remove_expert(session, program=req.program, expert=req.expert)
        places = [
            ReviewRef(year=r.year, base=r.base, round=r.round)
            for r in store.open_reviews_of(session, program=req.program, expert=req.expert)
        ]
    done = ExpertRemoved(program=req.program, expert=req.expert, removed=removed)
    reason = req.reason or f"专家 {req.expert} 已被撤销 — expert {req.expert} was revoked"
    for place in places:
        try:
            pending = _replace_on(engine, req, place, reason)
        except RpcError as exc:
            done.unfilled.append(place.model_copy(update={"message": exc.message}))
        else:
            publish(pending)
            done.reassigned.append(place)
    return done


def current_assignments(engine: Engine, req: AssignmentQuery) -> Assignments:
    with session_scope(engine) as session:
        round_, rows = store.current_assignments(
            session, program=req.program, year=req.year, base=req.base
        )
        return _answer(round_, rows)


def expert_reviews(engine: Engine, req: ExpertReviewsQuery) -> ExpertReviews:
    """A page of the expert's reviews, newest year first: ``limit`` at most and never more JSON
    than the reply budget; ``next_cursor`` (``year/base``) when more follow."""
    after = None
    if req.cursor:
        year, base = req.cursor.split("/", 1)
        after = (int(year), base)
    with session_scope(engine) as session:
        rows = store.places_page(
            session, program=req.program, expert=req.expert, after=after, limit=req.limit
        )
        reviews = [
            ExpertReview(year=r.year, base=r.base, round=r.round, due=r.due, decided=decided)
            for r, decided in rows
        ]
    page, more = paging.cut(reviews, limit=req.limit, size_of=paging.model_size)
    cursor = f"{page[-1].year}/{page[-1].base}" if more else None
    return ExpertReviews(reviews=page, next_cursor=cursor)
