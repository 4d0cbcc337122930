"""The CNIPA 2015 preset (seed 002) loads in the registry at start with its four kinds of pilot
unit; one unit of each kind registers under its own kind's task list, and a unit that fails its
kind's rules, or names a kind the program does not have, is refused with 422 and a stable code."""

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
from shared.domain.participants import participant_rules
from shared.rpc import RpcClient, RpcError
from tests.conftest import Stack

PROGRAM = "cnipa-pilot-2015"
TASKS = {
    "experimental_zone": [
        "navigation_results",
        "one_plus_n",
        "operation_agencies",
        "patents_and_standards",
        "ip_alliance",
    ],
    "collaborative_pilot": ["collaborative_basis", "operation_system", "ip_alliance"],
    "operation_enterprise": ["specialisation", "operation_alliance", "talent"],
    "trading_centre": ["positioning", "external_resources"],
}


def _body(base: str, kind: str | None, tasks: list[str], region: str) -> BaseRegistration:
    return BaseRegistration.model_validate(
        {
            "id": base,
            "name": f"试点单位 {base}",
            "region": region,
            "domain": "新一代信息技术",
            "kind": kind,
            "staff": {"total": 3, "senior_full_time": 1},
            "declarations": {t: {"affirmed": True, "evidence": ["ab" * 32]} for t in tasks},
        }
    )


async def _register(rpc: RpcClient, body: BaseRegistration) -> BasePublic:
    return await rpc.call(
        "registry", "bases.register", RegisterBase(program=PROGRAM, registration=body), BasePublic
    )


async def test_the_registry_serves_the_four_kinds(stack: Stack, nc: NatsClient) -> None:
    pinned = await RpcClient(nc).call(
        "registry", "rules.current", GetProgram(program=PROGRAM), PinnedRules
    )
    rules = pinned.rules
    assert rules.region == "000000"
    assert list(rules.participants) == list(TASKS)
    for kind, tasks in TASKS.items():
        own = participant_rules(rules, kind)
        assert [d.key for d in own.eligibility.declarations] == tasks
        step = own.chain[0]
        assert (step.level, step.kind, step.forward_by) == ("province", "aggregate", "--05-08")
    assert [t.value for t in participant_rules(rules, "experimental_zone").targets] == [5]


async def test_one_unit_of_each_kind_registers_under_its_own_tasks(
    stack: Stack, nc: NatsClient
) -> None:
    rpc = RpcClient(nc)
    regions = ["320500", "440300", "110108", "510100"]  # anywhere in the country
    for n, ((kind, tasks), region) in enumerate(zip(TASKS.items(), regions, strict=True)):
        created = await _register(rpc, _body(f"cn-{n}", kind, tasks, region))
        assert (created.kind, created.region, created.status) == (kind, region, "active")
        assert sorted(created.declarations) == sorted(tasks)
    first = await _register(rpc, _body("cn-default", None, TASKS["experimental_zone"], "320500"))
    assert first.kind == "experimental_zone"  # a registration naming no kind: the first


async def test_a_unit_failing_its_kinds_rules_is_refused(stack: Stack, nc: NatsClient) -> None:
    rpc = RpcClient(nc)
    # an enterprise answering the zones' task list: its own tasks missing, the zones' unknown
    zone_tasks = TASKS["experimental_zone"]
    with pytest.raises(RpcError) as info:
        await _register(rpc, _body("cn-wrong", "operation_enterprise", zone_tasks, "320500"))
    assert (info.value.code, info.value.status) == ("not_eligible", 422)
    assert [r["code"] for r in info.value.details["reasons"]] == [
        *["declaration_unknown"] * 5,
        *["declaration_missing"] * 3,
    ]
    # a zone without evidence for its 1+N structure
    body = _body("cn-no-evidence", "experimental_zone", zone_tasks, "320500")
    body.declarations["one_plus_n"].evidence.clear()
    with pytest.raises(RpcError) as info:
        await _register(rpc, body)
    assert [r["code"] for r in info.value.details["reasons"]] == ["evidence_missing"]
    with pytest.raises(RpcError) as info:
        await _register(rpc, _body("cn-kindless", "sub_district", [], "320500"))
    assert (info.value.code, info.value.status) == ("unknown_participant_kind", 422)
    assert info.value.details["kinds"] == list(TASKS)
