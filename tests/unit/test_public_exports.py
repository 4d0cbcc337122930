"""Public exports cost one rendering per notice: 200 anonymous PDF requests render it once, in
the render process rather than on the gateway's event loop, while other requests are answered; an
ETag answers 304; a client over the public rate limit gets 429 ``rate_limited`` with
Retry-After."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.gateway import export_store
from services.gateway.deps import Deps
from services.gateway.export_cache import ExportCache
from services.gateway.exports import COLUMNS, CSV_CHUNK_ROWS, to_csv
from services.gateway.rate_limit import SlidingWindow
from shared.contracts.results import ResultsNotice, dump_results, results_key
from shared.objectstore import LocalObjectStore
from tests.public_gateway import RESULTS, asgi_get, public_gateway, publish_sample, sample_notice

ROWS = 1000


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI]]:
    objects = LocalObjectStore(tmp_path)
    await publish_sample(objects, ROWS)
    async with public_gateway(objects) as (http, app):
        yield http, app


async def _probe_p99(http: httpx.AsyncClient, n: int = 60) -> float:
    """p99 latency (s) of a cheap request the gateway answers on its event loop."""
    took = []
    for _ in range(n):
        start = time.perf_counter()
        resp = await http.get("/v1/programs/p1/years/2030/bases/b1")
        took.append(time.perf_counter() - start)
        assert resp.status_code == 401
        await asyncio.sleep(0.01)
    return statistics.quantiles(took, n=100)[98]


async def test_200_anonymous_pdf_requests_render_once_off_the_loop(
    gateway: tuple[httpx.AsyncClient, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, app = gateway
    state = app.state
    # The render process is spawned: it imports its own writers, so only a rendering in this
    # process (on the event loop, or a thread of it) goes through this one.
    rendered_here: list[str] = []
    write_pdf = export_store.WRITERS["pdf"]

    def here(notice: ResultsNotice, path: str) -> None:
        rendered_here.append(path)
        write_pdf(notice, path)

    monkeypatch.setitem(export_store.WRITERS, "pdf", here)
    quiet = await _probe_p99(http)
    pdfs = [http.get(RESULTS, params={"format": "pdf"}) for _ in range(200)]
    loaded, answers = await asyncio.gather(_probe_p99(http), asyncio.gather(*pdfs))
    cache: ExportCache = state.exports
    print(f"probe p99 without PDF load {quiet * 1000:.1f} ms, with {loaded * 1000:.1f} ms")
    assert {r.status_code for r in answers} == {200}
    assert cache.renders == 1
    assert len({r.headers["etag"] for r in answers}) == 1
    assert answers[0].content.startswith(b"%PDF")
    assert rendered_here == [], "the PDF was rendered in the gateway's process"


async def test_an_etag_answers_304_and_each_format_renders_once(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = gateway
    state = app.state
    first = await http.get(RESULTS, params={"format": "csv"})
    assert first.status_code == 200 and first.headers["etag"]
    again = await http.get(
        RESULTS, params={"format": "csv"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert (again.status_code, again.content) == (304, b"")
    other = await http.get(RESULTS, params={"format": "csv"}, headers={"If-None-Match": '"x"'})
    assert other.status_code == 200 and other.content == first.content
    xlsx = await http.get(RESULTS, params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.headers["etag"] != first.headers["etag"]
    again_xlsx = await http.get(RESULTS, params={"format": "xlsx"})
    assert again_xlsx.content == xlsx.content
    assert state.exports.renders == 1  # the XLSX; the CSV streams


async def test_the_csv_streams_a_chunk_of_rows_at_a_time(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    """The app's own ASGI messages (httpx's in-process transport joins them): the BOM and the
    header, then a body message per CSV_CHUNK_ROWS rows, none sized in advance."""
    _, app = gateway
    status, headers, chunks = await asgi_get(app, "format=csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "content-length" not in headers
    assert len(chunks) == 1 + -(-ROWS // CSV_CHUNK_ROWS)
    assert (
        chunks[0] == "\ufeff".encode() + ",".join(label for label, _ in COLUMNS).encode() + b"\r\n"
    )
    assert b"".join(chunks) == to_csv(sample_notice(ROWS))
    assert app.state.exports.renders == 0  # nothing kept whole


async def test_a_client_over_the_public_limit_gets_429_with_retry_after(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = gateway
    state = app.state
    state.public_reads = SlidingWindow(3, 60)
    for _ in range(3):
        assert (await http.get("/v1/programs/p1/years/2030/notices")).status_code == 200
    refused = await http.get(RESULTS)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_every_public_read_counts_against_the_same_limit(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = gateway
    state = app.state
    state.public_reads = SlidingWindow(1, 60)
    assert (await http.get("/results/p1/2030")).status_code == 200
    for path in ("/results/p1/2030", "/v1/programs/p1/years/2030/objections", RESULTS):
        refused = await http.get(path)
        assert (refused.status_code, refused.json()["code"]) == (429, "rate_limited"), path


async def test_an_export_of_a_notice_not_stored_is_404_with_its_code(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = gateway
    state = app.state
    cases = [
        ("/v1/programs/p1/years/2031/results", {}, "results_not_published"),
        (RESULTS, {"notice": "2"}, "notice_not_found"),
    ]
    for url, extra, code in cases:
        refused = await http.get(url, params={"format": "csv", **extra})
        assert (refused.status_code, refused.json()["code"]) == (404, code), url
    first = await http.get(RESULTS, params={"format": "csv", "notice": "1"})
    latest = await http.get(RESULTS, params={"format": "csv"})
    assert first.status_code == latest.status_code == 200
    assert first.headers["etag"] == latest.headers["etag"]
    assert state.exports.renders == 0  # the CSV streams


async def test_a_notice_stored_again_is_rendered_again_once_its_lookup_is_stale(
    gateway: tuple[httpx.AsyncClient, FastAPI],
) -> None:
    http, app = gateway
    state = app.state
    before = await http.get(RESULTS, params={"format": "xlsx"})
    deps: Deps = state.deps
    objects = deps.objects
    assert isinstance(objects, LocalObjectStore)
    await objects.delete(results_key("p1", 2030))
    changed = sample_notice(10)
    await objects.put(results_key("p1", 2030), dump_results(changed), "application/json")
    state.notice_refs.forget("p1", 2030)  # as after REMEMBER_S
    after = await http.get(RESULTS, params={"format": "xlsx"})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert state.exports.renders == 2
