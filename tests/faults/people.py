"""The patience of a faulty year's people: synthetic people, and a few bases that go through
the gateway over HTTP as a browser would (what each does, and in which order, is
:mod:`services.sim.people`'s).

A real person whose upload fails, or whose page does not load, tries again a little later. The
synthetic people of ``services.sim.play`` retry a busy Temporal server, but not an object store
that is away nor a query that no worker answers; here they get a store and a Temporal client
that wait those out too. Every error they waited out is written down, so the tests can say what
the people saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    QueryWorkflowInput,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from shared.objectstore import ObjectConflict, ObjectStore, ObjectStoreError, StoredObject
from shared.retrying import retrying

PATIENCE_S = 180.0
UNAVAILABLE_CODES = {
    "worker_unavailable",
    "service_unavailable",
    "object_store_unavailable",
    "database_unavailable",
}


@dataclass(frozen=True)
class Absorbed:
    at: float
    who: str
    error: str


@dataclass
class Patience:
    """Every error the people met and waited out."""

    absorbed: list[Absorbed] = field(default_factory=list)

    def note(self, who: str, exc: BaseException) -> None:
        self.absorbed.append(Absorbed(time.monotonic(), who, f"{type(exc).__name__}: {exc}"))


class PatientObjects:
    """An object store used by people who try an upload again while the store is away."""

    def __init__(self, inner: ObjectStore, patience: Patience) -> None:
        self._inner, self._patience = inner, patience

    async def _patiently(self, who: str, act: Callable[[], Awaitable[Any]]) -> Any:
        deadline = time.monotonic() + PATIENCE_S
        while True:
            try:
                return await act()
            except ObjectConflict:
                raise
            except ObjectStoreError as exc:
                self._patience.note(who, exc)
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(1.0)

    async def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        result: StoredObject = await self._patiently(
            "objects.put", lambda: self._inner.put(key, data, content_type)
        )
        return result

    async def get(self, key: str) -> bytes:
        result: bytes = await self._patiently("objects.get", lambda: self._inner.get(key))
        return result

    async def stat(self, key: str) -> StoredObject | None:
        result: StoredObject | None = await self._patiently(
            "objects.stat", lambda: self._inner.stat(key)
        )
        return result

    async def check(self) -> None:
        await self._patiently("objects.check", self._inner.check)


_TRANSIENT = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
    RPCStatusCode.RESOURCE_EXHAUSTED,
}


class PatientQueries(Interceptor):
    """Queries asked again while no worker answers (a query needs a live worker)."""

    def __init__(self, patience: Patience) -> None:
        self._patience = patience

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _PatientOutbound(next, self._patience)


class _PatientOutbound(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, patience: Patience) -> None:
        super().__init__(next)
        self._patience = patience

    async def query_workflow(self, input: QueryWorkflowInput) -> Any:
        deadline = time.monotonic() + PATIENCE_S
        while True:
            try:
                return await super().query_workflow(input)
            except RPCError as exc:
                if exc.status not in _TRANSIENT or time.monotonic() > deadline:
                    raise
                self._patience.note("query", exc)
            except WorkflowQueryFailedError as exc:
                if time.monotonic() > deadline:
                    raise
                self._patience.note("query", exc)
            await asyncio.sleep(1.0)


# ---------------------------------------------------------------------- bases on the gateway


@dataclass(frozen=True)
class Answer:
    """One HTTP answer the gateway bases got that was not what they asked for."""

    at: float
    method: str
    path: str
    status: int
    content_type: str
    code: str | None
    detail: str


@dataclass
class GatewayLog:
    refusals: list[Answer] = field(default_factory=list)
    receipts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class NotYet(AssertionError):
    """An answer a person waits out; the last one fails the person once its patience is out."""


class GatewayPerson:
    """One user of the HTTP API who tries again, with the same Idempotency-Key, when the
    gateway says a part of the stack is unavailable (503 with a stable code)."""

    def __init__(self, http: httpx.AsyncClient, token: str, log: GatewayLog) -> None:
        self._http, self._log = http, log
        self.headers = {"Authorization": f"Bearer {token}"}

    def _note(self, method: str, path: str, resp: httpx.Response) -> Answer:
        """Writes down an answer that was not a success."""
        ctype = resp.headers.get("content-type", "")
        code = None
        detail = resp.text[:300]
        if ctype.startswith("application/problem+json"):
            body = resp.json()
            code, detail = body.get("code"), str(body.get("detail", ""))[:300]
        answer = Answer(time.monotonic(), method, path, resp.status_code, ctype, code, detail)
        self._log.refusals.append(answer)
        return answer

    async def once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        resp, _ = await self._ask(method, path, **kwargs)
        return resp

    async def _ask(
        self, method: str, path: str, **kwargs: Any
    ) -> tuple[httpx.Response, Answer | None]:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        resp = await self._http.request(method, path, headers=headers, **kwargs)
        return resp, (self._note(method, path, resp) if resp.status_code >= 300 else None)

    async def call(
        self,
        method: str,
        path: str,
        *,
        expect: int,
        patience_s: float = PATIENCE_S,
        also_wait_for: frozenset[str] = frozenset(),
        **kwargs: Any,
    ) -> Any:
        """Until the expected status; 503s with a stable code (and ``also_wait_for`` codes)
        are waited out, and so is a 202 (a filing or a decision accepted, still being acted on)
        when the request has an Idempotency-Key, whose retry answers once it is done; anything
        else fails the person."""
        keyed = "Idempotency-Key" in kwargs.get("headers", {})

        async def ask() -> Any:
            resp, answer = await self._ask(method, path, **dict(kwargs))
            if resp.status_code == expect:
                return resp.json()
            code = answer.code if answer else None
            waitable = (
                (resp.status_code == 503 and code in UNAVAILABLE_CODES)
                or code in also_wait_for
                or (resp.status_code == 202 and keyed)
            )
            failure = NotYet if waitable else AssertionError
            raise failure(f"{method} {path}: {resp.status_code} {resp.text[:500]}")

        tries = retrying(
            on=(NotYet, httpx.TransportError), seconds=patience_s, step=1.0, growing=False
        )
        return await tries(ask)
