"""The HTTP contract as OpenAPI states it: docs/openapi.json is what the code generates, every
operation answers a named model, declares its bearer token unless public by design, and
documents its problem responses as problem+json."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from services.gateway.auth import UserDep
from services.gateway.openapi_doc import described_app, openapi_json
from services.gateway.problem_docs import authenticated
from tests.unit.test_route_guards import PUBLIC as PUBLIC_BY_DESIGN

CHECKED_IN = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
# Public by design, the one list the route guards also scan by (with the reasons): no token.
PUBLIC = set(PUBLIC_BY_DESIGN)
TOKEN_PROBLEMS = ("401", "403", "404")
# Error statuses answered with a body of their own, not a problem: a degraded health report.
NOT_PROBLEMS = {("GET", "/healthz", "503")}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    ]


def _bare(schema: dict[str, Any] | None) -> bool:
    """A 2xx JSON body with no model: missing, ``{}``, or an object of anything."""
    if not schema:
        return True
    return "$ref" not in schema and schema.get("type") in (None, "object")


def contract_breaches(doc: dict[str, Any]) -> list[str]:
    found = []
    for method, path, op in _operations(doc):
        name, responses = f"{method} {path}", op.get("responses", {})
        for status, response in responses.items():
            json_body = response.get("content", {}).get("application/json")
            if status.startswith("2") and json_body is not None and _bare(json_body.get("schema")):
                found.append(f"{name}: {status} has no response model")
            problem_only = set(response.get("content", {})) == {"application/problem+json"}
            if (
                status[0] in "45"
                and not problem_only
                and (method, path, status) not in NOT_PROBLEMS
            ):
                found.append(f"{name}: {status} is not documented as application/problem+json")
        required = [s for s in op.get("security", []) if s]  # {} is "or no token at all"
        optional = {} in op.get("security", [])
        if (method, path) in PUBLIC:
            if required and not optional:
                found.append(f"{name}: public by design, yet requires a token")
            continue
        if required != [{"bearer": []}] or optional:
            found.append(f"{name}: does not require the bearer token")
        missing = [s for s in TOKEN_PROBLEMS if s not in responses]
        if missing:
            found.append(f"{name}: requires a token but documents no {', '.join(missing)}")
    return found


def drift(stored: str, generated: str) -> str | None:
    """What differs between the checked-in document and the generated one, or ``None``."""
    if stored == generated:
        return None
    diff = difflib.unified_diff(
        stored.splitlines(keepends=True),
        generated.splitlines(keepends=True),
        "docs/openapi.json (checked in)",
        "generated",
    )
    shown = "".join(list(diff)[:60])
    return f"docs/openapi.json is out of date: run make docs and commit it\n{shown}"


def test_the_checked_in_openapi_document_is_what_the_code_generates() -> None:
    stored = CHECKED_IN.read_text(encoding="utf-8") if CHECKED_IN.exists() else ""
    if (differs := drift(stored, openapi_json())) is not None:
        pytest.fail(differs)


def test_the_document_is_the_same_each_time_it_is_generated() -> None:
    assert openapi_json() == openapi_json()


def test_every_operation_has_a_model_its_token_and_its_problems() -> None:
    doc = described_app().openapi()
    bearer = doc["components"]["securitySchemes"]["bearer"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    assert {"type", "title", "status", "detail", "code"} <= set(
        doc["components"]["schemas"]["Problem"]["properties"]
    )
    assert len(_operations(doc)) >= 30
    assert contract_breaches(doc) == []


def test_the_public_list_names_only_operations_that_exist() -> None:
    ops = {(m, p) for m, p, _ in _operations(described_app().openapi())}
    assert ops >= PUBLIC


def _with(route: Any) -> dict[str, Any]:
    app: FastAPI = described_app()
    route(app)
    return app.openapi()


class Answer(BaseModel):
    ok: bool


def test_the_check_catches_a_bare_dict_a_missing_token_and_undocumented_problems() -> None:
    path = "/v1/programs/{program}/loose"

    def bare_dict(app: FastAPI) -> None:
        @app.get(path, responses=authenticated())
        async def loose(program: str, user: UserDep) -> dict[str, Any]:
            return {}

    def no_token(app: FastAPI) -> None:
        @app.get(path, responses=authenticated())
        async def loose(program: str) -> Answer:
            return Answer(ok=True)

    def no_problems(app: FastAPI) -> None:
        @app.get(path)
        async def loose(program: str, user: UserDep) -> Answer:
            return Answer(ok=True)

    def as_it_should_be(app: FastAPI) -> None:
        @app.get(path, responses=authenticated())
        async def loose(program: str, user: UserDep) -> Answer:
            return Answer(ok=True)

    assert contract_breaches(_with(bare_dict)) == [f"GET {path}: 200 has no response model"]
    assert contract_breaches(_with(no_token)) == [f"GET {path}: does not require the bearer token"]
    assert contract_breaches(_with(no_problems)) == [
        f"GET {path}: 422 is not documented as application/problem+json",
        f"GET {path}: requires a token but documents no 401, 403, 404",
    ]
    assert contract_breaches(_with(as_it_should_be)) == []


def test_the_drift_check_names_the_command_to_run() -> None:
    generated = openapi_json()
    stale = json.loads(generated)
    stale["paths"].pop("/healthz")
    stored = json.dumps(stale, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    message = drift(stored, generated)
    assert message is not None and "run make docs" in message and '+    "/healthz"' in message
    assert drift(generated, generated) is None
