"""Registering a base under a program: the use case behind ``bases.register``.

The program's region and the eligibility rules (申报条件) of the kind of participant the
registration names decide (the program's first or only kind when it names none); one industry,
one base (一产业一基地) is checked against the bases not de-listed. Refusals are
:class:`RpcError` with a stable code, every reason in Chinese and English.
"""

from __future__ import annotations

from sqlmodel import Session

from services.registry import store
from shared.contracts.registry import BasePublic, BaseRegistration
from shared.domain.eligibility import (
    Answer,
    Applicant,
    Reason,
    domain_taken,
    registration_reasons,
    suggestions,
)
from shared.domain.participants import UnknownKind, kind_of, participant_rules
from shared.domain.rules import EligibilityRules, ProgramRules
from shared.rpc import RpcError


def applicant_of(reg: BaseRegistration) -> Applicant:
    return Applicant(
        domain=reg.domain,
        host_type=reg.host_type,
        staff_total=reg.staff.total,
        senior_full_time=reg.staff.senior_full_time,
        pct_minimum_data=reg.pct_minimum_data,
        region=reg.region,
        declarations={
            key: Answer(affirmed=a.affirmed, evidence=tuple(a.evidence))
            for key, a in reg.declarations.items()
        },
    )


def register_base(session: Session, *, program: str, reg: BaseRegistration) -> BasePublic:
    current = store.current_rules(session, program=program)
    if current is None:
        raise RpcError("program_not_found", f"no program {program!r}", 404)
    rules = ProgramRules.model_validate(current.document)
    try:
        kind = kind_of(rules, reg.kind)
    except UnknownKind as exc:
        raise RpcError("unknown_participant_kind", str(exc), 422, kinds=exc.known) from None
    eligibility = participant_rules(rules, kind).eligibility
    reasons = registration_reasons(rules, applicant_of(reg), kind)
    if reasons:
        raise _not_eligible(eligibility, reasons)
    if store.get_base(session, program=program, base=reg.id) is not None:
        raise RpcError("base_exists", f"base {reg.id!r} is already registered", 409)
    if domain_taken(eligibility, reg.domain, store.active_domains(session, program=program)):
        raise RpcError(
            "domain_taken",
            f"the program already has a base for {reg.domain} (一产业一基地)",
            409,
        )
    stored = kind if rules.participants else ""  # a program without kinds: as before kinds
    return store.to_public(store.add_base(session, program=program, reg=reg, kind=stored))


def _not_eligible(eligibility: EligibilityRules, reasons: list[Reason]) -> RpcError:
    return RpcError(
        "not_eligible",
        "; ".join(r.message for r in reasons),
        422,
        reasons=[
            {"code": r.code, "message": r.message, "message_zh": r.message_zh} for r in reasons
        ],
        suggestions=suggestions(eligibility),
    )
