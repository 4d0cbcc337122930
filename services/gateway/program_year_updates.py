"""An update of a program year's workflow from a route: the year's own refusals come back as the
workflow gave them (``call_workflow`` maps them), a year whose workflow has ended is 409
``year_closed`` and a year never launched 404 ``program_year_not_found``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from services.gateway.problems import ApiError

UPDATE_TIMEOUT = timedelta(seconds=20)
T = TypeVar("T")

NOT_LAUNCHED = ApiError(
    404, "program_year_not_found", "该项目年度尚未启动 — no such program year has been launched"
)


def year_closed(no_longer_zh: str, no_longer_en: str) -> ApiError:
    """409 ``year_closed``, naming what the ended year no longer takes."""
    return ApiError(
        409,
        "year_closed",
        f"该项目年度已结束，不再受理{no_longer_zh} — the program year has ended; {no_longer_en}"
        " are no longer taken",
    )


async def _ended(handle: WorkflowHandle[Any, Any]) -> bool:
    try:
        described = await handle.describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return described.status not in (None, WorkflowExecutionStatus.RUNNING)


async def update_year(
    handle: WorkflowHandle[Any, Any],
    update: str,
    arg: Any,
    *,
    update_id: str | None,
    result_type: type[T],
    closed: ApiError,
) -> T:
    """``update`` of the program year behind ``handle`` (``update_id`` makes a retry with the
    same Idempotency-Key answer the first call's result); ``closed`` when the year has ended."""
    try:
        result: T = await handle.execute_update(
            update, arg, id=update_id, result_type=result_type, rpc_timeout=UPDATE_TIMEOUT
        )
        return result
    except RPCError as exc:
        if exc.status == RPCStatusCode.FAILED_PRECONDITION or (
            exc.status == RPCStatusCode.NOT_FOUND and await _ended(handle)
        ):
            raise closed from None
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NOT_LAUNCHED from None
        raise
