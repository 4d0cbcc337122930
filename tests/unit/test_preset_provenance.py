"""Every value of the Henan, Inner Mongolia, Xing'an, CNIPA 2015 and Tianjin Xiqing presets is
traced to its seed clause or marked as the bureau's choice; quoted clauses occur verbatim in the
seed; the README table lists them all."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from shared.domain.participants import participant_rules
from shared.domain.provenance import leaf_paths, normalise, quotes, seeds_named, unquoted
from shared.domain.rules import ProgramRules, RulesError, load_rules_file, parse_rules
from shared.settings import DEPLOY_DIR

PROGRAMS = DEPLOY_DIR / "programs"
SEEDS = {p.name[:3]: p.read_text(encoding="utf-8") for p in (PROGRAMS / "seeds").glob("*.txt")}
PRESETS = {
    "henan-nav-base": "004",
    "inner-mongolia-nav-base": "000",
    "xingan-high-value-patents": "001",
    "cnipa-pilot-2015": "002",
    "tianjin-xiqing-demo-district": "003",
}
README = (PROGRAMS / "README.md").read_text(encoding="utf-8")


def _document(program: str) -> dict[str, Any]:
    return yaml.safe_load((PROGRAMS / f"{program}.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _missing(document: dict[str, Any]) -> list[str]:
    provenance = document.get("provenance") or {}
    return [p for p in leaf_paths(document) if p not in provenance]


@pytest.mark.parametrize("program", sorted(PRESETS))
def test_every_value_written_has_its_provenance(program: str) -> None:
    document = _document(program)
    assert _missing(document) == []
    stale = sorted(set(document["provenance"]) - set(leaf_paths(document)))
    assert stale == [], f"provenance for values the preset does not write: {stale}"


@pytest.mark.parametrize("program", sorted(PRESETS))
def test_every_quoted_clause_occurs_verbatim_in_the_seed_it_names(program: str) -> None:
    provenance = _document(program)["provenance"]
    for path, entry in provenance.items():
        if entry.startswith("seed "):
            assert quotes(entry), f"{path}: a seed entry quotes its clause"
            assert seeds_named(entry)[0] == PRESETS[program], f"{path} names another seed first"
        if quotes(entry):
            assert seeds_named(entry), f"{path} quotes without naming its seed"
        assert unquoted(entry, SEEDS) == [], f"{path}: not verbatim in the seed"


@pytest.mark.parametrize("program", sorted(PRESETS))
def test_the_programs_clauses_are_its_own_seeds_words(program: str) -> None:
    rules = load_rules_file(PROGRAMS / f"{program}.yaml")
    seed = normalise(SEEDS[PRESETS[program]])
    for name, text in rules.clauses.model_dump().items():
        assert normalise(text) in seed, f"{name} is not a clause of seed {PRESETS[program]}"
    said = [t for t in rules.clauses.model_dump().values() if len(t) > 12]
    for other in sorted(set(PRESETS.values()) - {PRESETS[program]}):
        assert not [t for t in said if normalise(t) in normalise(SEEDS[other])], other
    kind_targets = [t for kind in rules.participants.values() for t in kind.targets]
    for target in rules.targets + kind_targets:
        assert normalise(target.clause) in seed, f"target {target.key}: not the seed's words"


def test_a_value_without_provenance_is_found() -> None:
    document = _document("henan-nav-base")
    document["calendar"]["review_window"] = "P2M"
    del document["provenance"]["calendar.review_window"]
    assert _missing(document) == ["calendar.review_window"]
    document["rubric"]["indicators"].append({"key": "extra", "name": "额外", "weight": 1})
    assert "rubric.indicators.extra" in _missing(document)


def test_a_clause_not_in_the_seed_is_found() -> None:
    assert unquoted("seed 004: 「在通知下发2个月内」", SEEDS) == ["在通知下发2个月内"]
    assert unquoted("seed 004: 「在通知下发1个\n月内」", SEEDS) == []  # whitespace ignored
    assert unquoted("seed 000: 「在通知下发1个月内」", SEEDS) == ["在通知下发1个月内"]


def test_a_provenance_entry_must_say_seed_or_chosen() -> None:
    document = _document("henan-nav-base")
    document["provenance"]["calendar.launch"] = "because"
    with pytest.raises(RulesError) as info:
        parse_rules(document)
    assert "calendar.launch" in str(info.value)


@pytest.mark.parametrize("program", sorted(PRESETS))
def test_the_readme_table_lists_every_provenance_entry(program: str) -> None:
    section = README.split(f"<!-- table: {program} -->")[1].split("<!-- end -->")[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    provenance = _document(program)["provenance"]
    assert sorted(rows) == sorted(provenance)
    for path, entry in provenance.items():
        source = rows[path][2]
        kind = "chosen" if entry.startswith("chosen:") else f"seed {PRESETS[program]}"
        assert source.startswith(kind), (path, source)
        for q in quotes(entry):
            assert q in rows[path][2] or q in rows[path][3], (path, q)


def test_henan_files_its_plan_for_the_record_and_designates_provincial_bases() -> None:
    rules = load_rules_file(PROGRAMS / "henan-nav-base.yaml")
    assert rules.verification == []
    assert rules.calendar.rectification_rounds == 0
    assert rules.rubric.vetoes == []
    assert rules.designation is not None
    assert rules.designation.plan_window == "P1M"
    assert rules.designation.grades == ["excellent", "pass"]
    assert rules.clauses.delisting == "" and rules.clauses.rectification == ""
    assert rules.outcomes.reapplication_ban is None


def test_inner_mongolia_keeps_its_regime() -> None:
    rules = load_rules_file(PROGRAMS / "inner-mongolia-nav-base.yaml")
    assert rules.verification == ["city", "province"]
    assert rules.calendar.rectification_rounds == 1
    assert rules.designation is None
    assert "摘牌退出" in rules.clauses.delisting and "限期整改" in rules.clauses.rectification
    assert [d.key for d in rules.eligibility.declarations] == [
        "experience",
        "industry_base",
        "resources",
    ]


@pytest.mark.parametrize("program", sorted(PRESETS))
def test_no_preset_has_vetoes_its_seed_lacks(program: str) -> None:
    rules = load_rules_file(PROGRAMS / f"{program}.yaml")
    assert not {"false_materials", "serious_dishonesty"} & set(rules.rubric.vetoes)
    assert not rules.simulation


def test_an_empty_verification_chain_validates() -> None:
    document = _document("inner-mongolia-nav-base")
    document["verification"] = []
    assert ProgramRules.model_validate(document).verification == []


def test_xingan_has_every_numeric_target_of_its_seed_with_its_kind_and_units() -> None:
    rules = load_rules_file(PROGRAMS / "xingan-high-value-patents.yaml")
    targets = {t.key: t for t in rules.targets}
    assert len(targets) == 13
    patents = targets["high_value_patents"]
    assert (patents.kind, patents.comparison, patents.value) == ("stock", "more_than", 50)
    assert (patents.baseline_year, patents.baseline_value, patents.horizon) == (2021, 25, 2025)
    pledge = targets["pledge_financing"]
    assert (pledge.kind, pledge.value, pledge.unit, pledge.lead_unit) == (
        "cumulative",
        20000,
        "万元",
        "盟金融办",
    )
    assert sorted(k for k, t in targets.items() if t.soft) == [
        "new_invention_patents",
        "patent_agency",
    ]
    assert sorted(k for k, t in targets.items() if t.kind == "milestone") == [
        "ip_insurance",
        "patent_agency",
        "patent_award",
    ]
    assert {t.level for t in rules.targets} == {"program"}
    assert targets["mediation_cases"].lead_unit == "盟中级人民法院"
    assert all(t.start_year == 2022 and t.horizon == 2025 for t in rules.targets)
    assert rules.region == "152200" and rules.verification == []


def test_cnipa_has_four_kinds_of_pilot_unit_forwarded_by_the_provinces() -> None:
    rules = load_rules_file(PROGRAMS / "cnipa-pilot-2015.yaml")
    assert rules.region == "000000"
    assert {k: v.name_zh for k, v in rules.participants.items()} == {
        "experimental_zone": "国家专利导航产业发展实验区",
        "collaborative_pilot": "国家专利协同运用试点单位",
        "operation_enterprise": "国家专利运营试点企业",
        "trading_centre": "国家专利技术展示交易中心",
    }
    for key in rules.participants:
        chain = participant_rules(rules, key).chain
        assert [(s.level, s.kind, s.forward_by) for s in chain] == [
            ("province", "aggregate", "--05-08"),
            ("national", "verify", None),
        ]
    zone = participant_rules(rules, "experimental_zone")
    (micro,) = zone.targets
    assert (micro.kind, micro.comparison, micro.value, micro.level) == (
        "yearly",
        "at_least",
        5,
        "participant",
    )
    assert "one_plus_n" in {d.key for d in zone.eligibility.declarations}
    scored = [i for i in zone.rubric.indicators if i.from_target is not None]
    assert [(i.key, i.from_target.key) for i in scored if i.from_target] == [
        ("navigation_projects", "micro_navigation_projects")
    ]
    enterprise = participant_rules(rules, "operation_enterprise")
    assert enterprise.rubric == rules.rubric and enterprise.targets == []
    assert [d.key for d in enterprise.eligibility.declarations] == [
        "specialisation",
        "operation_alliance",
        "talent",
    ]
    assert rules.clauses.delisting == "建立试点退出机制"
    assert rules.calendar.rectification_rounds == 1


def test_tianjin_targets_have_the_seeds_kinds_and_its_sub_units_their_share() -> None:
    rules = load_rules_file(PROGRAMS / "tianjin-xiqing-demo-district.yaml")
    targets = {t.key: t for t in rules.targets}
    assert len(targets) == 19
    kinds = {k: (t.kind, t.comparison, t.value, t.upper, t.soft) for k, t in targets.items()}
    assert kinds["new_pilot_enterprises"] == ("yearly", "at_least", 100, None, False)
    assert kinds["pledge_financing"] == ("yearly", "at_least", 5000, None, False)
    assert kinds["district_invention_share"] == ("ratio", "at_least", 30, None, False)
    assert kinds["standard_enterprises"] == ("range", "at_least", 15, 30, False)
    assert kinds["patent_applications"] == ("yearly_average", "more_than", 10000, None, False)
    assert kinds["enforcement_cases"] == ("yearly_average", "at_least", 100, None, True)
    enforcers = targets["licensed_enforcers"]
    assert (enforcers.kind, enforcers.baseline_year, enforcers.baseline_value) == ("stock", 2015, 7)
    assert sorted(k for k, t in targets.items() if t.level == "participant") == [
        "unit_invention_share"
    ]
    assert {k: v.name_zh for k, v in rules.participants.items()} == {
        "subdistrict": "街镇",
        "development_zone": "开发区",
    }
    for kind, version in [
        ("subdistrict", "xiqing-2020.1"),
        ("development_zone", "xiqing-2020-zone.1"),
    ]:
        own = participant_rules(rules, kind)
        assert own.rubric.version == version
        assert [t.key for t in own.targets] == ["unit_invention_share"]
        scored = [(i.key, i.from_target.key) for i in own.rubric.indicators if i.from_target]
        assert scored == [("invention_share", "unit_invention_share")]
        assert own.chain == []
    assert [(t.key, t.grade, t.words_zh) for t in rules.outcomes.tiers] == [
        ("A", "excellent", "给予一档绩效奖励"),
        ("B", "pass", "给予二档绩效奖励"),
    ]
    assert rules.outcomes.exit is None and rules.calendar.rectification_rounds == 0
    assert rules.region == "120111" and rules.verification == []
