"""No orphaned object after a refused filing.

An upload is stored before the cycle decides on the filing (big bytes never travel through
Temporal). When the cycle refuses it for good (a 4xx: too late, wrong stage, already filed), the
stored object is removed, unless a filing uses it: objects are keyed by content, so the same bytes
filed and accepted earlier (or concurrently, by a double submit) share the key. An answer that
leaves the outcome open (503, a timeout: the update may still apply) keeps the object.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle

from services.gateway.deps import Deps
from services.gateway.problems import ApiError
from shared.contracts import workflow_names as names
from shared.contracts.cycle import CycleState, Upload
from shared.contracts.filings import DocumentList, ListDocuments
from shared.logging import get_logger
from shared.paging import pages

T = TypeVar("T")
log = get_logger("gateway")


@dataclass(frozen=True)
class RefusedUpload:
    deps: Deps
    cycle: WorkflowHandle[Any, Any]
    program: str
    year: int
    base: str
    upload: Upload

    async def on_refusal(self, awaitable: Awaitable[T]) -> T:
        """``awaitable``'s result; when it is a definite refusal, the object is discarded first."""
        try:
            return await awaitable
        except ApiError as exc:
            if 400 <= exc.status < 500:
                await self.discard()
            raise

    async def in_use(self) -> bool:
        state = await self.cycle.query(names.STATE, result_type=CycleState)
        if any(d.key == self.upload.key for d in state.documents):
            return True

        async def page(cursor: str | None) -> DocumentList:
            ask = ListDocuments(program=self.program, year=self.year, base=self.base, cursor=cursor)
            return await self.deps.rpc.call("filings", "documents.list", ask, DocumentList)

        async for listed in pages(page):
            if any(d.key == self.upload.key for d in listed.documents):
                return True
        return False

    async def discard(self) -> None:
        """Remove the object unless a filing uses it. Never masks the refusal: a failure here
        is logged (the object stays, as it would have without this)."""
        try:
            if await self.in_use():
                return
            await self.deps.objects.delete(self.upload.key)
            log.info("upload.discarded", key=self.upload.key, base=self.base)
        except Exception as exc:  # the refusal is the answer; this is tidying
            log.warning("upload.discard_failed", key=self.upload.key, error=str(exc))
