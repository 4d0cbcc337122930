"""The engine shedding load is a 503 to retry, never a 500: Temporal answers RESOURCE_EXHAUSTED
("consistent query buffer is full") to a query in a rush, seen in a fault run."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.service import RPCError, RPCStatusCode

from services.gateway.problems import ApiError
from services.gateway.temporal_errors import call_workflow


def test_temporal_shedding_load_is_a_503_with_retry_after() -> None:
    async def busy() -> None:
        raise RPCError("consistent query buffer is full", RPCStatusCode.RESOURCE_EXHAUSTED, b"")

    with pytest.raises(ApiError) as refused:
        asyncio.run(call_workflow(busy(), what="the cycle"))
    assert (refused.value.status, refused.value.code) == (503, "service_unavailable")
    assert refused.value.extra["retry_after"] == 2
    assert "buffer is full" in refused.value.detail
