"""An admin act's audit record, written after the act: when the event log does not take it, the
act stands and the answer says plainly that its record is what failed (503
``audit_unavailable``)."""

from __future__ import annotations

from nats.errors import Error as NatsError

from services.gateway.deps import Deps
from services.gateway.problems import ApiError
from shared import audit
from shared.events.envelope import CloudEvent


def failed(what: str, exc: Exception) -> ApiError:
    """The answer when the act ``what`` stands and its audit record was not written."""
    return ApiError(
        503,
        "audit_unavailable",
        f"{what} stands, but its audit record was not written; tell the operator: {exc}",
    )


async def record(deps: Deps, event: CloudEvent, what: str) -> None:
    """Publish ``event`` (built by ``audit.operator_action``) for the act ``what``."""
    try:
        await audit.record(deps.nats.jetstream(), event)
    except NatsError as exc:
        raise failed(what, exc) from None
