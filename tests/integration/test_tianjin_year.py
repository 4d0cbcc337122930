"""A Tianjin Xiqing year (seed 003) under time skipping through both kinds of sub-unit the seed
assesses (「加强对街镇、开发区的指标考核」): two 街镇 and one 开发区 each file a plan and an account
of the year, are scored on their own kind's rubric (the zones' xiqing-2020-zone.1 with its
patent-strong industries, the 街镇 the program's xiqing-2020.1), graded with it, and the year's
final results lead to the reward tiers (「考核结果与绩效奖励挂钩」) as outcome.decided events.

The share indicator is scored from the sub-unit's share target (``from_target:
unit_invention_share``, at least 30% a year), not by the assessors (issue 16): each unit's
account reports its share of invention applications for the year under the target's key, the
cycle computes the target's completion and the indicator's score from it (a share of 15% is
half the target: 50 of 100), and the decision record carries the completion, so the total
recomputes from the record alone. An assessor's sheet that scores the share anyway is refused
(``computed_indicator``). The preset's target runs 2016-2020; the test moves its horizon to the
year it runs.

The district reports the year's actuals against the program-level targets (issue 16's target
progress): a yearly floor met and one missed, the district's invention share (a ratio), a soft
yearly average missed and the 15-30 enterprises range (its one range) inside, then corrects the
range to 35, above it (a second report replaces the first); the program year answers each
report, and ends with, the progress of every target (figure, target, completion,
status). The preset's program-level targets run 2016-2020; the test moves
each one's five years (and its baseline) so that they end in the year it runs, as it moves the
share target's horizon."""

from __future__ import annotations

from typing import Any

from nats.aio.client import Client as NatsClient

from shared.contracts import workflow_names as names
from shared.contracts.registry import GetProgram, PinnedRules
from shared.contracts.targets import TargetProgressView
from shared.domain.grading import recompute
from shared.domain.rules import ProgramRules
from shared.domain.stages import Stage
from shared.domain.target_reports import TargetLine
from shared.eventlog import read_events
from shared.events.envelope import YEAR_SOURCE
from shared.events.subjects import event_filter
from shared.rpc import RpcClient
from tests.conftest import Stack
from tests.integration import presets
from tests.integration.kinds_year import run_kinds_year, target_horizon
from tests.integration.test_program_year import finish, graded_records, year_event

PRESET = "tianjin-xiqing-demo-district"
UNITS = {"tj-jz1": "subdistrict", "tj-jz2": "subdistrict", "tj-kf": "development_zone"}
SCORES = {"tj-jz1": 90, "tj-jz2": 40, "tj-kf": 75}
SHARES = {"tj-jz1": 36.0, "tj-jz2": 15.0, "tj-kf": 24.0}  # % of the unit's applications
XIQING = "120111"  # 西青区
TIERS = {  # base: the tier, the final grade and the words of its outcome.decided event
    "tj-jz1": ("A", "excellent", "优秀", "给予一档绩效奖励", "a first-tier performance reward"),
    "tj-kf": ("B", "pass", "合格", "给予二档绩效奖励", "a second-tier performance reward"),
}

# The district's report of the year, then a correction of it: the standard enterprises were
# 35, outside 15-30 (a later report replaces the year's actuals; both are kept).
REPORT = {
    "new_pilot_enterprises": 120,  # at least 100 a year: met
    "demonstration_enterprises": 15,  # at least 20 a year: missed
    "district_invention_share": {"numerator": 3960, "denominator": 12000},  # 33% of >= 30%
    "enforcement_cases": 90,  # a yearly average of at least 100, 力争: missed_soft
    "standard_enterprises": 20,  # 15-30 enterprises: inside
}
CORRECTED = REPORT | {"standard_enterprises": 35}


def program_targets_ending(rules: ProgramRules, year: int) -> ProgramRules:
    """``rules`` with every program-level target's years (and baseline) moved to end in
    ``year``: the preset's 2016-2020 targets measured in the year a dated test runs."""
    document = rules.model_dump(mode="json", by_alias=True)
    for target in (t for t in document["targets"] if t["level"] == "program"):
        shift = year - target["horizon"]
        target.update(start_year=target["start_year"] + shift, horizon=year)
        if target["baseline_year"] is not None:
            target["baseline_year"] += shift
    return ProgramRules.model_validate(document)


