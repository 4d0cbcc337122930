"""The moment a request reached the gateway, stamped before its body is read.

A filing counts as filed when it arrived (``shared/domain/arrival.py``), not when its upload was
read or the cycle got to it. FastAPI reads a multipart body before it resolves any dependency,
so the stamp is taken by an ASGI middleware in front of everything and read by routes through
``ArrivalDep``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

BEIJING = timezone(timedelta(hours=8))
_KEY = "navcycle_received_at"


def now() -> datetime:
    """The gateway's clock, in Beijing time (an absolute instant all the same)."""
    return datetime.now(BEIJING)


class ArrivalStamp:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})[_KEY] = now()
        await self.app(scope, receive, send)


def received_at(request: Request) -> datetime:
    """When this request arrived; the time of the call when no middleware stamped it."""
    stamped = request.scope.get("state", {}).get(_KEY)
    return stamped if isinstance(stamped, datetime) else now()


ArrivalDep = Annotated[datetime, Depends(received_at)]
