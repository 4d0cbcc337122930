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
from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI
from minio import Minio
from openpyxl import load_workbook

from services.gateway.export_cache import ExportCache
from services.gateway.export_store import export_key
from services.gateway.notice_refs import NoticeRefs
from shared.contracts.results import results_key
from shared.objectstore import STREAM_CHUNK, LocalObjectStore, ObjectStore, S3ObjectStore
from tests.public_gateway import RESULTS, asgi_get, public_gateway, publish_sample
from tests.servers import moto_s3

ROWS = 2000  # an XLSX of over 100 KiB: more than one chunk


async def _key(objects: ObjectStore, format: str) -> str:
    notice = await objects.stat(results_key("p1", 2030))
    assert notice is not None
    return export_key("p1", 2030, 1, notice.sha256, format)


@asynccontextmanager
async def _gateway(objects: ObjectStore) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    """A gateway of its own (its own export cache) over ``objects``."""
    async with public_gateway(objects) as (http, app):
        app.state.notice_refs = NoticeRefs(remember_s=600)  # the lookup outlives the store
        yield http, app


def _cache(app: FastAPI) -> ExportCache:
    cache: ExportCache = app.state.exports
    return cache


def _temp_files() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("navcycle-export-*"))


async def test_an_export_streams_out_of_the_store_in_chunks_with_its_length(
    store: ObjectStore,
) -> None:
    await publish_sample(store, ROWS)
    before = _temp_files()
    async with _gateway(store) as (_, app):
        for format in ("xlsx", "pdf"):
            status, headers, chunks = await asgi_get(app, f"format={format}")
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
    await publish_sample(store, ROWS)
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
    await publish_sample(objects, ROWS)
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
    await publish_sample(objects, ROWS)
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
        await publish_sample(objects, ROWS)
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
