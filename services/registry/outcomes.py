"""Outcome decisions taking effect in the registry (issue 16): the program year publishes each as
``outcome.decided``; the registry's durable consumer acts on it once per event id.

- ``exit``: the base is de-listed through the state machine (``shared.domain.base_status``),
  the change recorded with the rule and the decision's words, by the program year; a base
  de-listed already stays as it is.
- ``reapplication_ban``: the ban is recorded, until the decision's time plus its duration in the
  program's time zone; registering the same base id in that program is refused until then
  (``registration.register_base``).
- other kinds (tiers, promotions) change nothing here; they are recorded as seen.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from services.registry import store
from services.registry.tables import OutcomeActionRow
from shared.domain.base_status import decide
from shared.domain.reapplication import ban_until, exit_reason
from shared.domain.rules import ProgramRules
from shared.domain.timespec import parse_utc_offset
from shared.events.envelope import CloudEvent
from shared.events.payloads import OutcomeDecided

YEAR_ACTOR = "program-year/{program}/{year}"


def apply_decision(session: Session, event: CloudEvent, decision: OutcomeDecided) -> str | None:
    """Act on one decision; its effect, or None when this event was acted on already."""
    if session.get(OutcomeActionRow, event.id) is not None:
        return None
    program, base, year = event.program, event.base, event.year
    row = store.lock_base(session, program=program, base=base)
    until: datetime | None = None
    if row is None:
        effect = "unknown_base"
    elif decision.kind == "exit":
        effect = "already_delisted"
        if decide(row.status, "delisted").changed:  # type: ignore[arg-type]
            store.record_status(
                session,
                row=row,
                status="delisted",
                reason=exit_reason(decision.rule, decision.words_zh, decision.words_en, year),
                by=YEAR_ACTOR.format(program=program, year=year),
                year=year,
                at=event.time,
            )
            effect = "delisted"
    elif decision.kind == "reapplication_ban" and decision.ban:
        current = store.current_rules(session, program=program)
        rules = ProgramRules.model_validate(current.document) if current else None
        offset = rules.calendar.utc_offset if rules else "+08:00"
        until = ban_until(event.time, decision.ban, parse_utc_offset(offset))
        effect = "banned"
    else:
        effect = "none"
    session.add(
        OutcomeActionRow(
            event_id=event.id,
            program=program,
            base=base,
            year=year,
            kind=decision.kind,
            rule=decision.rule,
            effect=effect,
            decided_at=event.time,
            ban=decision.ban,
            banned_until=until,
        )
    )
    session.flush()
    return effect


def bans(session: Session, *, program: str, base: str) -> list[OutcomeActionRow]:
    """The re-application bans recorded for a base id in a program, latest end first."""
    return list(
        session.exec(
            select(OutcomeActionRow)
            .where(
                OutcomeActionRow.program == program,
                OutcomeActionRow.base == base,
                OutcomeActionRow.effect == "banned",
            )
            .order_by(col(OutcomeActionRow.banned_until).desc())
        )
    )
