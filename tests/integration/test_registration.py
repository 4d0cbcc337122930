"""Registering bases through the registry service, under each preset's eligibility as its seed
writes it; and `navcycle demo` refusing a program of the record before touching anything."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

import pytest
from nats.aio.client import Client as NatsClient
from sqlmodel import select

from services.registry import store
from services.registry.tables import BaseRow, RulesVersion
from shared.contracts.registry import BasePublic, BaseRegistration, RegisterBase
from shared.db import session_scope
from shared.rpc import RpcClient, RpcError
from tests.conftest import Stack

EVIDENCE = ["ab" * 32]


def _body(base: str, **changes: Any) -> BaseRegistration:
    body: dict[str, Any] = {
        "id": base,
        "name": f"基地 {base}",
        "region": "150100",
        "domain": "稀土新材料",  # not among seed 000's named domains, which end in 等
        "host_type": "高校院所",
        "staff": {"total": 10, "senior_full_time": 3},
        "pct_minimum_data": True,
        "declarations": {
            k: {"affirmed": True, "evidence": EVIDENCE}
            for k in ("experience", "industry_base", "resources")
        },
    }
    body.update(changes)
    return BaseRegistration.model_validate(body)


async def _register(nc: NatsClient, program: str, reg: BaseRegistration) -> BasePublic:
    return await RpcClient(nc).call(
        "registry", "bases.register", RegisterBase(program=program, registration=reg), BasePublic
    )


async def test_inner_mongolia_registers_with_declarations_and_evidence(
    stack: Stack, nc: NatsClient
) -> None:
    created = await _register(nc, "inner-mongolia-nav-base", _body("nm-reg-1"))
    assert created.declarations["experience"].evidence == EVIDENCE
    with session_scope(stack.registry_db) as session:
        row = store.get_base(session, program="inner-mongolia-nav-base", base="nm-reg-1")
        assert row is not None and row.declarations["resources"]["affirmed"] is True

    missing = _body(
        "nm-reg-2",
        domain="稀土永磁",
        declarations={
            "experience": {"affirmed": True, "evidence": []},
            "industry_base": {"affirmed": False, "evidence": EVIDENCE},
        },
    )
    with pytest.raises(RpcError) as info:
        await _register(nc, "inner-mongolia-nav-base", missing)
    assert (info.value.code, info.value.status) == ("not_eligible", 422)
    codes = [r["code"] for r in info.value.details["reasons"]]
    assert codes == ["evidence_missing", "declaration_missing", "declaration_missing"]
    assert "证明材料" in info.value.details["reasons"][0]["message_zh"]
    assert "生物医药" in info.value.details["suggestions"]["domains"]


async def test_a_base_outside_the_programs_region_is_refused(nc: NatsClient) -> None:
    with pytest.raises(RpcError) as info:
        await _register(nc, "inner-mongolia-nav-base", _body("nm-reg-3", region="410100"))
    assert [r["code"] for r in info.value.details["reasons"]] == ["region_outside_program"]


async def test_henan_accepts_its_seeds_own_word_for_a_host(nc: NatsClient, stack: Stack) -> None:
    declarations = {
        k: {"affirmed": True, "evidence": EVIDENCE}
        for k in ("local_support", "industry_demand", "work_foundation", "resources")
    }
    for n, host in enumerate(("当地企业", "科技服务公司")):  # the seed's list ends in 等
        reg = _body(f"hn-reg-{n}", region="410100", host_type=host, declarations=declarations)
        assert (await _register(nc, "henan-nav-base", reg)).host_type == host


async def test_demo_refuses_a_program_of_the_record_and_touches_nothing(
    stack: Stack, nats_url: str
) -> None:
    def snapshot() -> tuple[int, int]:
        with session_scope(stack.registry_db) as session:
            versions = len(session.exec(select(RulesVersion)).all())
            bases = len(session.exec(select(BaseRow)).all())
        return versions, bases

    before = snapshot()
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli.main",
        "demo",
        "--program",
        "demo-fast",
        "--bases",
        "3",
        env={**os.environ, "NAVCYCLE_NATS_URL": nats_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(demo.communicate(), 120)
    assert demo.returncode == 2, err.decode()
    message = err.decode()
    assert "不是模拟项目" in message and "not a simulation program" in message
    assert snapshot() == before
