"""Request bodies have a limit: JSON at 1 MiB, uploads at the upload limit plus the form around
the file. Over it, a problem+json 413 ``body_too_large``, whether or not the size is declared."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import uvicorn

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.limits import FORM_OVERHEAD_BYTES, JSON_MAX_BYTES
from shared.embedded import free_port, wait_port
from shared.settings import Settings

UPLOAD_MAX = 10_000
RULES = "/v1/programs/demo-fast"
PLAN = "/v1/programs/demo-fast/years/2030/bases/b1/plan"


def _app():  # type: ignore[no-untyped-def]
    """The real gateway app; no route gets past authentication here, so no client is needed."""
    settings = Settings(_env_file=None, upload_max_bytes=UPLOAD_MAX)  # type: ignore[call-arg]

    async def build() -> Deps:
        return Deps(settings, None, None, None, None, None)  # type: ignore[arg-type]

    async def close(_: Deps) -> None:
        pass

    return create_app(build, close)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = _app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


def _is_too_large(resp: httpx.Response, limit: int) -> None:
    assert resp.status_code == 413, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body = resp.json()
    assert (body["code"], body["limit"]) == ("body_too_large", limit)


async def test_a_json_body_over_the_limit_is_refused_by_its_declared_length(
    http: httpx.AsyncClient,
) -> None:
    big = b'{"id": "' + b"x" * JSON_MAX_BYTES + b'"}'
    resp = await http.put(RULES, content=big, headers={"content-type": "application/json"})
    _is_too_large(resp, JSON_MAX_BYTES)


async def test_a_chunked_json_body_is_counted_and_refused(http: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"id": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'"}'

    resp = await http.put(RULES, content=chunks(), headers={"content-type": "application/json"})
    _is_too_large(resp, JSON_MAX_BYTES)


async def test_a_body_within_the_limit_reaches_the_route(http: httpx.AsyncClient) -> None:
    resp = await http.put(RULES, json={"id": "demo-fast", "padding": "x" * 500_000})
    assert (resp.status_code, resp.json()["code"]) == (401, "unauthenticated")


async def test_uploads_get_the_upload_limit_and_room_for_the_form(http: httpx.AsyncClient) -> None:
    fits = await http.post(PLAN, files={"file": ("plan.pdf", b"%PDF" + b"0" * 2 * UPLOAD_MAX)})
    # Past the middleware: the route's own check gives the precise file_too_large once
    # authenticated; here authentication answers first.
    assert fits.status_code == 401

    huge = b"%PDF" + b"0" * (UPLOAD_MAX + FORM_OVERHEAD_BYTES)
    _is_too_large(
        await http.post(PLAN, files={"file": ("plan.pdf", huge)}), UPLOAD_MAX + FORM_OVERHEAD_BYTES
    )


@pytest.fixture
def served() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(_app(), port=port, log_config=None, access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_port(port)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


async def test_over_a_real_connection_the_client_reads_the_refusal(served: str) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(30):
            yield b"x" * 100_000
            await asyncio.sleep(0)

    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=served, timeout=30) as client:
        declared = await client.put(RULES, content=b"x" * 3_000_000, headers=headers)
        chunked = await client.put(RULES, content=chunks(), headers=headers)
        after = await client.put(RULES, json={"id": "demo-fast"})
    _is_too_large(declared, JSON_MAX_BYTES)
    _is_too_large(chunked, JSON_MAX_BYTES)
    assert after.status_code == 401  # the server still answers
