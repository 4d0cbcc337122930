"""Payload of a region's forwarding: at an aggregation step of a verification chain (汇总报送),
the region collects its units' plans and forwards them, as one filing of its own, to the next
step (shared/domain/chains.py)."""

from __future__ import annotations

from pydantic import Field

from shared.events.payloads.base import EventPayload, payload
from shared.events.types import EventType


@payload(EventType.PLANS_FORWARDED)
class PlansForwarded(EventPayload):
    """One region forwarded the plans of its units waiting at its aggregation step."""

    region: str = Field(description="The forwarding region (GB/T 2260)")
    level: str = Field(description="Its level: city | province")
    units: list[str] = Field(description="The units whose plans it forwarded, in code order")
    by: str = Field(description="Who forwarded them")
    document_id: str | None = Field(None, description="The region's own covering filing, if any")
    filing: int = Field(1, description="The region's 1st, 2nd, ... forwarding this year")
    forward_by: str | None = Field(None, description="The step's deadline, when it had one")
    late: bool = Field(False, description="Forwarded after the step's deadline")
