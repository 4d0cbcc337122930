"""Outcome decisions taking effect in the registry (issue 16), through its durable consumer on a
real nats-server and a SQLite registry: an exit de-lists the base once, however often the event
arrives; a ban on re-applying refuses registering the base again until the day it ends, named in
words, and a registration from then on is accepted; a malformed event goes to the dead letters
and the next decision still takes effect."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from faststream.nats import NatsBroker
from nats.aio.client import Client as NatsClient
from sqlalchemy import Engine

from services.registry import store, use_cases
from services.registry.app import build_broker
from services.registry.registration import REAPPLIED
from services.registry.tables import MIGRATIONS as REGISTRY_MIGRATIONS
from services.registry.tables import OutcomeActionRow
from shared.consumer import dlq_subject
from shared.contracts.registry import ApplyRules, BaseRegistration, RegisterBase
from shared.db import make_engine, session_scope
from shared.domain.outcome_rules import OutcomeDecision, YearGrade
from shared.domain.reapplication import exit_reason
from shared.events.envelope import YEAR_SOURCE, CloudEvent, new_event
from shared.events.payloads import OutcomeDecided
from shared.publisher import EventPublisher
from shared.rpc import RpcError
from shared.stream import DLQ_STREAM
from tests.helpers import log_end, until

PROGRAM = "regout"  # the Inner Mongolia preset under an id of its own (Beijing time)
PRESET = (
    Path(__file__).resolve().parents[2] / "deploy" / "programs" / "inner-mongolia-nav-base.yaml"
)
BEIJING = timezone(timedelta(hours=8))
DECIDED_AT = datetime(2027, 1, 10, 10, 0, tzinfo=BEIJING)
EXIT_WORDS = (
    "连续2年（2025—2026年度）评估不合格，予以摘牌，退出基地序列",
    "failed 2 years running (2025-2026): de-listed: the base leaves the programme",
)
EVIDENCE = ["ab" * 32]


def _registration(base: str) -> BaseRegistration:
    return BaseRegistration.model_validate(
        {
            "id": base,
            "name": f"基地 {base}",
            "region": "150100",
            "domain": f"稀土新材料-{base}",
            "host_type": "高校院所",
            "staff": {"total": 10, "senior_full_time": 3},
            "pct_minimum_data": True,
            "declarations": {
                k: {"affirmed": True, "evidence": EVIDENCE}
                for k in ("experience", "industry_base", "resources")
            },
        }
    )


def _decision(kind: str, **fields: Any) -> OutcomeDecided:
    grades = [YearGrade(year=2025, grade="fail"), YearGrade(year=2026, grade="fail")]
    words = {
        "exit": EXIT_WORDS,
        "reapplication_ban": ("摘牌退出后2年内不得重新申报", "may not re-apply for 2 years"),
        "tier": ("2026年度评估合格，给予B档支持", "graded pass in 2026: tier B support"),
    }[kind]
    decision = OutcomeDecision(
        kind=kind,  # type: ignore[arg-type]
        rule={"exit": "outcomes.exit", "reapplication_ban": "outcomes.reapplication_ban"}.get(
            kind, "outcomes.tiers.B"
        ),
        grades=grades,
        words_zh=words[0],
        words_en=words[1],
        **fields,
    )
    return OutcomeDecided(**decision.model_dump())


def _event(base: str, decision: OutcomeDecided, sequence: int) -> CloudEvent:
    return new_event(
        payload=decision,
        program=PROGRAM,
        year=2026,
        base=base,
        time=DECIDED_AT,
        stream_key=f"program-year/{PROGRAM}/2026@{uuid.uuid4().hex[:8]}",
        sequence=sequence,
        source=YEAR_SOURCE,
    )


async def _dead(nc: NatsClient, consumer: str) -> int:
    """How many events the consumer put in the dead letters."""
    subject = dlq_subject(consumer)
    info = await nc.jetstream().stream_info(DLQ_STREAM, subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


@dataclass
class Registry:
    engine: Engine
    consumer: str
    publisher: EventPublisher


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    db = make_engine(f"sqlite:///{tmp_path / 'registry.db'}")
    upgrade_and_apply(db)
    yield db
    db.dispose()


def upgrade_and_apply(db: Engine) -> None:
    from shared.migrations import upgrade

    upgrade(db, REGISTRY_MIGRATIONS)
    document = yaml.safe_load(PRESET.read_text("utf-8"))
    document["id"] = PROGRAM
    use_cases.apply_rules(db, ApplyRules(document=document))


@pytest.fixture
async def registry(engine: Engine, nats_url: str, nc: NatsClient) -> AsyncIterator[Registry]:
    consumer = f"registry-{uuid.uuid4().hex[:8]}"
    broker: NatsBroker = build_broker(
        nats_url, engine, consumer=consumer, start_after=await log_end(nc)
    )
    await broker.start()
    try:
        yield Registry(engine, consumer, EventPublisher(nc.jetstream()))
    finally:
        await broker.stop()


def _register(engine: Engine, base: str, at: datetime | None = None) -> str:
    req = RegisterBase(program=PROGRAM, registration=_registration(base), at=at)
    return use_cases.register_base(engine, req).status


def _actions(engine: Engine, *event_ids: str) -> dict[str, str]:
    with session_scope(engine) as session:
        rows = [session.get(OutcomeActionRow, i) for i in event_ids]
        return {r.event_id: r.effect for r in rows if r is not None}


async def _acted(engine: Engine, *event_ids: str) -> dict[str, str]:
    return await until(
        lambda: _actions(engine, *event_ids),
        lambda seen: len(seen) == len(event_ids),
        f"the registry acting on {len(event_ids)} outcome events",
    )


async def test_an_exit_delists_once_however_often_it_arrives(
    registry: Registry, nc: NatsClient
) -> None:
    engine = registry.engine
    assert _register(engine, "ro-exit") == "active"
    exit_ = _event("ro-exit", _decision("exit"), 40)
    await registry.publisher.publish(exit_)
    # The same event stored again without its message id: a second delivery of the same id.
    await nc.jetstream().publish(exit_.nats_subject, exit_.to_json())
    again = _event("ro-exit", _decision("exit"), 41)  # another exit decision, another id
    await registry.publisher.publish(again)
    marker = _event("ro-exit", _decision("tier", tier="B"), 42)
    await registry.publisher.publish(marker)

    assert await _acted(engine, exit_.id, again.id, marker.id) == {
        exit_.id: "delisted",
        again.id: "already_delisted",
        marker.id: "none",
    }
    with session_scope(engine) as session:
        row = store.get_base(session, program=PROGRAM, base="ro-exit")
        assert row is not None
        assert (row.status, row.delisted_in_year) == ("delisted", 2026)
        assert row.delisted_at == DECIDED_AT
        assert row.status_reason == exit_reason("outcomes.exit", *EXIT_WORDS, 2026)
        assert row.status_reason == (
            "2026年度结果决定（outcomes.exit）：连续2年（2025—2026年度）评估不合格，予以摘牌，"
            "退出基地序列 — outcome decision of 2026 (outcomes.exit): failed 2 years running"
            " (2025-2026): de-listed: the base leaves the programme"
        )
        history = store.status_history(session, program=PROGRAM, base="ro-exit")
        assert [(h.change, h.from_status, h.to_status, h.by, h.year) for h in history] == [
            (1, "active", "delisted", f"program-year/{PROGRAM}/2026", 2026)
        ]
    assert await _dead(nc, registry.consumer) == 0


async def test_a_ban_refuses_registering_again_until_it_ends(registry: Registry) -> None:
    engine = registry.engine
    assert _register(engine, "ro-ban") == "active"
    exit_ = _event("ro-ban", _decision("exit"), 40)
    ban = _event("ro-ban", _decision("reapplication_ban", ban="P2Y"), 41)
    await registry.publisher.publish(exit_)
    await registry.publisher.publish(ban)
    assert await _acted(engine, exit_.id, ban.id) == {exit_.id: "delisted", ban.id: "banned"}

    ends = datetime(2029, 1, 10, 10, 0, tzinfo=BEIJING)  # two years from the decision
    for at in (DECIDED_AT + timedelta(days=1), ends - timedelta(seconds=1)):
        with pytest.raises(RpcError) as refused:
            _register(engine, "ro-ban", at=at)
        assert (refused.value.code, refused.value.status) == ("reapplication_banned", 409)
        assert refused.value.details == {
            "until": "2029-01-10T10:00:00+08:00",
            "until_words": {
                "zh": "2029年1月10日10时",
                "en": "10:00 on 10 January 2029 (Beijing time)",
            },
        }
        assert refused.value.message == (
            "「ro-ban」已摘牌退出，2年内不得重新申报：限制期至2029年1月10日10时止，期满后方可"
            "重新登记 — 'ro-ban' was de-listed and may not re-apply for 2 years: the ban runs"
            " until 10:00 on 10 January 2029 (Beijing time), a registration is accepted after it"
        )

    assert _register(engine, "ro-ban", at=ends) == "active"
    with session_scope(engine) as session:
        history = store.status_history(session, program=PROGRAM, base="ro-ban")
        assert [(h.from_status, h.to_status, h.reason, h.at) for h in history] == [
            ("active", "delisted", exit_reason("outcomes.exit", *EXIT_WORDS, 2026), DECIDED_AT),
            ("delisted", "active", REAPPLIED, ends),
        ]
    with pytest.raises(RpcError) as twice:
        _register(engine, "ro-ban", at=ends)
    assert (twice.value.code, twice.value.status) == ("base_exists", 409)


async def test_a_malformed_decision_is_dead_lettered_and_the_next_takes_effect(
    registry: Registry, nc: NatsClient
) -> None:
    engine = registry.engine
    assert _register(engine, "ro-next") == "active"
    subject = f"navcycle.events.{PROGRAM}.2026.ro-next.outcome.decided"
    js = nc.jetstream()
    await js.publish(subject, b"{not json")
    bad = _event("ro-next", _decision("exit"), 40).model_dump(mode="json")
    bad["data"] = {"kind": "exit"}  # no rule, grades or words
    await js.publish(subject, CloudEvent.model_validate(bad).to_json())
    unknown = _event("ro-nobody", _decision("exit"), 41)  # a base this registry never had
    good = _event("ro-next", _decision("exit"), 42)
    await registry.publisher.publish(unknown)
    await registry.publisher.publish(good)

    assert await _acted(engine, unknown.id, good.id) == {
        unknown.id: "unknown_base",
        good.id: "delisted",
    }
    assert await _dead(nc, registry.consumer) == 2
