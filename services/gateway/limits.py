"""A size limit on every request body, enforced as the bytes arrive.

Uploads are bounded by ``upload_max_bytes`` (plus room for the form around the file); every
other body (JSON) by ``JSON_MAX_BYTES``. A declared ``Content-Length`` over the limit is refused
before a byte is read; a body without one (chunked) is counted and refused once it passes the
limit, so nothing a client sends is spooled to disk or memory without bound. The refusal is a
problem+json 413 with the code ``body_too_large``.

The connection is not closed with the refusal: most clients send their whole body before they
read an answer, and would see a reset instead of the 413. uvicorn discards what still arrives
(nothing is buffered) and drops the connection after its keep-alive timeout.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.problems import problem

JSON_MAX_BYTES = 1024 * 1024
# Multipart boundaries, part headers and the small form fields next to the file.
FORM_OVERHEAD_BYTES = 1024 * 1024


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        upload_max_bytes: Callable[[], int],
        json_max_bytes: int = JSON_MAX_BYTES,
    ) -> None:
        self.app, self._upload_max, self._json_max = app, upload_max_bytes, json_max_bytes

    def limit(self, scope: Scope) -> int:
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        if content_type.startswith("multipart/form-data"):
            return self._upload_max() + FORM_OVERHEAD_BYTES
        return self._json_max

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, limit)
            return

        received, exceeded, started = 0, False, False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise _TooLarge
            return message

        async def guarded(message: Message) -> None:
            nonlocal started
            if exceeded:
                # The app turned our exception into an answer of its own (FastAPI makes it a
                # 400 "error parsing the body"): answer 413 instead, and drop the app's.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _refuse(scope, receive, send, limit)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except _TooLarge:
            if not started:
                await _refuse(scope, receive, send, limit)


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    response = problem(
        413,
        "body_too_large",
        f"the request body exceeds the {limit}-byte limit",
        scope.get("path", ""),
        limit=limit,
    )
    await response(scope, receive, send)
