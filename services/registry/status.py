"""A base's status in the registry: a cycle's request answered, a reinstatement decided.

Both go through the pure state machine (``shared.domain.base_status``) and record every change
(``store.record_status``): who asked (a program year's cycle, or a person), why and when.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from services.registry import store
from services.registry.tables import BaseRow
from shared.contracts.registry import (
    BaseStatusChange,
    BaseStatusResult,
    Reinstate,
    Reinstated,
)
from shared.domain.base_status import decide, decide_reinstatement
from shared.domain.eligibility import domain_taken
from shared.domain.participants import participant_rules, standing_kind
from shared.domain.rules import ProgramRules
from shared.domain.timespec import parse_utc_offset
from shared.rpc import RpcError

REFUSAL_STATUS = {"not_delisted": 409, "reapplication_ban_running": 409, "reason_required": 422}


def cycle_actor(program: str, year: int | None, base: str) -> str:
    """Who a cycle's request is recorded as: its workflow id (``cycle/<program>/<year>/<base>``)."""
    return f"cycle/{program}/{year}/{base}" if year is not None else f"cycle/{program}/?/{base}"


def _base(session: Session, program: str, base: str) -> BaseRow:
    row = store.lock_base(session, program=program, base=base)
    if row is None:
        raise RpcError("base_not_found", f"no base {base!r} in {program!r}", 404)
    return row


def change_status(session: Session, req: BaseStatusChange) -> BaseStatusResult:
    """Apply a cycle's request if the state machine allows it; answer either way."""
    row = _base(session, req.program, req.base)
    decision = decide(row.status, req.status)  # type: ignore[arg-type]
    if decision.changed:
        store.record_status(
            session,
            row=row,
            status=decision.status,
            reason=req.reason,
            by=req.by or cycle_actor(req.program, req.year, req.base),
            year=req.year,
            at=req.at or datetime.now(UTC),
        )
    return BaseStatusResult(
        status=decision.status,
        changed=decision.changed,
        refused=decision.refused.code if decision.refused else None,
        message=decision.refused.text if decision.refused else None,
        delisted_in_year=row.delisted_in_year if row.status == "delisted" else None,
    )


def reinstate(session: Session, req: Reinstate) -> Reinstated:
    """``delisted -> active`` by a person; refused with a stable code and a 4xx otherwise."""
    row = _base(session, req.program, req.base)
    current = store.current_rules(session, program=req.program)
    if current is None:
        raise RpcError("program_not_found", f"no program {req.program!r}", 404)
    rules = ProgramRules.model_validate(current.document)
    now = req.at or datetime.now(UTC)
    decision = decide_reinstatement(
        row.status,  # type: ignore[arg-type]
        reason=req.reason,
        delisted_at=row.delisted_at,
        ban=rules.outcomes.reapplication_ban,
        now=now,
        tz=parse_utc_offset(rules.calendar.utc_offset),
    )
    if decision.refused is not None:
        code = decision.refused.code
        raise RpcError(code, decision.refused.text, REFUSAL_STATUS.get(code, 409))
    eligibility = participant_rules(rules, standing_kind(rules, row.kind or None)).eligibility
    if domain_taken(eligibility, row.domain, store.active_domains(session, program=req.program)):
        raise RpcError(
            "domain_taken",
            f"该产业已有基地（一产业一基地），不能恢复 — another base now holds {row.domain}"
            " (one base per industry): the base cannot be reinstated",
            409,
        )
    delisted_at, delisted_in_year = row.delisted_at, row.delisted_in_year
    change = store.record_status(
        session, row=row, status="active", reason=req.reason, by=req.by, year=None, at=now
    )
    return Reinstated(
        program=req.program,
        base=req.base,
        status="active",
        reason=req.reason,
        by=req.by,
        at=now,
        delisted_at=delisted_at,
        delisted_in_year=delisted_in_year,
        change=change.change,
    )
