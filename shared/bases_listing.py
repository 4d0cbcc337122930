"""Every base of a program, read page by page from the registry (``bases.list``)."""

from __future__ import annotations

from shared.contracts.registry import BaseList, ListBases
from shared.domain.base_status import Status
from shared.paging import pages
from shared.rpc import RpcClient


async def all_bases(
    rpc: RpcClient, program: str, *, status: Status | None = None, region: str | None = None
) -> list[dict[str, object]]:
    """The program's bases in id order, however many pages they take."""

    async def page(cursor: str | None) -> BaseList:
        ask = ListBases(program=program, status=status, region=region, cursor=cursor)
        return await rpc.call("registry", "bases.list", ask, BaseList)

    found: list[dict[str, object]] = []
    async for listed in pages(page):
        found.extend(listed.bases)
    return found
