"""Holiday tables (节假日安排): ``PUT`` applies one (its years replace the stored ones, the others
are kept), ``GET`` reads the current version. Every program counts working days with one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi import Path as PathParam
from nats.errors import Error as NatsError
from temporalio.service import RPCError

from services.gateway.access import Target, allowed
from services.gateway.auth import UserDep, rpc
from services.gateway.deps import DepsDep
from services.gateway.problem_docs import authenticated
from services.gateway.problems import ApiError
from shared import calendar_signal
from shared.calendar_events import record_calendar_applied
from shared.contracts.calendars import (
    ApplyCalendar,
    CalendarApplyResponse,
    CalendarApplyResult,
    CalendarVersionPublic,
    GetCalendar,
)
from shared.domain.holidays import HolidayTableError, holiday_table_document, parse_holiday_table
from shared.events.subjects import PROGRAM_WIDE
from shared.logging import get_logger

router = APIRouter(prefix="/v1/calendars", tags=["calendars"])
log = get_logger("gateway")
CalendarId = Annotated[
    str,
    PathParam(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="The table's id, e.g. cn-statutory",
    ),
]


@router.put("/{calendar_id}", responses=authenticated())
async def apply_calendar(
    calendar_id: CalendarId,
    deps: DepsDep,
    user: UserDep,
    document: Any = Body(description="A holiday table: id, name, years {YYYY: {...}}"),
) -> CalendarApplyResponse:
    if not allowed(user, "apply_calendar", Target(program=PROGRAM_WIDE)):
        raise ApiError(403, "forbidden", f"a {user.role} may not apply holiday tables")
    if isinstance(document, dict):
        document = {"id": calendar_id, **document}
        if document["id"] != calendar_id:
            raise ApiError(
                422, "calendar_id_mismatch", f"the document's id must be {calendar_id!r}"
            )
    try:
        table = parse_holiday_table(document)
    except HolidayTableError as exc:
        raise ApiError(
            422,
            "invalid_calendar",
            f"节假日表有误 / the holiday table is invalid: {exc}",
            errors=exc.errors,
        ) from None
    applied = await rpc(
        deps.rpc.call(
            "registry",
            "calendars.apply",
            ApplyCalendar(document=holiday_table_document(table), source=f"api:{user.name}"),
            CalendarApplyResult,
        )
    )
    try:
        await record_calendar_applied(
            deps.nats.jetstream(),
            applied,
            actor=user.name,
            via="api",
            arguments={"role": user.role},
        )
    except NatsError as exc:
        raise ApiError(
            503,
            "audit_unavailable",
            f"version {applied.version} is stored but its audit record was not written: {exc}",
        ) from None
    # Told even when nothing changed: a table stored while Temporal was away reaches the
    # program years when it is applied again (counting again is idempotent).
    try:
        told = await calendar_signal.calendar_applied(
            deps.temporal,
            calendar_id=applied.calendar,
            version=applied.version,
            years=applied.years,
        )
    except RPCError as exc:
        raise ApiError(
            503,
            "temporal_unavailable",
            f"version {applied.version} is stored and recorded, but running program years "
            f"were not told to count their provisional deadlines again (apply it again): {exc}",
        ) from None
    log.info(
        "calendar.applied",
        calendar=applied.calendar,
        version=applied.version,
        years=applied.years,
        by=user.name,
    )
    return CalendarApplyResponse(**applied.model_dump(), program_years_told=told)


@router.get("/{calendar_id}", responses=authenticated())
async def get_calendar(
    calendar_id: CalendarId, deps: DepsDep, user: UserDep
) -> CalendarVersionPublic:
    return await rpc(
        deps.rpc.call(
            "registry", "calendars.get", GetCalendar(calendar=calendar_id), CalendarVersionPublic
        )
    )
