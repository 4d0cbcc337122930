"""Authentication (a bearer token, or the portal's session cookie with its CSRF token) and the
authorisation check every route makes."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.gateway.access import HIDDEN, Action, Target, allowed
from services.gateway.deps import Deps, DepsDep
from services.gateway.identity.portal_sessions import SessionRefused
from services.gateway.identity.tokens import Principal, TokenRefused, identify
from services.gateway.problems import ApiError
from services.gateway.session_cookie import (
    CSRF_HEADER,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    cookie_session,
    csrf_ok,
)
from shared.contracts.assessment import AssignmentQuery, Assignments
from shared.contracts.registry import BasePublic, GetBase, GetProgram, PinnedRules
from shared.rpc import RpcError

# Declares the bearer scheme in OpenAPI on every route that asks for a user; the header itself
# is read below, so that each refusal keeps its own code (auto_error would answer 403).
BEARER = HTTPBearer(
    scheme_name="bearer",
    bearerFormat="nvc_<token>",
    description=(
        "访问令牌，由 navcycle user add / rotate 签发 — a token issued by navcycle user add or"
        " navcycle user rotate"
    ),
    auto_error=False,
)


async def current_user(
    request: Request,
    deps: DepsDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
) -> Principal:
    return await caller(deps, request, authorization)


async def caller(deps: Deps, request: Request, authorization: str | None) -> Principal:
    """Who makes ``request``: a bearer token (machines, scripts), else the portal's session
    cookie, with which every unsafe method must carry the session's CSRF token in
    ``X-CSRF-Token`` (403 ``csrf_failed``); a bearer request needs none."""
    if not authorization and request.cookies.get(SESSION_COOKIE):
        return await _session_caller(deps, request)
    if not authorization:
        raise ApiError(401, "unauthenticated", "send Authorization: Bearer <token>")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "invalid_token", "the Authorization header must be 'Bearer <token>'")
    try:
        return await asyncio.to_thread(identify, deps.users, token.strip())
    except TokenRefused as refused:
        raise ApiError(401, refused.code, refused.message) from None


async def _session_caller(deps: Deps, request: Request) -> Principal:
    try:
        user = await cookie_session(deps, request)
    except SessionRefused as refused:
        if refused.reason == "session_expired":
            raise ApiError(
                401, "session_expired", "the portal session was idle too long; sign in again"
            ) from None
        raise ApiError(
            401, "unauthenticated", "the portal session has ended; sign in again"
        ) from None
    assert user is not None
    if request.method in UNSAFE_METHODS and not csrf_ok(request, request.headers.get(CSRF_HEADER)):
        raise ApiError(
            403, "csrf_failed", f"a request signed in by the portal session must send {CSRF_HEADER}"
        )
    return user


UserDep = Annotated[Principal, Depends(current_user)]


async def rpc(call):  # type: ignore[no-untyped-def]
    """A service's refusal keeps its status and code; an absent service is a 503."""
    try:
        return await call
    except RpcError as exc:
        raise ApiError(exc.status, exc.code, exc.message, **exc.details) from None


async def base_of(deps: Deps, program: str, base: str) -> BasePublic:
    return await rpc(
        deps.rpc.call("registry", "bases.get", GetBase(program=program, base=base), BasePublic)
    )


async def assigned(deps: Deps, user: Principal, program: str, year: int, base: str) -> bool:
    if user.role != "expert":
        return False
    current = await rpc(
        deps.rpc.call(
            "assessment",
            "assignments.current",
            AssignmentQuery(program=program, year=year, base=base),
            Assignments,
        )
    )
    return current.includes(user.name)


async def program_region(deps: Deps, program: str) -> str:
    pinned = await rpc(
        deps.rpc.call("registry", "rules.current", GetProgram(program=program), PinnedRules)
    )
    return pinned.rules.region


def refusal(user: Principal, action: Action, *, program: str, base: str | None) -> ApiError:
    """A read the caller may not make is answered as if nothing were there (need to know);
    any other refusal is a 403 naming the role and the action."""
    if action in HIDDEN:
        if base is not None:
            return ApiError(404, "base_not_found", f"no base {base!r} in {program!r}")
        return ApiError(404, "program_not_found", f"no program {program!r}")
    return ApiError(403, "forbidden", f"a {user.role} may not {action.replace('_', ' ')} here")


async def require(
    deps: Deps,
    user: Principal,
    action: Action,
    *,
    program: str,
    base: str | None = None,
    year: int | None = None,
    region: str | None = None,
) -> BasePublic | None:
    """Refuse unless ``user`` may do ``action`` (see :func:`refusal`); returns the base.
    ``region``: the region addressed when no base is (a forwarding region)."""
    found = await base_of(deps, program, base) if base else None
    is_assigned = bool(found and year and await assigned(deps, user, program, year, base or ""))
    issuer = None
    if (user.role == "city_officer" and action == "read_program") or (
        user.role == "province_admin" and action == "verify_national"
    ):
        issuer = await program_region(deps, program)
    target = Target(
        program=program,
        base=base,
        region=found.region if found else region,
        program_region=issuer,
    )
    if not allowed(user, action, target, assigned=is_assigned):
        raise refusal(user, action, program=program, base=base)
    return found
