"""Document downloads (authorised per document) and the published results (公示)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse, Response

from services.gateway.auth import UserDep, require, rpc
from services.gateway.deps import Deps, DepsDep
from services.gateway.exports import to_csv, to_xlsx
from services.gateway.notice_pdf import notice_pdf, publication_text
from services.gateway.problems import ApiError
from services.gateway.routes.params import Program, Year
from shared.contracts.filings import DocumentPublic, GetDocument
from shared.contracts.registry import BaseList, GetProgram, ListBases, PinnedRules
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
) -> Response:
    """Public once published: the 公示 list of base, name, region, domain, total and grade,
    as JSON, CSV (UTF-8 with a BOM), XLSX or the PDF notice."""
    rows = await published_results(deps, program, year)
    disposition = {"Content-Disposition": f"attachment; filename={program}-{year}-results.{format}"}
    if format == "csv":
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers=disposition)
    if format == "xlsx":
        return Response(
            to_xlsx(rows, f"{program} {year} 评估结果公示"),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=disposition,
        )
    if format == "pdf":
        pinned = await rpc(
            deps.rpc.call("registry", "rules.current", GetProgram(program=program), PinnedRules)
        )
        pdf = notice_pdf(
            rows,
            program_name=pinned.rules.name,
            issuer=pinned.rules.issuer,
            year=year,
            publication=publication_text(str(pinned.rules.calendar.publication_period)),
            published_on=datetime.now(UTC).date(),
        )
        return Response(pdf, media_type="application/pdf", headers=disposition)
    return JSONResponse(rows)


async def published_results(deps: Deps, program: str, year: int) -> list[dict[str, Any]]:
    """The published results, each with the base's name, region and domain from the registry."""
    try:
        raw = await deps.objects.get(f"results/{program}/{year}/results.json")
    except ObjectMissing:
        raise ApiError(
            404, "results_not_published", "the results of that year are not published"
        ) from None
    except ObjectStoreError as exc:
        raise ApiError(503, "object_store_unavailable", str(exc)) from None
    bases = await rpc(deps.rpc.call("registry", "bases.list", ListBases(program=program), BaseList))
    info = {b["id"]: b for b in bases.bases}
    return [
        {
            **entry,
            "name": info.get(entry["base"], {}).get("name"),
            "region": info.get(entry["base"], {}).get("region"),
            "domain": info.get(entry["base"], {}).get("domain"),
        }
        for entry in json.loads(raw)
    ]
