"""Objections (异议) during 公示, over HTTP: lodged by a base, an officer, an expert or the public,
decided by the province, listed for everyone with the objectors' names and contacts kept to
those who need them.

They live in the program year's workflow (``shared/contracts/objections.py``): updates
``lodge_objection`` and ``decide_objection``, query ``objections``. The workflow's validators
refuse an objection outside 公示 (``not_in_publication``), against a base not in the published
results (``unknown_base``), or a decision on one already decided; the gateway refuses who may
not act, and bad bodies, before any call to the workflow.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from services.gateway.access import Target, allowed
from services.gateway.arrival_stamp import ArrivalDep
from services.gateway.auth import UserDep, caller, require
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.tokens import Principal
from services.gateway.problem_docs import OPTIONAL_BEARER, authenticated, problem_responses
from services.gateway.problems import ApiError, problem
from services.gateway.public_rate import PublicRate
from services.gateway.rate_limit import SlidingWindow
from services.gateway.routes.params import (
    ID,
    IdempotencyKey,
    Program,
    Year,
    cursor_param,
    page_size,
)
from services.gateway.session_cookie import SESSION_COOKIE
from services.gateway.temporal_errors import call_workflow
from shared import paging
from shared.contracts import workflow_names as names
from shared.contracts.objections import (
    DecideObjection,
    LodgeObjection,
    Objection,
    ObjectionList,
    ObjectionPage,
    ObjectionPageRequest,
    ObjectorRole,
)
from shared.contracts.workflow_names import program_year_id
from shared.rpc import unknown_cursor

T = TypeVar("T")

UPDATE_TIMEOUT = timedelta(seconds=20)
# The public may lodge this many objections per client address and window (per gateway process).
PUBLIC_LIMIT, PUBLIC_WINDOW_S = 10, 3600.0
_ID_NAMESPACE = uuid.UUID("6f0f5d1e-3c2a-4f7e-9a51-2f4d7c1b0e11")

router = APIRouter(prefix="/v1/programs/{program}/years/{year}/objections", tags=["objections"])
ObjectionId = Annotated[str, Path(pattern=ID, description="The objection's id")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectionBody(_Body):
    base: str = Field(pattern=ID, description="The base whose published result is objected to")
    grounds: str = Field(min_length=5, max_length=4000, description="异议理由 — the grounds")
    contact: str = Field(
        "",
        max_length=200,
        description="How to reach the objector (phone or e-mail); required without a token",
    )


class DecisionBody(_Body):
    decision: Literal["uphold", "dismiss"]
    reason: str = Field(min_length=2, max_length=4000, description="理由 — the reason")


async def optional_user(
    request: Request,
    deps: DepsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal | None:
    """No Authorization header and no portal session: the public. A header or a session that
    does not authenticate is still 401, never a silent fall back to the public."""
    if authorization is None and not request.cookies.get(SESSION_COOKIE):
        return None
    return await caller(deps, request, authorization)


OptionalUserDep = Annotated[Principal | None, Depends(optional_user)]


def _year(deps: Deps, program: str, year: int) -> WorkflowHandle[object, object]:
    return deps.temporal.get_workflow_handle(program_year_id(program, year))


async def _ended_is_closed(awaitable: Awaitable[T]) -> T:
    try:
        return await awaitable
    except RPCError as exc:
        if exc.status == RPCStatusCode.FAILED_PRECONDITION:
            raise ApiError(
                409,
                "objection_closed",
                "该年度结果已最终确定，不再受理异议 — the year's results are final; objections are"
                " closed",
            ) from None
        raise


async def _call(awaitable: Awaitable[T], what: str) -> T:
    """A program-year call: no such workflow is a year not launched; an ended one, closed."""
    try:
        return await call_workflow(_ended_is_closed(awaitable), what=what)
    except ApiError as exc:
        if exc.code == "cycle_not_found":
            raise ApiError(
                404,
                "program_year_not_found",
                "该项目年度尚未启动 — no such program year has been launched",
            ) from None
        raise


def _limiter(request: Request) -> SlidingWindow:
    state = request.app.state
    if not hasattr(state, "public_objections"):
        state.public_objections = SlidingWindow(PUBLIC_LIMIT, PUBLIC_WINDOW_S)
    limiter: SlidingWindow = state.public_objections
    return limiter


def _objection_id(program: str, year: int, who: str, body: ObjectionBody, key: str | None) -> str:
    """A fresh id, or one derived from the Idempotency-Key and what was sent, so a retry lodges
    once and nobody else's key can reach this objection."""
    if not key:
        return uuid.uuid4().hex
    seed = "\x1f".join([program, str(year), who, key, body.base, body.grounds, body.contact])
    return uuid.uuid5(_ID_NAMESPACE, seed).hex


async def _objector(
    deps: Deps, user: Principal | None, program: str, body: ObjectionBody
) -> tuple[str, ObjectorRole]:
    if user is None:
        return "public", "public"
    await require(deps, user, "lodge_objection", program=program, base=body.base)
    role = user.role
    if role not in ("base_user", "city_officer", "province_admin", "expert"):
        raise ApiError(403, "forbidden", f"a {role} may not lodge an objection here")
    return user.name, role


