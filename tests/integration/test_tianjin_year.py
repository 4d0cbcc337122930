"""A Tianjin Xiqing year (seed 003) under time skipping through both kinds of sub-unit the seed
assesses (「加强对街镇、开发区的指标考核」): two 街镇 and one 开发区 each file a plan and an account
of the year, are scored on their own kind's rubric (the zones' xiqing-2020-zone.1 with its
patent-strong industries, the 街镇 the program's xiqing-2020.1), graded with it, and the year's
final results lead to the reward tiers (「考核结果与绩效奖励挂钩」) as outcome.decided events.

The share indicator names the sub-unit's share target (``from_target: unit_invention_share``),
but the cycle does not score it from the target yet: the account's actuals are the free figures
of the unit's own plan, not the rules' targets, so the assessors score that indicator like the
others here."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client as NatsClient

from shared.contracts.registry import GetProgram, PinnedRules
from shared.domain.stages import Stage
from shared.eventlog import read_events
from shared.events.envelope import YEAR_SOURCE
from shared.events.subjects import event_filter
from shared.rpc import RpcClient
from tests.conftest import Stack
from tests.integration import presets
from tests.integration.kinds_year import run_kinds_year
from tests.integration.test_program_year import finish, graded_records, year_event

PRESET = "tianjin-xiqing-demo-district"
UNITS = {"tj-jz1": "subdistrict", "tj-jz2": "subdistrict", "tj-kf": "development_zone"}
SCORES = {"tj-jz1": 90, "tj-jz2": 40, "tj-kf": 75}
XIQING = "120111"  # 西青区
TIERS = {  # base: the tier, the final grade and the words of its outcome.decided event
    "tj-jz1": ("A", "excellent", "优秀", "给予一档绩效奖励", "a first-tier performance reward"),
    "tj-kf": ("B", "pass", "合格", "给予二档绩效奖励", "a second-tier performance reward"),
}


async def _decided(stack: Stack, program: str, year: int) -> dict[str, Any]:
    events = await read_events(
        stack.nc.jetstream(), event_filter(program, year, event_type="outcome.decided")
    )
    return {e.base: e for _, e in events}


async def test_the_registry_applies_the_preset_at_start(stack: Stack, nc: NatsClient) -> None:
    pinned = await RpcClient(nc).call(
        "registry", "rules.current", GetProgram(program=PRESET), PinnedRules
    )
    assert pinned.rules.region == XIQING
    assert list(pinned.rules.participants) == ["subdistrict", "development_zone"]
    assert len(pinned.rules.targets) == 19


async def test_a_xiqing_year_grades_each_sub_unit_and_rewards_by_result(
    dated_stack: Stack,
) -> None:
    stack = dated_stack
    rules = presets.preset(PRESET, "tianjin-year")
    # the clock stands at 1 November: the year launched on 1 March is the next one
    run = await run_kinds_year(stack, rules, UNITS, SCORES, region=XIQING, name="西青区")
    year = run.year
    assert run.result.graded == len(UNITS)

    graded = {
        r.base: (r.rubric.version, r.total, r.grade, len(r.sheets))
        for r in await graded_records(stack, rules.id, year)
    }
    assert graded == {
        "tj-jz1": ("xiqing-2020.1", 90, "excellent", 3),
        "tj-jz2": ("xiqing-2020.1", 40, "fail", 3),
        "tj-kf": ("xiqing-2020-zone.1", 75, "pass", 3),
    }
    zone = next(r for r in await graded_records(stack, rules.id, year) if r.base == "tj-kf")
    assert [i.key for i in zone.rubric.indicators][-1] == "advantage_industries"

    published = await year_event(stack, rules.id, year, "results.published")
    assert {e["base"]: (e["grade"], e["outcome"]) for e in published["entries"]} == {
        "tj-jz1": ("excellent", "none"),
        "tj-jz2": ("fail", "fail_final"),
        "tj-kf": ("pass", "none"),
    }

    decided = await _decided(stack, rules.id, year)
    assert sorted(decided) == ["tj-jz1", "tj-kf"]  # 不合格 earns no reward
    assert {b: e.source for b, e in decided.items()} == {
        "tj-jz1": YEAR_SOURCE,
        "tj-kf": YEAR_SOURCE,
    }
    assert {b: e.data for b, e in decided.items()} == {
        base: {
            "kind": "tier",
            "rule": f"outcomes.tiers.{tier}",
            "clause": rules.provenance[f"outcomes.tiers.{tier}"],
            "grades": [{"year": year, "grade": grade}],
            "words_zh": f"{year}年度评估{grade_zh}，{words_zh}",
            "words_en": f"graded {grade} in {year}: {words_en}",
            "tier": tier,
            "amount_yuan": None,
            "ban": None,
        }
        for base, (tier, grade, grade_zh, words_zh, words_en) in TIERS.items()
    }
    assert "考核结果与绩效奖励挂钩" in decided["tj-kf"].data["clause"]

    # No rectification in the seed: the failing 街镇 is not rectified, and every cycle closes.
    for handle in run.handles.values():
        assert (await finish(stack, handle)).stage == Stage.CLOSED
