"""Request/reply between processes over NATS, with typed contracts and structured errors.

A service's handler is a typed function (``async def get_base(req: GetBase) -> BasePublic``):
FastStream decodes the request into its model and sends the returned model back as the reply's
JSON body, so the AsyncAPI document names both. A refusal or a failure is a reply too, never a
silence: :class:`RpcErrors`, the middleware of every request/reply subscriber, answers it with an
:class:`RpcFailure` body and the ``Navcycle-Error`` header naming its code. So a caller turns a
service's refusal into the right 4xx without guessing, a bad request into 422 ``invalid_request``
and a crash into 503 ``service_unavailable``.
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from faststream import BaseMiddleware
from faststream.exceptions import SubscriberNotFound
from faststream.message import StreamMessage
from faststream.nats import NatsBroker, NatsResponse
from nats.aio.client import Client as NatsClient
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.events.subjects import rpc_subject
from shared.logging import get_logger

log = get_logger("rpc")
Rep = TypeVar("Rep", bound=BaseModel)
ERROR_HEADER = "Navcycle-Error"  # on a reply that is an RpcFailure; its value is the code


class RpcError(Exception):
    def __init__(self, code: str, message: str, status: int = 400, **details: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "status": self.status, **self.details}


def unknown_cursor(cursor: str) -> RpcError:
    """A page asked for after a cursor this list never gave (422 ``unknown_cursor``)."""
    return RpcError(
        "unknown_cursor",
        f"未知的分页游标 {cursor!r}，请从第一页重新读取 / unknown cursor {cursor!r}: "
        "read again from the first page",
        422,
        cursor=cursor,
    )


class ServiceUnavailable(RpcError):
    def __init__(self, message: str) -> None:
        super().__init__("service_unavailable", message, 503)


class RpcFailure(BaseModel):
    """The body of a reply marked by the ``Navcycle-Error`` header: a refusal or a failure."""

    model_config = ConfigDict(extra="allow")  # details of the refusal (e.g. the rules' errors)

    code: str = Field(description="stable error code, e.g. base_not_found, invalid_request")
    message: str = Field(description="what went wrong, for a person (Chinese and English)")
    status: int = Field(description="the HTTP status a gateway answers with (4xx, or 503)")


class Empty(BaseModel):
    pass


class ServiceHealth(BaseModel):
    """A service's answer on ``navcycle.rpc.<service>.health``."""

    model_config = ConfigDict(extra="allow")  # what the service's own check reports

    status: Literal["ok", "degraded"]
    error: str | None = Field(default=None, description="why it is degraded")


def failure_reply(error: RpcError) -> NatsResponse:
    return NatsResponse(
        json.dumps(error.to_json(), default=str).encode(), headers={ERROR_HEADER: error.code}
    )


class RpcErrors(BaseMiddleware):
    """Every outcome of a request/reply handler, including a request it cannot decode, becomes
    a reply: a caller never waits out its timeout on a refusal or a crash."""

    async def consume_scope(self, call_next: Any, msg: StreamMessage[Any]) -> Any:
        try:
            return await call_next(msg)
        except ValidationError as exc:
            return failure_reply(
                RpcError("invalid_request", str(exc.errors(include_url=False)), 422)
            )
        except RpcError as exc:
            return failure_reply(exc)
        except Exception as exc:
            # A dropped database connection, an unreachable store: answer at once with a 503 to
            # retry, and log it, rather than leave the caller to time out on silence.
            subject = getattr(msg.raw_message, "subject", "?")
            log.exception("rpc.failed", subject=subject)
            return failure_reply(ServiceUnavailable(f"{subject} failed: {type(exc).__name__}"))


class RpcClient:
    """Calls a service's subject and reads its reply, or raises its refusal as :class:`RpcError`.

    It asks through a FastStream broker (``broker.request``) when the process has one: the
    services, and the handler tests on ``TestNatsBroker``. The gateway, the worker and the CLI
    have no FastStream app: they hold one nats-py connection that also serves their JetStream
    publishing and streams, so they ask on it directly rather than open a second connection
    for a broker. Both speak the same wire: a JSON body, and the error header on a refusal.
    """

    def __init__(self, conn: NatsClient | NatsBroker, timeout_s: float = 10.0) -> None:
        self._conn = conn
        self._timeout = timeout_s

    async def call(self, service: str, action: str, request: BaseModel, reply: type[Rep]) -> Rep:
        subject = rpc_subject(service, action)
        try:
            body, headers = await self._request(subject, request)
        except (NoRespondersError, SubscriberNotFound):
            raise ServiceUnavailable(f"no {service} service is running") from None
        except (TimeoutError, NatsTimeout):
            raise ServiceUnavailable(f"the {service} service did not answer in time") from None
        if ERROR_HEADER in headers:
            err = json.loads(body)
            raise RpcError(
                err.pop("code", headers[ERROR_HEADER]),
                err.pop("message", "the service refused"),
                int(err.pop("status", 400)),
                **err,
            )
        return reply.model_validate_json(body or b"{}")

    async def _request(self, subject: str, request: BaseModel) -> tuple[bytes, dict[str, str]]:
        if isinstance(self._conn, NatsBroker):
            answer = await self._conn.request(request, subject, timeout=self._timeout)
            return answer.body, dict(answer.headers)
        raw = await self._conn.request(
            subject,
            request.model_dump_json().encode(),
            timeout=self._timeout,
            headers={"content-type": "application/json"},
        )
        return raw.data, dict(raw.headers or {})
