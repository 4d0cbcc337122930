"""Reading the published results back: notice N of a program year, or the latest, or the list.

Notices are stored by the program year workflow as ``shared.contracts.results.ResultsNotice``
documents under ``results_key(program, year, n)``, numbered 1 (the 公示), 2, 3, ... (补充公示)
without gaps. Names, regions and domains missing from a stored notice (results stored before
the document existed) are filled from the registry, and the program's name and issuer from its
rules, so every reader shows the same words.
"""

from __future__ import annotations

import asyncio

from services.gateway.auth import rpc
from services.gateway.deps import Deps
from services.gateway.notice_refs import StoredNotice
from services.gateway.problems import ApiError
from shared.bases_listing import all_bases
from shared.contracts.registry import GetProgram, PinnedRules
from shared.contracts.results import (
    NoticeList,
    NoticeRef,
    ResultsNotice,
    parse_results,
    results_key,
)
from shared.objectstore import ObjectMissing, ObjectStoreError, StoredObject, sha256_hex

MAX_NOTICES = 100  # a bound on probing; a year has a handful of supplementary notices


async def _read(deps: Deps, program: str, year: int, number: int) -> ResultsNotice | None:
    try:
        raw = await deps.objects.get(results_key(program, year, number))
    except ObjectMissing:
        return None
    except ObjectStoreError as exc:
        raise ApiError(503, "object_store_unavailable", str(exc)) from None
    return parse_results(raw, program=program, year=year)


async def notice_ref(deps: Deps, program: str, year: int, number: int | None) -> StoredNotice:
    """Notice ``number`` (the latest when None) as stored: its number and the sha256 of its bytes.

    From ``stat`` alone (the store keeps each object's sha256), so nothing is read or parsed;
    only an object stored without its digest is read and hashed, off the event loop."""
    found: StoredObject | None = None
    try:
        if number is None:
            number = 0
            while number < MAX_NOTICES and (
                latest := await deps.objects.stat(results_key(program, year, number + 1))
            ):
                number, found = number + 1, latest
        else:
            found = await deps.objects.stat(results_key(program, year, number))
        if found is None:
            if number in (0, 1):
                raise ApiError(
                    404, "results_not_published", "the results of that year are not published"
                )
            raise ApiError(404, "notice_not_found", f"notice {number} of that year does not exist")
        digest = found.sha256 or await asyncio.to_thread(
            sha256_hex, await deps.objects.get(found.key)
        )
    except ObjectMissing:
        raise ApiError(
            404, "notice_not_found", f"notice {number} of that year does not exist"
        ) from None
    except ObjectStoreError as exc:
        raise ApiError(503, "object_store_unavailable", str(exc)) from None
    return StoredNotice(number, digest)


async def _all(deps: Deps, program: str, year: int) -> list[ResultsNotice]:
    notices: list[ResultsNotice] = []
    for number in range(1, MAX_NOTICES + 1):
        notice = await _read(deps, program, year, number)
        if notice is None:
            break
        notices.append(notice.model_copy(update={"number": number}))
    if not notices:
        raise ApiError(404, "results_not_published", "the results of that year are not published")
    return notices


async def list_notices(deps: Deps, program: str, year: int) -> NoticeList:
    return NoticeList(
        program=program,
        year=year,
        notices=[
            NoticeRef(number=n.number, kind=n.kind, published_at=n.published_at)
            for n in await _all(deps, program, year)
        ],
    )


async def load_notice(deps: Deps, program: str, year: int, number: int | None) -> ResultsNotice:
    """Notice ``number``, or the latest when None, with names and the program filled in."""
    if number is None:
        notice = (await _all(deps, program, year))[-1]
    else:
        found = await _read(deps, program, year, number)
        if found is None:
            if number == 1:
                raise ApiError(
                    404, "results_not_published", "the results of that year are not published"
                )
            raise ApiError(404, "notice_not_found", f"notice {number} of that year does not exist")
        notice = found.model_copy(update={"number": number})
    return await _complete(deps, notice)


async def _complete(deps: Deps, notice: ResultsNotice) -> ResultsNotice:
    if any(not (e.name and e.region and e.domain) for e in notice.entries):
        listed = await rpc(all_bases(deps.rpc, notice.program))
        info = {str(b["id"]): b for b in listed}
        notice.entries = [
            e.model_copy(
                update={
                    "name": e.name or str(info.get(e.base, {}).get("name") or ""),
                    "region": e.region or str(info.get(e.base, {}).get("region") or ""),
                    "domain": e.domain or str(info.get(e.base, {}).get("domain") or ""),
                }
            )
            for e in notice.entries
        ]
    if not (notice.program_name and notice.issuer and notice.publication_period):
        pinned = await rpc(
            deps.rpc.call(
                "registry", "rules.current", GetProgram(program=notice.program), PinnedRules
            )
        )
        rules = pinned.rules
        notice.program_name = notice.program_name or rules.name
        notice.program_name_en = notice.program_name_en or rules.name_en or ""
        notice.issuer = notice.issuer or rules.issuer
        if not notice.publication_period:
            notice.publication_period = str(rules.calendar.publication_period)
            notice.utc_offset = rules.calendar.utc_offset
    return notice
