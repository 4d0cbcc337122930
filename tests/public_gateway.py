"""A gateway that serves only public reads, over an object store holding one published notice:
the export tests' app, its notice and a GET driven with the app's own ASGI messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.rate_limit import SlidingWindow
from shared.contracts.results import ResultEntry, ResultsNotice, dump_results, results_key
from shared.objectstore import ObjectStore
from shared.settings import Settings

RESULTS = "/v1/programs/p1/years/2030/results"


def sample_notice(rows: int) -> ResultsNotice:
    """The 公示 of program p1's 2030 year with ``rows`` bases."""
    return ResultsNotice(
        program="p1",
        year=2030,
        program_name="专利导航服务基地",
        program_name_en="Patent navigation service bases",
        issuer="河南省知识产权局",
        published_at=datetime(2031, 1, 5, 2, tzinfo=UTC),
        publication_period="5WD",
        entries=[
            ResultEntry(
                base=f"b{i}",
                name=f"第{i}号基地",
                region="410100",
                domain="生物医药",
                total=80 + i % 20,
                grade="pass",
            )
            for i in range(rows)
        ],
    )


async def publish_sample(objects: ObjectStore, rows: int) -> None:
    """Store that notice where the gateway reads published results."""
    body = dump_results(sample_notice(rows))
    await objects.put(results_key("p1", 2030), body, "application/json")


@asynccontextmanager
async def public_gateway(objects: ObjectStore) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """A gateway of its own (its own export cache) over ``objects``, with no NATS, Temporal or
    user database, and a public rate limit one client's load does not reach."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    async def build() -> Deps:
        return Deps(settings, None, None, None, objects, None)  # type: ignore[arg-type]

    async def close(_: Deps) -> None:
        pass

    app = create_app(build, close)
    app.state.public_reads = SlidingWindow(10_000, 60)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", timeout=120
        ) as client:
            yield client, app


async def asgi_get(
    app: Any, query: str, path: str = RESULTS, client: str = "203.0.113.9"
) -> tuple[int, dict[str, str], list[bytes]]:
    """GET ``path`` (the results) with ``query`` through the app's own ASGI messages (httpx's
    in-process transport joins a body's chunks): the status, the headers and each body
    message's bytes. The client stays, as a real one does, until the answer is sent: a
    streamed response listens for its disconnect meanwhile."""
    sent: list[MutableMapping[str, Any]] = []
    asked, done = asyncio.Event(), asyncio.Event()

    async def receive() -> dict[str, Any]:
        if not asked.is_set():
            asked.set()
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()  # the client stays until the answer is sent
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": [(b"host", b"gateway")],
        "client": (client, 4000), "server": ("gateway", 80),
    }  # fmt: skip
    await asyncio.wait_for(app(scope, receive, send), 120)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, [m["body"] for m in sent[1:] if m.get("body")]
