"""The token of an upload is checked before its body is read.

A multipart body is parsed before any dependency is resolved (the filing routes stream its file
to a staging object, ``upload_stream.py``), so a route's own authentication would come after up
to the whole upload limit has been received and stored.
This ASGI middleware answers a multipart request without a valid token or portal session (401;
a session's upload without its CSRF token, 403), or with one whose
role may not file at the addressed base (403), before a byte of the body is read. The route still
makes its full check (the base's existence, the cycle's state) once it runs.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.access import Target, allowed
from services.gateway.auth import caller
from services.gateway.deps import Deps
from services.gateway.problems import ApiError, problem

FILING = re.compile(
    r"^/v1/programs/(?P<program>[^/]+)/years/\d+/bases/(?P<base>[^/]+)/"
    r"(?:plan|self-evaluation|rectification)$"
)


def is_upload(scope: Scope) -> bool:
    headers = dict(scope.get("headers") or [])
    content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
    return scope["type"] == "http" and content_type.startswith("multipart/form-data")


class UploadGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_upload(scope):
            await self.app(scope, receive, send)
            return
        try:
            await self._admit(scope)
        except ApiError as exc:
            response = problem(exc.status, exc.code, exc.detail, scope.get("path", ""), **exc.extra)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _admit(scope: Scope) -> None:
        deps: Deps = scope["app"].state.deps
        authorization = dict(scope.get("headers") or []).get(b"authorization")
        user = await caller(
            deps, Request(scope), authorization.decode("latin-1") if authorization else None
        )
        filing = FILING.match(scope.get("path", ""))
        target = Target(program=filing["program"], base=filing["base"]) if filing else None
        if target is None or not allowed(user, "file", target):
            raise ApiError(403, "forbidden", f"a {user.role} may not upload here")
