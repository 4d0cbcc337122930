"""Who is signed in to the portal, or a redirect to the sign-in page.

A person signs in with a one-time link and then carries a session cookie; a machine may send its
bearer token instead. Either way the page gets the same :class:`Principal` the API would, and
asks the same access policy.
"""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse

from services.gateway.deps import DepsDep
from services.gateway.identity.tokens import Principal, TokenRefused, identify

SIGNIN_PATH = "/portal/signin"


class SignInNeeded(Exception):
    """No valid session: the person is sent to sign in, and back to ``next`` afterwards."""

    def __init__(self, next_path: str, reason: str = "") -> None:
        super().__init__(reason or "sign in")
        self.next_path = next_path
        self.reason = reason


async def portal_user(request: Request, deps: DepsDep) -> Principal:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            return await asyncio.to_thread(identify, deps.users, token.strip())
        except TokenRefused as refused:
            raise SignInNeeded(request.url.path, refused.code) from None
    raise SignInNeeded(request.url.path)


PortalUser = Annotated[Principal, Depends(portal_user)]


def install(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def _to_signin(request: Request, exc: SignInNeeded) -> RedirectResponse:
        target = f"{SIGNIN_PATH}?next={quote(exc.next_path, safe='/')}"
        if exc.reason:
            target += f"&reason={quote(exc.reason)}"
        return RedirectResponse(target, status_code=303)
