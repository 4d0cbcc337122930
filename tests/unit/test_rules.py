"""Program rules: the documented shape loads, presets load, and each bad field is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.domain.rules import RulesError, load_rules_file, load_rules_text, rules_digest
from shared.settings import DEPLOY_DIR

DEMO = (DEPLOY_DIR / "programs" / "demo-fast.yaml").read_text()


@pytest.mark.parametrize(
    "path", sorted((DEPLOY_DIR / "programs").glob("*.yaml")), ids=lambda p: p.stem
)
def test_presets_load(path: Path) -> None:
    rules = load_rules_file(path)
    assert rules.id == path.stem
    assert sum(i.weight for i in rules.rubric.indicators) == 100


def test_inner_mongolia_preset_follows_the_scheme() -> None:
    rules = load_rules_file(DEPLOY_DIR / "programs" / "inner-mongolia-nav-base.yaml")
    assert rules.calendar.self_evaluation_due == "--11-30"
    assert (rules.eligibility.min_staff, rules.eligibility.min_senior_full_time) == (8, 3)
    assert rules.eligibility.one_base_per_domain and rules.eligibility.require_pct_minimum_data
    assert [i.name for i in rules.rubric.indicators] == [
        "导航报告质量",
        "数据库建设水平",
        "导航成果运用成效",
        "建设主体条件保障",
    ]


def test_henan_preset_files_the_plan_within_a_month_and_runs_a_year() -> None:
    rules = load_rules_file(DEPLOY_DIR / "programs" / "henan-nav-base.yaml")
    assert rules.calendar.plan_window == "P1M" and rules.calendar.self_evaluation_due == "P1Y"
    assert len(rules.rubric.indicators) == 9


def _errors(text: str) -> dict[str, str]:
    with pytest.raises(RulesError) as info:
        load_rules_text(text)
    return {e["field"]: e["message"] for e in info.value.errors}


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("plan_window: PT20S", "plan_window: PT", "calendar.plan_window"),
        ('launch: "--03-01"', 'launch: "--13-01"', "calendar.launch"),
        ("reminders: [PT5S]", "reminders: [soon]", "calendar.reminders.0"),
        ('region: "410000"', 'region: "41"', "region"),
        ("id: demo-fast", "id: demo.fast", "id"),
        ("weight: 30}", "weight: -1}", "rubric.indicators.0.weight"),
        ("grades: {excellent: 85, pass: 60}", "grades: {excellent: 50, pass: 60}", "rubric.grades"),
        (
            "grades: {excellent: 85, pass: 60}",
            'grades: {excellent: "best 10%", pass: 60}',
            "rubric.grades.excellent",
        ),
        ("plan_overdue: fail", "plan_overdue: ignore", "outcomes.plan_overdue"),
        ("verification: [city, province]", "verification: [city, county]", "verification.1"),
        ("experts_required: 1", "experts_required: 0", "rubric.experts_required"),
        ("issuer: 演示局", "issuer: 演示局\ncolour: red", "colour"),
    ],
)
def test_each_bad_field_is_named(old: str, new: str, field: str) -> None:
    assert old in DEMO
    errors = _errors(DEMO.replace(old, new))
    assert field in errors, errors


def test_repeated_indicator_keys_are_refused() -> None:
    errors = _errors(DEMO.replace("key: database", "key: report_quality"))
    assert "report_quality" in errors["rubric.indicators"]


def test_not_a_mapping_and_not_yaml() -> None:
    assert "(document)" in _errors("- a\n- b\n")
    assert "(document)" in _errors("id: [unclosed")


def test_relative_excellent_is_accepted() -> None:
    rules = load_rules_text(DEMO.replace("excellent: 85,", 'excellent: "top 15%",'))
    assert rules.rubric.grades.relative_top_percent == 15


def test_digest_changes_only_with_content() -> None:
    a, b = load_rules_text(DEMO), load_rules_text(DEMO + "\n# a comment\n")
    assert rules_digest(a) == rules_digest(b)
    assert rules_digest(a) != rules_digest(load_rules_text(DEMO.replace("PT20S", "PT30S", 1)))
