"""The gateway's OpenAPI document: FastAPI's, with the ``Problem`` schema the routes' problem
responses refer to, written to docs/openapi.json by ``make docs`` (checked for drift by a test).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from services.gateway.problem_docs import Problem

REF_TEMPLATE = "#/components/schemas/{model}"


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the ``Problem`` schema."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = Problem.model_json_schema(ref_template=REF_TEMPLATE)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def described_app() -> FastAPI:
    """The application as routes describe it; never started, so it needs no clients."""
    from services.gateway.app import create_app  # the app imports this module

    async def no_deps() -> Any:
        raise RuntimeError("a described app is not started")

    async def no_close(_: Any) -> None:
        return None

    return create_app(no_deps, no_close)


def openapi_json() -> str:
    """The document as docs/openapi.json holds it: keys sorted, so it reads the same each time."""
    return (
        json.dumps(described_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    )
