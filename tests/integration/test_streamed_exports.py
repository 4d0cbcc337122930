"""The published XLSX and PDF live in the object store, not in the gateway's memory: rendered to a
file once, stored, and streamed out of the store in chunks with their length. Another gateway over
the same store serves them without rendering; an ETag answers 304 without reading the store; the
store failing is a 503 ``object_store_unavailable``. Against a local directory and a real
S3-protocol server (moto)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tempfile
from collections.abc import AsyncIterator, MutableMapping
from contextlib import ExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from minio import Minio
from openpyxl import load_workbook

from services.gateway.app import create_app
from services.gateway.deps import Deps
from services.gateway.export_cache import ExportCache
from services.gateway.export_store import export_key
from services.gateway.notice_refs import NoticeRefs
from services.gateway.rate_limit import SlidingWindow
from shared.contracts.results import ResultEntry, ResultsNotice, dump_results, results_key
from shared.objectstore import STREAM_CHUNK, LocalObjectStore, ObjectStore, S3ObjectStore
from shared.settings import Settings
from tests.servers import moto_s3

RESULTS = "/v1/programs/p1/years/2030/results"
ROWS = 2000  # an XLSX of over 100 KiB: more than one chunk


def _notice() -> ResultsNotice:
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
            for i in range(ROWS)
        ],
    )


async def _published(objects: ObjectStore) -> None:
    await objects.put(results_key("p1", 2030), dump_results(_notice()), "application/json")


async def _key(objects: ObjectStore, format: str) -> str:
    notice = await objects.stat(results_key("p1", 2030))
    assert notice is not None
    return export_key("p1", 2030, 1, notice.sha256, format)


@asynccontextmanager
async def _gateway(objects: ObjectStore) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """A gateway of its own (its own export cache) over ``objects``."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    async def build() -> Deps:
        return Deps(settings, None, None, None, objects, None)  # type: ignore[arg-type]

    async def close(_: Deps) -> None:
        pass

    app = create_app(build, close)
    app.state.public_reads = SlidingWindow(10_000, 60)
    app.state.notice_refs = NoticeRefs(remember_s=600)  # the notice's lookup outlives the store
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://gateway", timeout=120
        ) as client:
            yield client, app


def _cache(app: FastAPI) -> ExportCache:
    cache: ExportCache = app.state.exports
    return cache


def _temp_files() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("navcycle-export-*"))


async def _asgi_get(app: FastAPI, query: str) -> tuple[int, dict[str, str], list[bytes]]:
    """The app's own ASGI messages (httpx's in-process transport joins a body's chunks)."""
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
        "scheme": "http", "path": RESULTS, "raw_path": RESULTS.encode(), "root_path": "",
        "query_string": query.encode(), "headers": [(b"host", b"gateway")],
        "client": ("203.0.113.9", 4000), "server": ("gateway", 80),
    }  # fmt: skip
    await asyncio.wait_for(app(scope, receive, send), 120)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    return sent[0]["status"], headers, [m["body"] for m in sent[1:] if m.get("body")]


async def test_an_export_streams_out_of_the_store_in_chunks_with_its_length(
    store: ObjectStore,
) -> None:
    await _published(store)
    before = _temp_files()
    async with _gateway(store) as (_, app):
        for format in ("xlsx", "pdf"):
            status, headers, chunks = await _asgi_get(app, f"format={format}")
            body = b"".join(chunks)
            assert status == 200, format
            assert len(chunks) > 1 and max(map(len, chunks)) <= STREAM_CHUNK, format
            assert headers["content-length"] == str(len(body))
            assert headers["etag"] == f'"{hashlib.sha256(body).hexdigest()}"'
            assert headers["cache-control"] == "public, max-age=60"
            assert headers["content-disposition"] == (
                f"attachment; filename=p1-2030-results-1.{format}"
            )
            assert body == await store.get(await _key(store, format))  # what the renderer wrote
        assert _cache(app).renders == 2
    sheet = load_workbook(io.BytesIO(await store.get(await _key(store, "xlsx")))).worksheets[0]
    assert sheet.max_row == ROWS + 3  # the title, the period, the header, a row per base
    pdf = await store.get(await _key(store, "pdf"))
    assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
    assert _temp_files() <= before  # each rendering's file was deleted once stored


