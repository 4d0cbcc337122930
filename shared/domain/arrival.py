"""When a filing counts as filed: the moment it reached the gateway, not when a worker got to it.

The gateway stamps a filing's arrival before it reads the upload; under a deadline rush the cycle
may accept it tens of seconds later. A filing that arrived before its deadline is admitted even
if it is processed after it, within a bounded skew between the gateway's clock and the
workflow's:

- no arrival stamp (an old client, a recorded history): judged at ``now``;
- an arrival older than ``now - max_skew``: not trusted (a stamp that old is no longer the
  request's arrival), judged at ``now``;
- an arrival within ``[now - max_skew, now]``: judged at the arrival;
- an arrival ahead of ``now`` by at most ``max_skew``: the gateway's clock runs a little ahead,
  judged at ``now`` (never later than the workflow's own clock);
- an arrival ahead of ``now`` by more than ``max_skew``: refused with ``clock_skew``, as the two
  clocks disagree more than the bureau allows and neither can be taken for the truth;
- a ``max_skew`` of zero: arrival stamps are not trusted at all, every filing judged at ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

CLOCK_SKEW = "clock_skew"
DEFAULT_MAX_SKEW = timedelta(seconds=300)

Basis = Literal["arrival", "now"]


@dataclass(frozen=True)
class Admission:
    """``at``: the time the filing is judged at and counts as filed at; ``basis``: whether that
    is the gateway's arrival stamp or the workflow's clock; ``refusal``: ``(code, message)`` when
    the filing must be refused whatever its deadline."""

    at: datetime
    basis: Basis
    refusal: tuple[str, str] | None = None


def admission_time(received_at: datetime | None, now: datetime, max_skew: timedelta) -> Admission:
    """The time a filing that arrived at ``received_at`` is judged at, given the workflow's
    ``now``. ``max_skew`` bounds the trusted gap both ways; zero turns arrival stamps off."""
    if max_skew < timedelta(0):
        raise ValueError(f"max_skew cannot be negative: {max_skew}")
    if received_at is None or received_at.tzinfo is None or not max_skew:
        # A naive stamp cannot be placed on the workflow's clock: judged as if unstamped.
        return Admission(at=now, basis="now")
    if received_at > now + max_skew:
        ahead = (received_at - now).total_seconds()
        return Admission(
            at=now,
            basis="now",
            refusal=(
                CLOCK_SKEW,
                f"网关时钟比流程时钟快 {ahead:.0f} 秒，超过允许的 {max_skew.total_seconds():.0f}"
                f" 秒，请稍后重试 — the gateway's clock is {ahead:.0f} s ahead of the"
                f" workflow's, more than the {max_skew.total_seconds():.0f} s allowed; retry later",
            ),
        )
    if received_at > now or received_at < now - max_skew:
        return Admission(at=now, basis="now")
    return Admission(at=received_at, basis="arrival")
