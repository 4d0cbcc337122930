"""Every route in the OpenAPI document asks the access policy before it reads.

Each operation is called on the real application with fake clients that record every call:
without a token it must answer 401 and touch nothing; with a foreign token (the province_admin
of another program, a base user of another base) a read must answer 403 or 404 having made no
call but the policy's own inputs (the base's region, the program's issuer, the expert
assignments, a document's owner). A route that reads before it asks fails the scan, as
:func:`test_the_scan_catches_a_route_that_reads_before_it_asks` shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.auth import UserDep, current_user
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from shared.contracts.assessment import Assignments
from shared.contracts.filings import DocumentPublic
from shared.contracts.registry import BasePublic, PinnedRules
from shared.rpc import Empty, RpcError
from shared.settings import Settings
from tests.helpers import demo_rules

# Public by design, with the reason; every other operation needs a token.
PUBLIC = {
    ("GET", "/healthz"): "liveness for the orchestrator",
    ("GET", "/v1/programs/{program}/years/{year}/results"): "the published 公示",
    ("GET", "/v1/programs/{program}/years/{year}/notices"): "the published notices",
    ("POST", "/v1/programs/{program}/years/{year}/objections"): "anyone may lodge 异议",
    ("GET", "/v1/programs/{program}/years/{year}/objections"): "as the 公示 shows them",
}
# Authenticated reads of what is the caller's own or shared by all, filtered per row.
SELF_SCOPED = {
    ("GET", "/v1/calendars/{calendar_id}"): "holiday tables: the State Council's, public",
    ("GET", "/v1/inbox"): "the caller's own notices, by its own scope",
    ("GET", "/v1/dashboard/years"): "each listed year filtered by read_program",
}
# What the policy itself reads to decide: never a cycle, a projection or a document's bytes.
POLICY_INPUTS = {
    ("registry", "bases.get"),
    ("registry", "rules.current"),
    ("assessment", "assignments.current"),
    ("filings", "documents.get"),
}
SAMPLES = {
    "program": "gate",
    "year": "2032",
    "base": "g1",
    "document_id": "00000000-0000-0000-0000-000000000001",
    "calendar_id": "cn-statutory",
    "objection_id": "00000000-0000-0000-0000-000000000002",
}
# Strangers to program gate (even places); to base g1 (all): g2's staff reads gate's counts.
FOREIGN = [
    Principal(name="nm-admin", role="province_admin", program="nm-nav-base"),
    Principal(name="g2-staff", role="base_user", program="gate", base="g2"),
    Principal(name="hohhot", role="city_officer", region="150100"),
    Principal(name="ly-city", role="city_officer", region="410300"),
    Principal(name="screen", role="viewer", program="nm-nav-base", documents=True),
]


@dataclass
class Calls:
    made: list[str] = field(default_factory=list)

    def beyond_policy(self) -> list[str]:
        return [c for c in self.made if tuple(c.split(" ", 1)) not in POLICY_INPUTS]


class Untouchable:
    """A client any use of which is recorded, and fails."""

    def __init__(self, name: str, calls: Calls) -> None:
        self._name, self._calls = name, calls

    def __getattr__(self, attr: str) -> Any:
        self._calls.made.append(f"{self._name} {attr}")
        raise RuntimeError(f"{self._name}.{attr} used")


class PolicyInputsOnly:
    """The RPC client: answers what the policy needs about base g1 (Zhengzhou, program gate);
    records and refuses everything else."""

    def __init__(self, calls: Calls) -> None:
        self._calls = calls

    async def call(self, service: str, method: str, req: Any, model: type[Any]) -> Any:
        self._calls.made.append(f"{service} {method}")
        if (service, method) == ("registry", "bases.get"):
            return BasePublic.model_validate(_base())
        if (service, method) == ("registry", "rules.current"):
            return PinnedRules(program="gate", version=1, rules=demo_rules())
        if (service, method) == ("assessment", "assignments.current"):
            return Assignments(round=0, experts=[])
        if (service, method) == ("filings", "documents.get"):
            return _document()
        raise RpcError("unavailable", f"{service} {method} is not a policy input", 503)


def _base() -> dict[str, Any]:
    return {
        "id": "g1",
        "name": "基地 g1",
        "region": "410102",
        "domain": "新材料",
        "host_type": "园区",
        "staff": {"total": 10, "senior_full_time": 4},
        "pct_minimum_data": True,
        "program": "gate",
        "status": "active",
    }


def _document() -> DocumentPublic:
    return DocumentPublic(
        document_id=SAMPLES["document_id"],
        program="gate",
        year=2032,
        base="g1",
        kind="plan",
        version=1,
        key="k",
        sha256="0" * 64,
        size=1,
        content_type="application/pdf",
        filename="plan.pdf",
        filed_by="g1-staff",
        filed_at=datetime(2032, 3, 1, tzinfo=UTC),
    )


def _app(calls: Calls) -> FastAPI:
    async def build() -> Deps:
        return Deps(
            settings=Settings(),
            temporal=cast(Any, Untouchable("temporal", calls)),
            nats=cast(Any, Untouchable("nats", calls)),
            rpc=cast(Any, PolicyInputsOnly(calls)),
            objects=cast(Any, Untouchable("objects", calls)),
            users=cast(Any, Untouchable("users", calls)),
        )

    async def close(_: Deps) -> None:
        return None

    return create_app(build, close)


def _operations(app: FastAPI) -> Iterator[tuple[str, str, bool]]:
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, "requestBody" in op


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m[1]], path)


def unguarded(app: FastAPI, calls: Calls) -> list[str]:
    """The operations that answer without a token, or read before the policy refuses."""
    found = []
    with TestClient(app, raise_server_exceptions=False) as client:
        for method, path, has_body in _operations(app):
            op = f"{method} {path}"
            if (method, path) in PUBLIC:
                continue
            calls.made.clear()
            app.dependency_overrides.pop(current_user, None)
            resp = client.request(method, _url(path))
            if resp.status_code != 401 or calls.made:
                found.append(f"{op}: no token gave {resp.status_code}, calls {calls.made}")
                continue
            if method != "GET" or (method, path) in SELF_SCOPED or has_body:
                continue  # a body is validated before the handler: the matrix covers writes
            for who in FOREIGN if "{base}" in path or "{document_id}" in path else FOREIGN[::2]:
                app.dependency_overrides[current_user] = lambda who=who: who
                calls.made.clear()
                resp = client.request(method, _url(path))
                if resp.status_code not in (403, 404) or calls.beyond_policy():
                    found.append(
                        f"{op} as {who.name}: {resp.status_code}, calls {calls.beyond_policy()}"
                    )
            app.dependency_overrides.pop(current_user, None)
    return found


def test_every_route_asks_the_policy_before_it_reads() -> None:
    calls = Calls()
    assert unguarded(_app(calls), calls) == []


def test_the_scan_covers_every_read_route() -> None:
    app = _app(Calls())
    reads = [
        (m, p)
        for m, p, body in _operations(app)
        if m == "GET" and (m, p) not in PUBLIC and (m, p) not in SELF_SCOPED
    ]
    assert len(reads) >= 11  # programs, rubric, bases, year, cycle, documents, dashboard, ...


@pytest.mark.parametrize("needs_token", [False, True])
def test_the_scan_catches_a_route_that_reads_before_it_asks(needs_token: bool) -> None:
    calls = Calls()
    app = _app(calls)
    path = "/v1/programs/{program}/years/{year}/leak"

    if needs_token:

        @app.get(path)
        async def leak_to_anyone_signed_in(
            program: str, year: int, deps: DepsDep, user: UserDep
        ) -> Any:
            return await deps.rpc.call("dashboard", "cycles", Empty(), Empty)

    else:

        @app.get(path)
        async def leak_to_everyone(program: str, year: int, deps: DepsDep) -> Any:
            return await deps.rpc.call("dashboard", "cycles", Empty(), Empty)

    found = unguarded(app, calls)
    assert found and all(f.startswith(f"GET {path}") for f in found)
