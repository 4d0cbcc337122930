"""Participant kinds in the program rules, region levels, and verification chains with national
and aggregation steps."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from shared.domain.chains import (
    ChainStep,
    Forwarding,
    aggregation,
    chain_problems,
    forward_by,
    forwarding_levels,
    forwarding_region_problem,
    forwardings,
)
from shared.domain.holidays import HolidayCalendar, load_holiday_table_file
from shared.domain.participants import (
    DEFAULT_KIND,
    UnknownKind,
    kind_chain,
    kind_of,
    kind_rubric,
    kinds,
    participant_rules,
    pinned_rules,
    standing_kind,
)
from shared.domain.regions import (
    is_within,
    parent_region,
    region_at,
    region_level,
    region_parents,
    region_prefix,
)
from shared.domain.rules import RulesError, load_rules_file, parse_rules, rules_digest
from shared.settings import DEPLOY_DIR

PROGRAMS = DEPLOY_DIR / "programs"

ZONE_TARGET = {
    "key": "micro_projects",
    "name_zh": "微观专利导航项目",
    "name_en": "Micro navigation projects",
    "unit": "个",
    "kind": "yearly",
    "value": 5,
    "start_year": 2015,
    "horizon": 2015,
    "level": "participant",
}


def _demo() -> dict[str, Any]:
    return load_rules_file(PROGRAMS / "demo-fast.yaml").model_dump(mode="json", by_alias=True)


def _national(**participants: Any) -> dict[str, Any]:
    return {**_demo(), "region": "000000", "participants": participants}


def _zone(**parts: Any) -> dict[str, Any]:
    return {"name_zh": "实验区", "name_en": "zone", **parts}


def _errors(document: dict[str, Any]) -> str:
    with pytest.raises(RulesError) as info:
        parse_rules(document)
    return str(info.value.errors)


def test_region_levels_from_the_nation_to_a_county() -> None:
    assert [region_level(c) for c in ("000000", "150000", "152200", "152201")] == [
        "national",
        "province",
        "city",
        "county",
    ]
    assert region_parents("152201") == ["152200", "150000", "000000"]
    assert region_parents("150000") == ["000000"]
    assert region_parents("000000") == []
    assert parent_region("410000") == "000000"
    assert region_prefix("000000") == "" and is_within("152201", "000000")
    assert not is_within("410100", "150000")
    assert region_at("152201", "province") == "150000"
    assert region_at("152201", "county") == "152201"
    assert region_at("150000", "city") is None
    with pytest.raises(ValueError, match="six-digit"):
        region_level("15220")


def test_a_program_without_kinds_has_one_with_its_own_rules() -> None:
    rules = load_rules_file(PROGRAMS / "inner-mongolia-nav-base.yaml")
    assert kinds(rules) == [DEFAULT_KIND] == ["base"]
    base = participant_rules(rules)
    assert base.kind == "base"
    assert base.eligibility == rules.eligibility and base.rubric == rules.rubric
    assert [(s.level, s.kind) for s in base.chain] == [("city", "verify"), ("province", "verify")]
    assert participant_rules(rules, "base") == base
    with pytest.raises(UnknownKind) as info:
        participant_rules(rules, "pilot_enterprise")
    assert info.value.code == "unknown_participant_kind"
    assert "无参与单位类型“pilot_enterprise”" in str(info.value)


def test_each_kind_has_its_own_rules_and_falls_back_to_the_programs() -> None:
    document = _national(
        zone={
            "name_zh": "国家专利导航产业发展实验区",
            "name_en": "Patent navigation experimental zone",
            "eligibility": {"min_staff": 3},
            "targets": [ZONE_TARGET],
            "chain": [
                {"level": "province", "kind": "aggregate", "forward_by": "--05-08"},
                "national",
            ],
        },
        enterprise={
            "name_zh": "国家专利运营试点企业",
            "name_en": "Patent operation pilot enterprise",
        },
    )
    document["verification"] = ["province"]
    rules = parse_rules(document)
    assert kinds(rules) == ["zone", "enterprise"]
    assert kind_of(rules, None) == "zone"
    zone = participant_rules(rules, "zone")
    assert zone.eligibility.min_staff == 3 and zone.rubric == rules.rubric
    assert [t.key for t in zone.targets] == ["micro_projects"]
    assert [(s.level, s.kind, s.forward_by) for s in zone.chain] == [
        ("province", "aggregate", "--05-08"),
        ("national", "verify", None),
    ]
    step = aggregation(zone.chain)
    assert step is not None and step.level == "province"
    enterprise = participant_rules(rules, "enterprise")
    assert enterprise.eligibility == rules.eligibility
    assert [(s.level, s.kind) for s in enterprise.chain] == [("province", "verify")]
    assert enterprise.targets == [] and aggregation(enterprise.chain) is None


def test_program_kinds_change_the_digest_and_an_empty_list_does_not() -> None:
    document = _demo()
    plain = rules_digest(parse_rules(document))
    assert rules_digest(parse_rules({**document, "participants": {}})) == plain
    with_kind = {**document, "participants": {"base": {"name_zh": "基地", "name_en": "base"}}}
    assert rules_digest(parse_rules(with_kind)) != plain


def test_a_chain_must_go_up_once_per_level() -> None:
    steps = [ChainStep.model_validate(s) for s in ("province", "city")]
    assert chain_problems(steps, "000000") == [
        "the chain must go up, city before province before national, not province → city"
        " / 核实顺序须自下而上（市级、省级、国家级），现为省级→市级"
    ]
    twice = [ChainStep.model_validate(s) for s in ("city", "city")]
    assert chain_problems(twice, "410000") == [
        "a level may take one step of the chain / 同一层级在核实顺序中只能出现一次"
    ]


def test_an_aggregation_step_forwards_to_a_step_above_it_by_a_date() -> None:
    last = [
        ChainStep(level="city"),
        ChainStep(level="province", kind="aggregate", forward_by="P1M"),
    ]
    assert chain_problems(last, "000000") == [
        "the province aggregation step is last, so nobody receives what it forwards"
        " / 省级汇总报送步骤之后须有接收的上级步骤"
    ]
    with pytest.raises(ValueError, match="省级汇总报送步骤须写明报送期限"):
        ChainStep(level="province", kind="aggregate")
    with pytest.raises(ValueError, match="只有汇总报送步骤有报送期限"):
        ChainStep(level="city", forward_by="--05-08")
    with pytest.raises(ValueError, match="is none of: an ISO-8601 duration"):
        ChainStep(level="province", kind="aggregate", forward_by="5月8日")


def test_a_national_step_needs_a_national_program() -> None:
    errors = _errors(
        {
            **_demo(),
            "participants": {"zone": _zone(chain=["national"])},
        }
    )
    assert (
        "zone: the program is issued at 410000 (province), so it has no national step"
        " / 本项目由410000发布，核实顺序不能有国家级步骤"
    ) in errors


def test_a_kinds_targets_are_its_participants_and_its_indicators_name_them() -> None:
    program_level = {**ZONE_TARGET, "level": "program"}
    errors = _errors(_national(zone=_zone(targets=[program_level])))
    assert (
        "a participant kind's targets are each participant's (level: participant): micro_projects"
        in errors
    )
    rubric = {
        "version": "1",
        "indicators": [{"key": "micro", "name": "微观导航", "weight": 1, "from_target": "nope"}],
    }
    errors = _errors(_national(zone=_zone(targets=[ZONE_TARGET], rubric=rubric)))
    assert "zone: indicators scored from targets it does not have: micro -> nope" in errors
    rubric["indicators"][0]["from_target"] = "micro_projects"  # type: ignore[index]
    rules = parse_rules(_national(zone=_zone(targets=[ZONE_TARGET], rubric=rubric)))
    assert participant_rules(rules, "zone").rubric.keys == ["micro"]


def test_a_kind_key_is_an_identifier() -> None:
    errors = _errors(_national(**{"试点 企业": {"name_zh": "企业", "name_en": "enterprise"}}))
    assert "participant kind keys must be letters, digits, '-' or '_': 试点 企业" in errors


def test_a_cycle_pins_its_kinds_rules_and_a_kindless_programs_unchanged() -> None:
    plain = load_rules_file(PROGRAMS / "inner-mongolia-nav-base.yaml")
    assert pinned_rules(plain) is plain and pinned_rules(plain, "base") is plain
    rules = load_rules_file(PROGRAMS / "cnipa-pilot-2015.yaml")
    zone = pinned_rules(rules, "experimental_zone")
    assert zone.participants == {} and zone.id == rules.id and zone.calendar == rules.calendar
    assert zone.rubric.version == "cnipa-2015-zone.1"
    assert [d.key for d in zone.eligibility.declarations][:2] == [
        "navigation_results",
        "one_plus_n",
    ]
    assert [(t.key, t.level) for t in zone.targets] == [
        ("micro_navigation_projects", "participant")
    ]
    assert zone.verification == ["province"]  # the chain's national step: the program's steps
    enterprise = pinned_rules(rules, "operation_enterprise")
    assert enterprise.rubric == rules.rubric and enterprise.targets == []
    assert pinned_rules(rules) == zone  # no kind named: the first
    document = _national(
        town={"name_zh": "街镇", "name_en": "sub-district", "chain": []},
        park={"name_zh": "园区", "name_en": "park", "chain": ["city", "province"]},
    )
    document["verification"] = ["province"]
    two = parse_rules(document)
    assert pinned_rules(two, "town").verification == []
    assert pinned_rules(two, "park").verification == ["city", "province"]


def test_a_base_whose_kind_the_program_dropped_stands_under_the_first() -> None:
    rules = load_rules_file(PROGRAMS / "cnipa-pilot-2015.yaml")
    assert standing_kind(rules, "trading_centre") == "trading_centre"
    assert standing_kind(rules, "sub_district") == "experimental_zone"
    assert standing_kind(rules, None) == "experimental_zone"
    assert kind_rubric(rules, "sub_district").version == "cnipa-2015-zone.1"
    assert kind_rubric(rules, "trading_centre") == rules.rubric
    plain = load_rules_file(PROGRAMS / "henan-nav-base.yaml")
    assert standing_kind(plain, "trading_centre") == "base"
    assert kind_rubric(plain, None) == plain.rubric


def test_a_province_forwards_its_own_units_plans_by_its_date() -> None:
    rules = load_rules_file(PROGRAMS / "cnipa-pilot-2015.yaml")
    step = participant_rules(rules, "experimental_zone").chain[0]
    units = {"suzhou": "320500", "nanjing": "320100", "shenzhen": "440300", "jiangning": "320115"}
    assert forwardings(step, units) == [
        Forwarding("320000", ("jiangning", "nanjing", "suzhou")),
        Forwarding("440000", ("shenzhen",)),
    ]
    with pytest.raises(ValueError, match="forwards nothing"):
        forwardings(ChainStep(level="national"), units)
    beijing = timezone(timedelta(hours=8))
    calendar = HolidayCalendar(
        load_holiday_table_file(DEPLOY_DIR / "calendars" / "cn-statutory.yaml"),
        package_fallback=False,
    )
    launched = datetime(2026, 4, 24, 9, 0, tzinfo=beijing)
    due = forward_by(step, launched_at=launched, year=2026, tz=beijing, days=calendar)
    # 8 May 2026 is a Friday and a working day: the end of that day, Beijing time
    assert due.until == datetime(2026, 5, 9, 0, 0, tzinfo=beijing)
    assert due.last_day == date(2026, 5, 8) and not due.provisional


def test_a_cycle_is_given_its_kinds_chain_only_when_verification_cannot_say_it() -> None:
    cnipa = load_rules_file(DEPLOY_DIR / "programs" / "cnipa-pilot-2015.yaml")
    chain = kind_chain(cnipa, "trading_centre")
    assert chain == [
        ChainStep(level="province", kind="aggregate", forward_by="--05-08"),
        ChainStep(level="national"),
    ]
    assert kind_chain(cnipa) == chain  # the first kind's, the zones'
    henan = load_rules_file(DEPLOY_DIR / "programs" / "henan-nav-base.yaml")
    assert kind_chain(henan) is None  # no kinds: the rules' verification
    document = cnipa.model_dump(mode="json", by_alias=True)
    document["region"] = "410000"
    for kind in document["participants"]:
        document["participants"][kind]["chain"] = ["city", "province"]
    aggregate = {"level": "city", "kind": "aggregate", "forward_by": "--05-08"}
    document["participants"]["operation_enterprise"]["chain"] = [aggregate, "province"]
    provincial = parse_rules(document)
    assert kind_chain(provincial, "trading_centre") is None  # pinned as verification
    assert kind_chain(provincial, "operation_enterprise") == [
        ChainStep(level="city", kind="aggregate", forward_by="--05-08"),
        ChainStep(level="province"),
    ]
    assert pinned_rules(provincial, "trading_centre").verification == ["city", "province"]


def test_a_region_forwards_at_its_chains_aggregation_level_inside_the_program() -> None:
    cnipa = load_rules_file(DEPLOY_DIR / "programs" / "cnipa-pilot-2015.yaml")
    levels = forwarding_levels([participant_rules(cnipa, k).chain for k in kinds(cnipa)])
    assert levels == {"province"}
    assert forwarding_region_problem("410000", levels, "000000") is None
    assert forwarding_region_problem("410100", levels, "000000") == (
        "410100 is a city region; the program's plans are forwarded at province"
        " / 410100不是本项目汇总报送的层级（省级）"
    )
    assert forwarding_region_problem("420000", {"province"}, "410000") == (
        "420000 lies outside the program's region 410000 / 420000不在本项目范围（410000）内"
    )
    assert forwarding_region_problem("41000", levels, "000000") == (
        "'41000' is not a six-digit region code / 41000不是六位行政区划代码"
    )
    assert forwarding_region_problem("410000", set(), "000000") == (
        "410000 is a province region; the program's plans are forwarded at no level"
        " / 410000不是本项目汇总报送的层级（无汇总报送步骤）"
    )
