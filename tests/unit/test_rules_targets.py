"""Program rules carry targets; an indicator may be scored from one; rules without targets keep
their digest, so existing presets and stored versions are unaffected."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.domain.rules import RulesError, load_rules_file, parse_rules, rules_digest
from shared.settings import DEPLOY_DIR

PROGRAMS = DEPLOY_DIR / "programs"
TARGET = {
    "key": "new_invention_patents",
    "name_zh": "新增授权发明专利",
    "name_en": "New invention patents granted",
    "unit": "件",
    "kind": "yearly",
    "value": 30,
    "soft": True,
    "start_year": 2022,
    "horizon": 2025,
}


def _demo() -> dict[str, Any]:
    return yaml.safe_load((PROGRAMS / "demo-fast.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _errors(document: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(RulesError) as info:
        parse_rules(document)
    return {e["field"]: e["message"] for e in info.value.errors}


def test_an_indicator_is_scored_from_a_target_the_program_has() -> None:
    document = _demo()
    document["targets"] = [TARGET]
    document["rubric"]["indicators"][4]["from_target"] = "new_invention_patents"
    rules = parse_rules(document)
    link = rules.rubric.indicators[4].from_target
    assert link is not None
    assert (link.key, link.zero_at, link.full_at) == ("new_invention_patents", 0, 100)
    assert rules.targets[0].soft and rules.targets[0].kind == "yearly"


def test_an_indicator_scored_from_an_unknown_target_is_refused() -> None:
    document = _demo()
    document["rubric"]["indicators"][4]["from_target"] = {"key": "nowhere", "zero_at": 50}
    errors = _errors(document)
    assert "reporting -> nowhere" in errors["(document)"], errors


def test_repeated_target_keys_are_refused() -> None:
    document = _demo()
    document["targets"] = [TARGET, TARGET]
    assert "new_invention_patents" in _errors(document)["targets"]


def test_a_bad_target_names_its_field() -> None:
    document = _demo()
    document["targets"] = [{**TARGET, "kind": "weekly"}]
    assert "targets.0.kind" in _errors(document)


def _digest_before_targets(path: Path) -> str:
    """The digest as computed before targets existed: the dump without the new fields (targets,
    from_target, participants, span)."""
    document = load_rules_file(path).model_dump(mode="json", by_alias=True)
    del document["targets"]
    assert document.pop("participants") == {}
    assert document.pop("span") is None  # multi-year programs (shared/domain/program_span)
    for indicator in document["rubric"]["indicators"]:
        assert indicator.pop("from_target") is None
    for rule in ("tiers", "promotion", "exit"):  # the outcome rules (shared/domain/outcome_rules)
        assert document["outcomes"].pop(rule) in ([], None)
    canonical = json.dumps(document, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@pytest.mark.parametrize(
    "name", ["demo-fast", "henan-nav-base", "inner-mongolia-nav-base"], ids=str
)
def test_rules_without_targets_keep_their_digest(name: str) -> None:
    path = PROGRAMS / f"{name}.yaml"
    rules = load_rules_file(path)
    assert rules.targets == []
    assert rules_digest(rules) == _digest_before_targets(path)


def test_targets_change_the_digest() -> None:
    document = _demo()
    plain = rules_digest(parse_rules(document))
    document["targets"] = [TARGET]
    assert rules_digest(parse_rules(document)) != plain
