"""What a holiday-table change leaves on the event log: the operator's audit record and, when a
version was made, a ``calendar.applied`` event naming the table, the version and the years it
changed (dashboards and notices read that one; the audit record says who did it)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from nats.js import JetStreamContext

from shared import audit
from shared.contracts.calendars import CalendarApplyResult
from shared.events.envelope import CloudEvent, new_event
from shared.events.payloads import CalendarApplied
from shared.events.subjects import PROGRAM_WIDE
from shared.publisher import EventPublisher

SOURCE = "navcycle/registry"


def applied_arguments(result: CalendarApplyResult) -> dict[str, Any]:
    return {
        "version": result.version,
        "created": result.created,
        "years": result.years,
        "sha256": result.digest,
    }


def calendar_applied_event(
    result: CalendarApplyResult, *, at: datetime | None = None
) -> CloudEvent:
    """One event per stored version: its id derives from the table and version, so a retried
    publication is de-duplicated by the stream."""
    time = at or datetime.now(UTC)
    return new_event(
        payload=CalendarApplied(calendar=result.calendar, **applied_arguments(result)),
        program=PROGRAM_WIDE,
        year=min(result.years) if result.years else time.year,
        base=None,
        time=time,
        stream_key=f"calendar/{result.calendar}",
        sequence=result.version,
        source=SOURCE,
    )


async def record_calendar_applied(
    js: JetStreamContext,
    result: CalendarApplyResult,
    *,
    actor: str,
    via: audit.Via,
    arguments: Mapping[str, Any] | None = None,
) -> None:
    """The audit record (always), then ``calendar.applied`` (only when a version was made)."""
    await audit.record(
        js,
        audit.operator_action(
            actor=actor,
            via=via,
            action="calendar.apply",
            target=f"calendar/{result.calendar}",
            arguments={**applied_arguments(result), **(arguments or {})},
        ),
    )
    if result.created:
        await EventPublisher(js).publish(calendar_applied_event(result))
