"""The Xing'an preset (seed 001) loads in the registry at start, with its targets, and a unit the
seed supports registers under its eligibility; a host type the seed does not name is refused."""

from __future__ import annotations

import pytest
from nats.aio.client import Client as NatsClient

from shared.contracts.registry import (
    BasePublic,
    BaseRegistration,
    GetProgram,
    PinnedRules,
    RegisterBase,
)
from shared.rpc import RpcClient, RpcError
from tests.conftest import Stack

PROGRAM = "xingan-high-value-patents"


def _body(base: str, host_type: str = "企业") -> BaseRegistration:
    return BaseRegistration.model_validate(
        {
            "id": base,
            "name": f"培育中心 {base}",
            "region": "152201",  # 乌兰浩特市, within 兴安盟 (152200)
            "domain": "新能源",
            "host_type": host_type,
            "staff": {"total": 5, "senior_full_time": 0},
            "pct_minimum_data": False,
            "declarations": {"innovation_platform": {"affirmed": True, "evidence": ["cd" * 32]}},
        }
    )


async def test_the_registry_serves_the_xingan_targets(stack: Stack, nc: NatsClient) -> None:
    pinned = await RpcClient(nc).call(
        "registry", "rules.current", GetProgram(program=PROGRAM), PinnedRules
    )
    targets = {t.key: t for t in pinned.rules.targets}
    assert pinned.rules.region == "152200"
    assert targets["high_value_patents"].baseline_value == 25
    assert targets["new_invention_patents"].soft is True
    assert targets["pledge_financing"].lead_unit == "盟金融办"


async def test_a_unit_the_seed_supports_registers(stack: Stack, nc: NatsClient) -> None:
    rpc = RpcClient(nc)
    created = await rpc.call(
        "registry",
        "bases.register",
        RegisterBase(program=PROGRAM, registration=_body("xa-reg-1")),
        BasePublic,
    )
    assert (created.region, created.host_type, created.status) == ("152201", "企业", "active")
    with pytest.raises(RpcError) as info:
        await rpc.call(
            "registry",
            "bases.register",
            RegisterBase(program=PROGRAM, registration=_body("xa-reg-2", "行业协会")),
            BasePublic,
        )
    assert (info.value.code, info.value.status) == ("not_eligible", 422)
    assert [r["code"] for r in info.value.details["reasons"]] == ["host_type"]
