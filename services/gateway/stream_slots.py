"""Bounds on the dashboard's server-sent event streams, and their token's lifetime.

Each open stream holds a NATS subscription and a task for as long as the client stays, so they
are counted: at most ``PER_USER`` per user and ``TOTAL`` in one gateway process; past either, 429
``too_many_streams`` with Retry-After. A stream re-checks its token every ``RECHECK_S`` seconds
and ends (after a ``problem`` event) once the token is revoked or expired.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from fastapi import Request

from services.gateway.auth import caller
from services.gateway.deps import Deps
from services.gateway.problems import ApiError

PER_USER = 3
TOTAL = 200
RECHECK_S = 30.0
RETRY_AFTER_S = 30


@dataclass
class StreamSlots:
    per_user: int = PER_USER
    total: int = TOTAL
    _open: Counter[str] = field(default_factory=Counter)

    @property
    def open(self) -> int:
        return sum(self._open.values())

    def take(self, user: str) -> Slot:
        """A slot for one more stream of ``user``, or 429 ``too_many_streams``."""
        if self._open[user] >= self.per_user:
            raise ApiError(
                429,
                "too_many_streams",
                f"每个用户最多同时打开{self.per_user}个实时连接 — at most {self.per_user} "
                "open streams per user; close one first",
                retry_after=RETRY_AFTER_S,
            )
        if self.open >= self.total:
            raise ApiError(
                429,
                "too_many_streams",
                "实时连接已满，请稍后再试 — the gateway has no stream left; try again later",
                retry_after=RETRY_AFTER_S,
            )
        self._open[user] += 1
        return Slot(self, user)


@dataclass
class Slot:
    slots: StreamSlots
    user: str
    released: bool = False

    def release(self) -> None:
        """Give the slot back; more than once is fine (the stream's end and the response's)."""
        if self.released:
            return
        self.released = True
        self.slots._open[self.user] -= 1
        if self.slots._open[self.user] <= 0:
            del self.slots._open[self.user]


def stream_slots(request: Request) -> StreamSlots:
    state = request.app.state
    if not hasattr(state, "stream_slots"):
        state.stream_slots = StreamSlots()
    slots: StreamSlots = state.stream_slots
    return slots


async def token_refusal(deps: Deps, request: Request) -> str | None:
    """The code refusing the request's token or session now (revoked, expired), or None while it
    holds."""
    try:
        await caller(deps, request, request.headers.get("authorization"))
    except ApiError as exc:
        return exc.code
    return None
