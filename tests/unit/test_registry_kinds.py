"""The registry applies each kind's own eligibility to a base of that kind: one industry, one
base (一产业一基地) for the kind that asks for it, at registration and at reinstatement, and not
for the kind that does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from services.registry import use_cases
from services.registry.tables import MIGRATIONS as REGISTRY_MIGRATIONS
from shared.contracts.registry import (
    ApplyRules,
    BaseRegistration,
    BaseStatusChange,
    RegisterBase,
    Reinstate,
)
from shared.db import make_engine
from shared.migrations import upgrade
from shared.rpc import RpcError
from tests.helpers import demo_rules

PROGRAM = "kinds-registry"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    db = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade(db, REGISTRY_MIGRATIONS)
    rules = demo_rules(
        id=PROGRAM,
        participants={
            "park": {
                "name_zh": "园区",
                "name_en": "park",
                "eligibility": {"one_base_per_domain": True},
            },
            "enterprise": {"name_zh": "企业", "name_en": "enterprise"},
        },
    )
    use_cases.apply_rules(db, ApplyRules(document=rules.model_dump(mode="json", by_alias=True)))
    yield db
    db.dispose()


def _register(engine: Engine, base: str, kind: str, domain: str) -> Any:
    reg = BaseRegistration.model_validate(
        {
            "id": base,
            "name": base,
            "region": "410100",
            "domain": domain,
            "kind": kind,
            "staff": {"total": 10, "senior_full_time": 3},
        }
    )
    return use_cases.register_base(engine, RegisterBase(program=PROGRAM, registration=reg))


def _delist(engine: Engine, base: str) -> None:
    change = BaseStatusChange(program=PROGRAM, base=base, status="delisted", year=2030)
    use_cases.change_status(engine, change)


def _reinstate(engine: Engine, base: str) -> Any:
    return use_cases.reinstate(
        engine, Reinstate(program=PROGRAM, base=base, reason="整改到位", by="admin")
    )


def test_one_base_per_industry_holds_for_the_kind_that_asks_for_it(engine: Engine) -> None:
    assert _register(engine, "p1", "park", "新材料").kind == "park"
    with pytest.raises(RpcError) as caught:
        _register(engine, "p2", "park", "新材料")
    assert (caught.value.code, caught.value.status) == ("domain_taken", 409)
    _delist(engine, "p1")
    _register(engine, "p2", "park", "新材料")  # the industry is free again
    with pytest.raises(RpcError) as caught:
        _reinstate(engine, "p1")
    assert (caught.value.code, caught.value.status) == ("domain_taken", 409)


def test_the_kind_without_the_rule_shares_an_industry(engine: Engine) -> None:
    _register(engine, "e1", "enterprise", "新能源")
    _register(engine, "e2", "enterprise", "新能源")
    _delist(engine, "e1")
    _register(engine, "e3", "enterprise", "新能源")
    assert _reinstate(engine, "e1").status == "active"
