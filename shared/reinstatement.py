"""A reinstatement on the record: the ``base.reinstated`` event and its ``operator.action`` audit,
published by whoever asked (the gateway or the CLI) once the registry has reinstated the base."""

from __future__ import annotations

from datetime import timedelta, timezone

from nats.js import JetStreamContext

from shared import audit
from shared.contracts.registry import Reinstated
from shared.events.envelope import CloudEvent, new_event
from shared.events.payloads import BaseReinstated
from shared.publisher import EventPublisher

BEIJING = timezone(timedelta(hours=8))


def event_year(done: Reinstated) -> int:
    """The calendar year (Beijing time) the reinstatement happened in: where its events go."""
    return done.at.astimezone(BEIJING).year


def reinstated_event(done: Reinstated) -> CloudEvent:
    """Deterministic id per (program, base, status change): a retried publish is dropped."""
    return new_event(
        payload=BaseReinstated(
            status=done.status,
            reason=done.reason,
            by=done.by,
            delisted_at=done.delisted_at.isoformat() if done.delisted_at else None,
            delisted_in_year=done.delisted_in_year,
        ),
        program=done.program,
        year=event_year(done),
        base=done.base,
        time=done.at,
        stream_key=f"registry/{done.program}/{done.base}/status/{done.change}",
        sequence=1,
        source="navcycle/registry",
    )


async def record_reinstatement(
    js: JetStreamContext, done: Reinstated, *, actor: str, via: audit.Via, role: str | None = None
) -> CloudEvent:
    """Publish ``base.reinstated`` and the audit record; returns the audit event."""
    await EventPublisher(js).publish(reinstated_event(done))
    arguments: dict[str, object] = {
        "change": done.change,
        "delisted_in_year": done.delisted_in_year,
    }
    if role:
        arguments["role"] = role
    return await audit.record(
        js,
        audit.operator_action(
            actor=actor,
            via=via,
            action="base.reinstate",
            target=f"base/{done.program}/{done.base}",
            reason=done.reason,
            arguments=arguments,
            program=done.program,
            year=event_year(done),
            base=done.base,
            at=done.at,
        ),
    )
