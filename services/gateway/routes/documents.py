"""Document downloads (authorised per document) and the published results (公示)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.datastructures import State

from services.gateway.access import reads_documents
from services.gateway.auth import UserDep, require, rpc
from services.gateway.deps import Deps, DepsDep
from services.gateway.export_cache import ExportCache, Rendered, etag_matches
from services.gateway.export_store import MEDIA_TYPES, export_key, find, render_to_store
from services.gateway.exports import csv_chunks
from services.gateway.notice_refs import NoticeRefs
from services.gateway.problem_docs import authenticated, problem_responses
from services.gateway.problems import ApiError
from services.gateway.public_rate import PublicRate
from services.gateway.published import MAX_NOTICES, list_notices, load_notice, notice_ref
from services.gateway.routes.params import Program, Year
from shared.contracts.filings import DocumentPublic, GetDocument
from shared.contracts.results import NoticeList, ResultsNotice
from shared.objectstore import ObjectMissing, ObjectStoreError, sha256_hex

router = APIRouter(tags=["documents"])


@router.get(
    "/v1/documents/{document_id}",
    response_class=Response,
    responses={
        200: {
            "description": "The stored bytes, with their content type and file name",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        **authenticated(410),
    },
)
async def download(
    deps: DepsDep,
    user: UserDep,
    document_id: str = Path(pattern=r"^[0-9a-f-]{36}$"),
    disposition: Literal["attachment", "inline"] = Query(
        "attachment", description="inline: for a browser to show it (the portal's viewer)"
    ),
) -> Response:
    # A document the caller may not see is answered as one that does not exist.
    hidden = ApiError(404, "document_not_found", f"no document {document_id}")
    if not reads_documents(user):
        raise hidden  # before any lookup: this token reads no document at all
    doc = await rpc(
        deps.rpc.call(
            "filings", "documents.get", GetDocument(document_id=document_id), DocumentPublic
        )
    )
    try:
        await require(
            deps, user, "read_document", program=doc.program, base=doc.base, year=doc.year
        )
    except ApiError as exc:
        if exc.status == 404:
            raise hidden from None
        raise
    try:
        data = await deps.objects.get(doc.key)
    except ObjectMissing:
        raise ApiError(
            410, "document_gone", "the document's bytes are missing from storage"
        ) from None
    except ObjectStoreError as exc:
        raise ApiError(503, "object_store_unavailable", str(exc)) from None
    if sha256_hex(data) != doc.sha256:
        raise ApiError(500, "checksum_mismatch", "stored bytes do not match their sha256")
    name = quote(doc.filename)
    return Response(
        data,
        media_type=doc.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{name}",
            "X-Checksum-Sha256": doc.sha256,
        },
    )


def exports_of(state: State) -> ExportCache:
    if not hasattr(state, "exports"):
        state.exports = ExportCache()
    cache: ExportCache = state.exports
    return cache


def notice_refs_of(state: State) -> NoticeRefs:
    if not hasattr(state, "notice_refs"):
        state.notice_refs = NoticeRefs()
    refs: NoticeRefs = state.notice_refs
    return refs


async def export_cache(request: Request) -> ExportCache:  # async: no thread hop
    return exports_of(request.app.state)


async def notice_refs(request: Request) -> NoticeRefs:
    return notice_refs_of(request.app.state)


ExportCacheDep = Annotated[ExportCache, Depends(export_cache)]
NoticeRefsDep = Annotated[NoticeRefs, Depends(notice_refs)]


async def export(
    deps: Deps,
    cache: ExportCache,
    refs: NoticeRefs,
    program: str,
    year: int,
    number: int | None,
    format: str,
) -> tuple[int, Rendered]:
    """Notice ``number`` (the latest when None) as ``format``, where it is stored: remembered by
    the cache, keyed by the stored notice's digest, else found in the object store, else
    rendered once in the render process (off the event loop) and stored. Once known, and while
    the notice's lookup is remembered, no await suspends: a crowd of requests for it costs the
    event loop next to nothing. The store failing is an ``ObjectStoreError``."""
    ref = await refs.get(program, year, number, lambda: notice_ref(deps, program, year, number))
    key = export_key(program, year, ref.number, ref.digest, format)

    async def render() -> Rendered:
        doc = await load_notice(deps, program, year, ref.number)
        return await render_to_store(deps.objects, key, format, doc)

    return ref.number, await cache.get(key, lambda: find(deps.objects, key), render)


@router.get(
    "/v1/programs/{program}/years/{year}/results",
    response_class=Response,
    dependencies=[PublicRate],
    responses={
        200: {
            "model": ResultsNotice,
            "description": "The notice: JSON by default, or CSV, XLSX or PDF by format",
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        },
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
        **problem_responses(404, 422, 429, 503),
    },
)
async def results(
    program: Program,
    year: Year,
    deps: DepsDep,
    cache: ExportCacheDep,
    refs: NoticeRefsDep,
    format: Literal["json", "csv", "xlsx", "pdf"] = "json",
    notice: int | None = Query(
        None,
        ge=1,
        le=MAX_NOTICES,
        description="1 for the 公示, 2.. for each 补充公示; latest if unset",
    ),
    if_none_match: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Public once published: a 公示 notice (the latest by default) with each base's grade,
    outcome and reason and the objections, as JSON (``ResultsNotice``), CSV (UTF-8 with a
    BOM), XLSX or the PDF notice. Each export is rendered once per notice and carries an
    ``ETag``; ``If-None-Match`` with it answers 304. The CSV is streamed a chunk of rows at a
    time, never whole in memory; XLSX and PDF (whose zip directory and cross-reference table
    come last) are rendered to a file once per notice, kept in the object store and streamed
    from it with their ``Content-Length``. When the object store is unavailable: 503
    ``object_store_unavailable``."""
    if format == "json":
        doc = await load_notice(deps, program, year, notice)
        return JSONResponse(doc.model_dump(mode="json"))
    if format == "csv":
        return await _streamed_csv(deps, refs, program, year, notice, if_none_match)
    return await _streamed_export(deps, cache, refs, program, year, notice, format, if_none_match)