@router.post(
    "",
    status_code=201,
    response_model=Objection,
    responses=problem_responses(401, 403, 404, 409, 422, 429, 503),
    openapi_extra=OPTIONAL_BEARER,
)
async def lodge_objection(
    program: Program,
    year: Year,
    body: ObjectionBody,
    request: Request,
    deps: DepsDep,
    arrived: ArrivalDep,
    user: OptionalUserDep,
    idempotency_key: IdempotencyKey = None,
) -> Objection | JSONResponse:
    """提出异议 — lodge an objection against a base's published result, during 公示."""
    contact = body.contact.strip()
    if user is None:
        if not contact:
            raise ApiError(
                422,
                "contact_required",
                "不登录提出异议须留联系方式 — an objection without a token needs a contact",
            )
        client = request.client.host if request.client else "unknown"
        wait = _limiter(request).retry_after(client, time.monotonic())
        if wait is not None:
            seconds = max(1, int(wait + 0.999))
            refused = problem(
                429,
                "too_many_objections",
                f"提交过于频繁，请 {seconds} 秒后再试 — too many objections from this address;"
                f" retry in {seconds} s",
                request.url.path,
                retry_after_s=seconds,
            )
            refused.headers["Retry-After"] = str(seconds)
            return refused
    by, role = await _objector(deps, user, program, body)
    objection_id = _objection_id(program, year, f"{role}:{by}", body, idempotency_key)
    lodge = LodgeObjection(
        base=body.base,
        grounds=body.grounds,
        by=by,
        role=role,
        contact=contact,
        received_at=arrived,
        objection_id=objection_id,
    )
    handle = _year(deps, program, year)
    return await _call(
        handle.execute_update(
            names.LODGE_OBJECTION,
            lodge,
            id=f"objection:{objection_id}",
            result_type=Objection,
            rpc_timeout=UPDATE_TIMEOUT,
        ),
        "the objection",
    )


@router.get(
    "",
    response_model=ObjectionList,
    dependencies=[PublicRate],
    responses=problem_responses(401, 404, 422, 429, 503),
    openapi_extra=OPTIONAL_BEARER,
)
async def list_objections(
    program: Program,
    year: Year,
    deps: DepsDep,
    user: OptionalUserDep,
    cursor: str | None = cursor_param(ID),
    limit: int = page_size("objections", "异议"),
) -> ObjectionList:
    """异议及处理结果 — a page of the objections and their outcomes, in the order they were
    lodged (``next_cursor`` when more follow; a cursor this list never gave is 422
    ``unknown_cursor``). The province and operators see who objected and how to reach them; a
    base sees the objections against itself; everyone else sees them without the objector's
    name and contact, as the 公示 shows them."""
    return await objection_page(program, year, deps, user, cursor, limit)


async def objection_page(
    program: str,
    year: int,
    deps: Deps,
    user: Principal | None,
    cursor: str | None,
    limit: int,
    *,
    base: str | None = None,
) -> ObjectionList:
    """A page of the objections ``user`` may see (only ``base``'s when it is given), asked of
    the program year one page at a time (its query answers ``limit`` at most, a base's own only
    for a base), then cut to the reply budget. A base's staff asking for another base get an
    empty page."""
    sees_all = user is not None and allowed(user, "read_objections", Target(program=program))
    own_base = user.base if user is not None and user.role == "base_user" else None
    only = base
    if not sees_all and own_base is not None:
        if base not in (None, own_base):
            return ObjectionList()
        only = own_base
    request = ObjectionPageRequest(after=cursor, limit=limit, base=only)
    handle = _year(deps, program, year)
    page = await _call(
        handle.query(
            names.OBJECTION_PAGE, request, result_type=ObjectionPage, rpc_timeout=UPDATE_TIMEOUT
        ),
        "the objections",
    )
    if cursor is not None and not page.after_known:
        raise ApiError(422, "unknown_cursor", unknown_cursor(cursor).message, cursor=cursor)
    found = visible(ObjectionList(objections=page.objections), user, program).objections
    shown, cut_short = paging.cut(found, limit=limit, size_of=paging.model_size)
    more = page.more or cut_short
    return ObjectionList(objections=shown, next_cursor=shown[-1].objection_id if more else None)


def visible(found: ObjectionList, user: Principal | None, program: str) -> ObjectionList:
    """What ``user`` may see of the objections: need to know, asked before anything is shown."""
    if user is not None and allowed(user, "read_objections", Target(program=program)):
        return found
    mine = user.name if user is not None else None
    shown = found.objections
    if user is not None and user.role == "base_user":
        shown = [o for o in shown if o.base == user.base]
    return ObjectionList(objections=[_redacted(o, mine) for o in shown])


def _redacted(objection: Objection, viewer: str | None) -> Objection:
    if viewer is not None and objection.by == viewer:
        return objection  # one's own objection
    return objection.model_copy(update={"by": "", "contact": ""})


@router.post("/{objection_id}/decision", response_model=Objection, responses=authenticated(409))
async def decide_objection(
    program: Program,
    year: Year,
    objection_id: ObjectionId,
    body: DecisionBody,
    deps: DepsDep,
    user: UserDep,
    idempotency_key: IdempotencyKey = None,
) -> Objection:
    """处理异议 — uphold (the base's review reopens) or dismiss an objection, with a reason."""
    await require(deps, user, "decide_objection", program=program)
    decide = DecideObjection(
        objection_id=objection_id, decision=body.decision, reason=body.reason, by=user.name
    )
    handle = _year(deps, program, year)
    update_id = f"decision:{objection_id}:{idempotency_key}" if idempotency_key else None
    return await _call(
        handle.execute_update(
            names.DECIDE_OBJECTION,
            decide,
            id=update_id,
            result_type=Objection,
            rpc_timeout=UPDATE_TIMEOUT,
        ),
        "the decision",
    )
