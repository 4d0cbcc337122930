"""``GET /v1/inbox``: the notices addressed to the caller (启动通知, 催办提醒, 逾期通知, ...)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from services.gateway.auth import UserDep, rpc
from services.gateway.deps import DepsDep
from services.gateway.problem_docs import authenticated
from shared.contracts.notifier import Inbox, InboxQuery
from shared.domain.regions import region_prefix
from shared.paging import MAX_PAGE

router = APIRouter(tags=["inbox"])

AUDIENCES = {
    "base_user": ["base", "program"],
    "city_officer": ["city", "program"],
    "province_admin": ["province", "city", "base", "program"],
    "expert": ["expert", "program"],
    "operator": ["base", "city", "province", "program"],
    "viewer": ["program"],
}


@router.get("/v1/inbox", responses=authenticated())
async def inbox(
    deps: DepsDep,
    user: UserDep,
    limit: int = Query(100, ge=1, le=MAX_PAGE),
    cursor: str | None = Query(
        None, pattern=r"^\d{1,18}$", description="next_cursor of the page before / 更早的通知"
    ),
) -> Inbox:
    """The caller's notices, newest first, a page at a time (``next_cursor`` for older ones)."""
    query = InboxQuery(
        audiences=AUDIENCES[user.role],
        program=user.program,
        base=user.base if user.role == "base_user" else None,
        region_prefix=region_prefix(user.region)
        if user.role == "city_officer" and user.region
        else None,
        recipient=user.name,
        limit=limit,
        cursor=cursor,
    )
    return await rpc(deps.rpc.call("notifier", "inbox.list", query, Inbox))
