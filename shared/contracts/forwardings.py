"""A region's forwarding at an aggregation step (汇总报送): the update a program year takes
(``forward_plans``) and the record it keeps of each forwarding."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from shared.contracts.cycle import ACTOR, Actor
from shared.contracts.strict import StrictModel


class ForwardPlans(StrictModel):
    region: str = Field(pattern=r"^\d{6}$", description="The forwarding region (GB/T 2260)")
    document_id: str | None = Field(
        None, max_length=200, description="The region's own covering filing (报送函), if any"
    )
    actor: Actor | None = ACTOR


class ForwardingRecord(StrictModel):
    """One forwarding: which region forwarded which units' plans, when, and who."""

    region: str
    level: str
    units: list[str]
    forwarded_at: datetime
    by: str
    document_id: str | None = None
    filing: int = Field(1, description="The region's 1st, 2nd, ... forwarding this year")
    due: datetime | None = None
    late: bool = False