async def _streamed_export(
    deps: Deps,
    cache: ExportCache,
    refs: NoticeRefs,
    program: str,
    year: int,
    notice: int | None,
    format: str,
    if_none_match: str | None,
) -> Response:
    """The XLSX or PDF streamed out of the object store; a 304 reads nothing."""
    try:
        number, rendered = await export(deps, cache, refs, program, year, notice, format)
        headers = _export_headers(program, year, number, format, rendered.etag)
        if rendered.matches(if_none_match):
            return Response(status_code=304, headers=headers)
        try:
            chunks = await deps.objects.stream(rendered.key)
        except ObjectMissing:  # gone from the store since it was remembered: made again, once
            cache.forget(rendered.key)
            number, rendered = await export(deps, cache, refs, program, year, notice, format)
            headers = _export_headers(program, year, number, format, rendered.etag)
            chunks = await deps.objects.stream(rendered.key)
    except ObjectStoreError as exc:
        raise ApiError(503, "object_store_unavailable", str(exc)) from None
    headers["Content-Length"] = str(rendered.size)
    # A plain iterator: Starlette reads each chunk in a worker thread, off the event loop.
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[format], headers=headers)


def _export_headers(program: str, year: int, number: int, format: str, etag: str) -> dict[str, str]:
    return {
        "ETag": etag,
        "Cache-Control": "public, max-age=60",
        "Content-Disposition": f"attachment; filename={program}-{year}-results-{number}.{format}",
    }


async def _streamed_csv(
    deps: Deps,
    refs: NoticeRefs,
    program: str,
    year: int,
    number: int | None,
    if_none_match: str | None,
) -> Response:
    """The CSV of notice ``number`` streamed from the stored notice. Its rendering is a function
    of the stored notice alone, so the stored notice's digest is its strong ETag: a 304 is
    answered without reading the notice."""
    ref = await refs.get(program, year, number, lambda: notice_ref(deps, program, year, number))
    headers = _export_headers(program, year, ref.number, "csv", f'"csv-{ref.digest}"')
    if etag_matches(headers["ETag"], if_none_match):
        return Response(status_code=304, headers=headers)
    doc = await load_notice(deps, program, year, ref.number)
    # A plain iterator: Starlette makes each chunk in a worker thread, off the event loop.
    return StreamingResponse(csv_chunks(doc), media_type=MEDIA_TYPES["csv"], headers=headers)


@router.get(
    "/v1/programs/{program}/years/{year}/notices",
    dependencies=[PublicRate],
    responses=problem_responses(404, 422, 429, 503),
)
async def notices(program: Program, year: Year, deps: DepsDep) -> NoticeList:
    """Public: every notice of the year's results, the 公示 (1) and each 补充公示 (2, 3, ...)."""
    return await list_notices(deps, program, year)