async def test_another_gateway_over_the_same_store_serves_it_without_rendering(
    store: ObjectStore,
) -> None:
    await _published(store)
    async with _gateway(store) as (http, app):
        first = await http.get(RESULTS, params={"format": "xlsx"})
        assert first.status_code == 200 and _cache(app).renders == 1
    async with _gateway(store) as (http, app):  # another gateway, or this one restarted
        answers = await asyncio.gather(
            *(http.get(RESULTS, params={"format": "xlsx"}) for _ in range(20))
        )
        assert {r.status_code for r in answers} == {200}
        assert {r.headers["etag"] for r in answers} == {first.headers["etag"]}
        assert all(r.content == first.content for r in answers)
        again = await http.get(
            RESULTS, params={"format": "xlsx"}, headers={"If-None-Match": first.headers["etag"]}
        )
        assert (again.status_code, again.content) == (304, b"")
        assert _cache(app).renders == 0


async def test_an_export_gone_from_the_store_answers_304_and_is_rendered_again(
    tmp_path: Path,
) -> None:
    objects = LocalObjectStore(tmp_path / "objects")
    await _published(objects)
    async with _gateway(objects) as (http, app):
        first = await http.get(RESULTS, params={"format": "xlsx"})
        await objects.delete(await _key(objects, "xlsx"))  # swept, or a store restored
        etag = first.headers["etag"]
        unchanged = await http.get(
            RESULTS, params={"format": "xlsx"}, headers={"If-None-Match": etag}
        )
        assert (unchanged.status_code, unchanged.headers["etag"]) == (304, etag)  # nothing read
        again = await http.get(RESULTS, params={"format": "xlsx"})
        assert again.status_code == 200 and _cache(app).renders == 2
        assert again.content == await objects.get(await _key(objects, "xlsx"))


async def test_a_store_that_refuses_the_rendering_is_a_503_problem(tmp_path: Path) -> None:
    objects = LocalObjectStore(tmp_path / "objects")
    await _published(objects)
    blocker = tmp_path / "objects" / "exports"
    blocker.write_bytes(b"")  # a file where the exports' directory goes: nothing is put
    before = _temp_files()
    async with _gateway(objects) as (http, app):
        refused = await http.get(RESULTS, params={"format": "xlsx"})
        assert refused.status_code == 503
        assert refused.json()["code"] == "object_store_unavailable"
        assert _temp_files() <= before
        blocker.unlink()  # the store is back: the failure was not remembered
        assert (await http.get(RESULTS, params={"format": "xlsx"})).status_code == 200
        assert _cache(app).renders == 2


async def test_an_s3_store_gone_away_answers_304_from_memory_and_503_otherwise() -> None:
    with ExitStack() as server:
        endpoint = server.enter_context(moto_s3())
        client = Minio(endpoint, access_key="test", secret_key="test", secure=False)
        objects = S3ObjectStore(client, "navcycle-gone")
        await _published(objects)
        async with _gateway(objects) as (http, app):
            first = await http.get(RESULTS, params={"format": "xlsx"})
            assert first.status_code == 200
            server.close()  # the S3 server stops; the gateway remembers the export's ETag
            etag = first.headers["etag"]
            unchanged = await http.get(
                RESULTS, params={"format": "xlsx"}, headers={"If-None-Match": etag}
            )
            assert (unchanged.status_code, unchanged.headers["etag"]) == (304, etag)
            refused = await http.get(RESULTS, params={"format": "xlsx"})
            assert refused.status_code == 503
            assert refused.json()["code"] == "object_store_unavailable"
            assert _cache(app).renders == 1
