"""Registering a base under a program: the use case behind ``bases.register``.

The program's region and the eligibility rules (申报条件) of the kind of participant the
registration names decide (the program's first or only kind when it names none); one industry,
one base (一产业一基地) is checked against the bases not de-listed. Refusals are
:class:`RpcError` with a stable code, every reason in Chinese and English.

A base id that is registered already is refused (``base_exists``) unless that base is de-listed:
then the registration is a re-application (重新申报), refused while a ban on re-applying runs
(``reapplication_banned``, 409, naming the day it ends: a ban an outcome decision recorded, or
the rules' ``outcomes.reapplication_ban`` from the de-listing), and afterwards accepted as a new
registration of that base, its status back to active on the record.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from services.registry import outcomes, store
from services.registry.tables import BaseRow
from shared.contracts.registry import BasePublic, BaseRegistration
from shared.domain.base_status import ban_ends
from shared.domain.eligibility import (
    Answer,
    Applicant,
    Reason,
    domain_taken,
    registration_reasons,
    suggestions,
)
from shared.domain.participants import UnknownKind, kind_of, participant_rules
from shared.domain.reapplication import reapplication_refusal
from shared.domain.rules import EligibilityRules, ProgramRules
from shared.domain.timespec import parse_utc_offset
from shared.domain.wording import end_en, end_zh
from shared.rpc import RpcError

REAPPLIED = "重新申报（限制期已满），重新登记 — re-applied after any ban on re-applying had run"


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


def register_base(
    session: Session, *, program: str, reg: BaseRegistration, at: datetime | None = None
) -> BasePublic:
    """Register ``reg`` at business time ``at`` (None: now)."""
    current = store.current_rules(session, program=program)
    if current is None:
        raise RpcError("program_not_found", f"no program {program!r}", 404)
    rules = ProgramRules.model_validate(current.document)
    existing = store.get_base(session, program=program, base=reg.id)
    _refuse_while_banned(session, rules, program, reg.id, existing, at or datetime.now(UTC))
    try:
        kind = kind_of(rules, reg.kind)
    except UnknownKind as exc:
        raise RpcError("unknown_participant_kind", str(exc), 422, kinds=exc.known) from None
    eligibility = participant_rules(rules, kind).eligibility
    reasons = registration_reasons(rules, applicant_of(reg), kind)
    if reasons:
        raise _not_eligible(eligibility, reasons)
    if existing is not None and existing.status != "delisted":
        raise RpcError("base_exists", f"base {reg.id!r} is already registered", 409)
    if domain_taken(eligibility, reg.domain, store.active_domains(session, program=program)):
        raise RpcError(
            "domain_taken",
            f"the program already has a base for {reg.domain} (一产业一基地)",
            409,
        )
    stored = kind if rules.participants else ""  # a program without kinds: as before kinds
    if existing is not None:  # de-listed, and no ban runs: a re-application
        store.update_registration(session, row=existing, reg=reg, kind=stored)
        store.record_status(
            session,
            row=existing,
            status="active",
            reason=REAPPLIED,
            by="registration",
            year=None,
            at=at or datetime.now(UTC),
        )
        return store.to_public(existing)
    return store.to_public(store.add_base(session, program=program, reg=reg, kind=stored))


def _refuse_while_banned(
    session: Session,
    rules: ProgramRules,
    program: str,
    base: str,
    existing: BaseRow | None,
    now: datetime,
) -> None:
    """409 ``reapplication_banned`` while a ban on re-applying runs for this base id: one an
    outcome decision recorded, or the rules' ban from the base's de-listing."""
    tz = parse_utc_offset(rules.calendar.utc_offset)
    ends = [
        (row.banned_until, row.ban) for row in outcomes.bans(session, program=program, base=base)
    ]
    rules_ban = rules.outcomes.reapplication_ban
    if existing is not None and existing.status == "delisted":
        ends.append((ban_ends(existing.delisted_at, rules_ban, tz), rules_ban))
    running = [(until, ban) for until, ban in ends if until is not None and ban and now < until]
    if not running:
        return
    until, ban = max(running)
    refusal = reapplication_refusal(base, until, ban, tz)
    raise RpcError(
        "reapplication_banned",
        refusal.text,
        409,
        until=until.astimezone(tz).isoformat(),
        until_words={"zh": end_zh(until, tz=tz), "en": end_en(until, tz=tz)},
    )


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
