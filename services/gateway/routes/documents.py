"""Document downloads (authorised per document) and the published results (公示)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response

from services.gateway.auth import UserDep, require, rpc
from services.gateway.deps import DepsDep
from services.gateway.exports import to_csv, to_xlsx
from services.gateway.notice_pdf import notice_pdf
from services.gateway.problems import ApiError
from services.gateway.published import MAX_NOTICES, list_notices, load_notice
from services.gateway.routes.params import Program, Year
from shared.contracts.filings import DocumentPublic, GetDocument
from shared.contracts.results import NoticeList
from shared.objectstore import ObjectMissing, ObjectStoreError, sha256_hex

router = APIRouter(tags=["documents"])


@router.get("/v1/documents/{document_id}", response_class=Response)
async def download(
    deps: DepsDep,
    user: UserDep,
    document_id: str = Path(pattern=r"^[0-9a-f-]{36}$"),
) -> Response:
    doc = await rpc(
        deps.rpc.call(
            "filings", "documents.get", GetDocument(document_id=document_id), DocumentPublic
        )
    )
    await require(deps, user, "read_cycle", program=doc.program, base=doc.base, year=doc.year)
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
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "X-Checksum-Sha256": doc.sha256,
        },
    )


@router.get("/v1/programs/{program}/years/{year}/results", response_class=Response)
async def results(
    program: Program,
    year: Year,
    deps: DepsDep,
    format: Literal["json", "csv", "xlsx", "pdf"] = "json",
    notice: int | None = Query(
        None,
        ge=1,
        le=MAX_NOTICES,
        description="1 for the 公示, 2.. for each 补充公示; latest if unset",
    ),
) -> Response:
    """Public once published: a 公示 notice (the latest by default) with each base's grade,
    outcome and reason and the objections, as JSON (``ResultsNotice``), CSV (UTF-8 with a
    BOM), XLSX or the PDF notice."""
    doc = await load_notice(deps, program, year, notice)
    name = f"{program}-{year}-results-{doc.number}.{format}"
    disposition = {"Content-Disposition": f"attachment; filename={name}"}
    if format == "csv":
        return Response(to_csv(doc), media_type="text/csv; charset=utf-8", headers=disposition)
    if format == "xlsx":
        return Response(
            to_xlsx(doc),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=disposition,
        )
    if format == "pdf":
        pdf = notice_pdf(doc, today=datetime.now(UTC).date())
        return Response(pdf, media_type="application/pdf", headers=disposition)
    return JSONResponse(doc.model_dump(mode="json"))


@router.get("/v1/programs/{program}/years/{year}/notices")
async def notices(program: Program, year: Year, deps: DepsDep) -> NoticeList:
    """Public: every notice of the year's results, the 公示 (1) and each 补充公示 (2, 3, ...)."""
    return await list_notices(deps, program, year)
