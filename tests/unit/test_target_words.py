"""Targets and their progress in Chinese and English; a soft miss never reads as a failure."""

from __future__ import annotations

from typing import Any

from shared.domain.target_words import (
    STATUS_WORDS,
    number,
    progress_en,
    progress_zh,
    status_en,
    status_zh,
    target_en,
    target_zh,
)
from shared.domain.targets import TargetRule, TargetStatus, evaluate


def rule(**fields: Any) -> TargetRule:
    base: dict[str, Any] = {"key": "t", "start_year": 2022, "horizon": 2025, "unit": "件"}
    return TargetRule.model_validate({**base, **fields})


PATENTS = rule(
    name_zh="高价值专利数量",
    name_en="High-value patents",
    kind="stock",
    comparison="more_than",
    value=50,
    baseline_year=2021,
    baseline_value=25,
)
INVENTIONS = rule(
    name_zh="新增授权发明专利",
    name_en="New invention patents granted",
    kind="yearly",
    value=30,
    soft=True,
)


def test_every_status_has_words_in_both_languages() -> None:
    statuses: list[TargetStatus] = list(TargetStatus.__args__)  # type: ignore[attr-defined]
    assert sorted(STATUS_WORDS) == sorted(statuses)
    assert status_zh("missed_soft") == "未达预期（力争）"
    assert "not a failure" in status_en("missed_soft")
    assert (status_zh("missed"), status_en("missed")) == ("未完成", "missed")


def test_targets_read_as_the_scheme_states_them() -> None:
    assert target_zh(PATENTS) == "到2025年突破50件"
    assert target_en(PATENTS) == "more than 50 件 by 2025"
    assert target_zh(INVENTIONS) == "每年30件以上（力争）"
    assert target_en(INVENTIONS) == "at least 30 件 a year (to strive for)"
    pledge = rule(
        name_zh="质押融资额度",
        name_en="Pledge financing",
        kind="cumulative",
        value=20000,
        unit="万元",
    )
    assert target_zh(pledge) == "到2025年累计20000万元以上"
    assert target_zh(rule(name_zh="保险", name_en="Insurance", kind="milestone")) == (
        "到2025年实现零突破"
    )
    share = rule(name_zh="发明占比", name_en="Invention share", kind="ratio", value=30)
    assert (target_zh(share), target_en(share)) == ("每年30%以上", "at least 30% each year")


def test_progress_reads_the_figure_the_target_and_the_status() -> None:
    got = evaluate(PATENTS, {2023: 35}, 2023)
    assert (
        progress_zh(PATENTS, got)
        == "高价值专利数量：2023年35件，目标：到2025年突破50件，完成80%，进度滞后"
    )
    assert progress_en(PATENTS, got) == (
        "High-value patents: 35 件 in 2023 (target more than 50 件 by 2025), 80% complete:"
        " behind schedule"
    )
    soft = evaluate(INVENTIONS, {2022: 12}, 2022)
    assert progress_zh(INVENTIONS, soft).endswith("完成40%，未达预期（力争）")
    none = evaluate(INVENTIONS, {}, 2024)
    assert (
        progress_zh(INVENTIONS, none)
        == "新增授权发明专利：2024年未报送实际值（目标：每年30件以上（力争））"
    )
    assert progress_en(INVENTIONS, none).startswith("New invention patents granted: no actual")


def test_numbers_have_no_trailing_zeros() -> None:
    assert [number(v) for v in (30.0, 31.25, 20000.0, 0.5, -0.001)] == [
        "30",
        "31.25",
        "20000",
        "0.5",
        "0",
    ]


def test_a_milestone_reads_reached_or_not() -> None:
    first = rule(name_zh="专利奖", name_en="Patent award", kind="milestone", soft=True)
    assert progress_zh(first, evaluate(first, {2023: True}, 2023)) == (
        "专利奖：2023年已实现，目标：到2025年实现零突破（力争），完成100%，已完成"
    )
    assert progress_en(first, evaluate(first, {2025: False}, 2025)) == (
        "Patent award: not reached in 2025 (target a first by 2025 (to strive for)), 0% complete:"
        " below expectation (a target to strive for, not a failure)"
    )
