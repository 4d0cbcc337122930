"""Request/reply between processes over NATS, with typed contracts and structured errors.

Services answer with ``{"ok": true, "data": ...}`` or ``{"ok": false, "error": {code, message,
status}}``, so a caller can turn a service's refusal into the right 4xx without guessing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from faststream.nats.annotations import NatsMessage
from nats.aio.client import Client as NatsClient
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from pydantic import BaseModel, ValidationError

from shared.events.subjects import rpc_subject
from shared.logging import get_logger

log = get_logger("rpc")
Req = TypeVar("Req", bound=BaseModel)
Rep = TypeVar("Rep", bound=BaseModel)


class RpcError(Exception):
    def __init__(self, code: str, message: str, status: int = 400, **details: Any) -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "status": self.status, **self.details}


class ServiceUnavailable(RpcError):
    def __init__(self, message: str) -> None:
        super().__init__("service_unavailable", message, 503)


class RpcClient:
    def __init__(self, nc: NatsClient, timeout_s: float = 10.0) -> None:
        self._nc = nc
        self._timeout = timeout_s

    async def call(self, service: str, action: str, request: BaseModel, reply: type[Rep]) -> Rep:
        subject = rpc_subject(service, action)
        try:
            msg = await self._nc.request(
                subject, request.model_dump_json().encode(), timeout=self._timeout
            )
        except NoRespondersError:
            raise ServiceUnavailable(f"no {service} service is running") from None
        except NatsTimeout:
            raise ServiceUnavailable(f"the {service} service did not answer in time") from None
        body = json.loads(msg.data)
        if not body.get("ok"):
            err = dict(body.get("error") or {})
            raise RpcError(
                err.pop("code", "service_error"),
                err.pop("message", "the service refused"),
                int(err.pop("status", 400)),
                **err,
            )
        return reply.model_validate(body["data"])


def rpc_handler(
    request_model: type[Req],
) -> Callable[[Callable[[Req], Awaitable[BaseModel | None]]], Callable[[Any], Awaitable[bytes]]]:
    """Wrap a typed handler so every outcome, including a bad request, becomes a reply."""

    def wrap(
        fn: Callable[[Req], Awaitable[BaseModel | None]],
    ) -> Callable[[Any], Awaitable[bytes]]:
        # No functools.wraps: FastStream would read the wrapped signature and decode the body.
        async def handler(msg: NatsMessage) -> bytes:
            try:
                request = request_model.model_validate_json(msg.body)
                result = await fn(request)
            except ValidationError as exc:
                error = RpcError("invalid_request", str(exc.errors(include_url=False)), 422)
                return json.dumps({"ok": False, "error": error.to_json()}).encode()
            except RpcError as exc:
                return json.dumps({"ok": False, "error": exc.to_json()}, default=str).encode()
            except Exception as exc:
                # A dropped database connection, an unreachable store: answer at once with a
                # 503 to retry, and log it, rather than leave the caller to time out on silence.
                log.exception("rpc.failed", handler=fn.__name__)
                error = ServiceUnavailable(f"{fn.__name__} failed: {type(exc).__name__}")
                return json.dumps({"ok": False, "error": error.to_json()}).encode()
            data = result.model_dump(mode="json") if result is not None else {}
            return json.dumps({"ok": True, "data": data}).encode()

        handler.__name__ = fn.__name__
        handler.__qualname__ = fn.__qualname__
        return handler

    return wrap


class Empty(BaseModel):
    pass