def lines(targets: list[TargetLine]) -> dict[str, tuple[Any, ...]]:
    """key -> (figure, target, completion, status) of each target's line."""
    return {
        t.key: (t.progress.figure, t.progress.target, t.progress.completion, t.progress.status)
        for t in targets
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
    # the clock stands at 1 November: the year launched on 1 March is the next one
    year = await presets.this_year(stack) + 1
    rules = target_horizon(presets.preset(PRESET, "tianjin-year"), year, "unit_invention_share")
    rules = program_targets_ending(rules, year)
    accounts = {base: {"patents": 33, "unit_invention_share": s} for base, s in SHARES.items()}
    run = await run_kinds_year(
        stack,
        rules,
        UNITS,
        SCORES,
        region=XIQING,
        name="西青区",
        actuals=accounts,
        program_reports=[REPORT, CORRECTED],
    )
    assert run.year == year
    assert run.result.graded == len(UNITS)

    # The program-level targets: the report answered with the progress it makes.
    first, view = run.reported
    assert (first.revision, view.revision, view.year) == (1, 2, year)
    assert view.actuals["new_pilot_enterprises"] == 120
    assert lines(first.targets)["standard_enterprises"] == (20.0, 15.0, 100.0, "met")
    assert view.years_read == list(range(year - 4, year + 1))
    assert {k: v for k, v in lines(view.targets).items() if k in REPORT} == {
        "new_pilot_enterprises": (120.0, 100.0, 100.0, "met"),
        "demonstration_enterprises": (15.0, 20.0, 75.0, "missed"),  # 15 / 20
        "district_invention_share": (33.0, 30.0, 100.0, "met"),  # 3960 / 12000
        "enforcement_cases": (90.0, 100.0, 90.0, "missed_soft"),  # the one year's mean
        "standard_enterprises": (35.0, 15.0, 85.71, "missed"),  # corrected: above 15-30, 30 / 35
    }
    unreported = [line for line in view.targets if line.key not in REPORT]
    assert len(unreported) == 13  # 18 program-level targets, 5 reported
    assert {(line.progress.figure, line.progress.status) for line in unreported} == {
        (None, "no_data")
    }
    # the year ended answers the same progress, and carries it in its result
    assert run.program_year is not None
    progress = await run.program_year.query(names.TARGET_PROGRESS, result_type=TargetProgressView)
    assert progress == view
    assert run.result.targets == view
    reports = await read_events(
        stack.nc.jetstream(), event_filter(rules.id, year, "_", "targets.reported")
    )
    assert [(e.data["revision"], e.data["actuals"]) for _, e in reports] == [
        (1, first.actuals),
        (2, view.actuals),
    ]

    # Each unit's first assessor tried to score the share too: refused, nothing recorded.
    share_refusal = (
        "computed_indicator",
        [
            "invention_share: computed from the target's completion, not scored by experts"
            " / 发明专利申请量占比：该指标由目标完成情况计算，专家不打分"
        ],
    )
    assert run.refused == dict.fromkeys(UNITS, share_refusal)

    records = {r.base: r for r in await graded_records(stack, rules.id, year)}
    graded = {
        base: (
            r.rubric.version,
            r.target_completion,
            r.averaged["invention_share"],
            r.total,
            r.grade,
            len(r.sheets),
        )
        for base, r in records.items()
    }
    assert graded == {
        # 36% meets the 30% target: 100; the rest 90 -> (90 * 80 + 100 * 20) / 100
        "tj-jz1": ("xiqing-2020.1", {"invention_share": 100.0}, 100.0, 92.0, "excellent", 3),
        # 15% is half of 30%: 50; (40 * 80 + 50 * 20) / 100
        "tj-jz2": ("xiqing-2020.1", {"invention_share": 50.0}, 50.0, 42.0, "fail", 3),
        # a zone: 24 / 30 = 80%, weighted 15; (75 * 85 + 80 * 15) / 100
        "tj-kf": ("xiqing-2020-zone.1", {"invention_share": 80.0}, 80.0, 75.75, "pass", 3),
    }
    assert all("invention_share" not in s.scores for r in records.values() for s in r.sheets)
    assert {base: recompute(r) for base, r in records.items()} == {
        "tj-jz1": (92.0, "excellent"),
        "tj-jz2": (42.0, "fail"),
        "tj-kf": (75.75, "pass"),
    }
    zone = records["tj-kf"]
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
