"""A year's report of actuals against the program-level targets: each kind's shape, the stable
codes of a key the program has no program-level target for and of a value of the wrong shape."""

from __future__ import annotations

import pytest

from shared.domain.rules import load_rules_file
from shared.domain.target_reports import ReportError, measure, parse_report
from shared.domain.targets import TargetRule
from shared.settings import DEPLOY_DIR

TARGETS = load_rules_file(DEPLOY_DIR / "programs" / "xingan-high-value-patents.yaml").targets
RATIO = TargetRule.model_validate(
    {
        "key": "invention_share",
        "name_zh": "发明专利申请占比",
        "name_en": "Invention share",
        "kind": "ratio",
        "value": 30,
        "start_year": 2022,
        "horizon": 2025,
    }
)


def test_each_kind_takes_its_shape() -> None:
    parsed = parse_report(
        [*TARGETS, RATIO],
        {
            "pledge_financing": 6000,
            "ip_insurance": True,
            "invention_share": {"numerator": 3, "denominator": 10},
        },
    )
    assert parsed == {
        "invention_share": {"numerator": 3.0, "denominator": 10.0},
        "ip_insurance": True,
        "pledge_financing": 6000.0,
    }
    [line] = measure([RATIO], {2022: parsed}, 2022)
    assert (line.progress.figure, line.progress.status, line.status_zh) == (30.0, "met", "已完成")


def test_an_unknown_key_is_refused_before_any_shape() -> None:
    with pytest.raises(ReportError) as info:
        parse_report(TARGETS, {"zz": 1, "aa": 2, "ip_insurance": 3})
    assert (info.value.code, info.value.keys) == ("unknown_target", ["aa", "zz"])
    assert "项目没有这些项目级目标：aa, zz" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "keys"),
    [
        ({"ip_insurance": 1}, ["ip_insurance"]),
        ({"pledge_financing": True}, ["pledge_financing"]),
        ({"pledge_financing": "6000"}, ["pledge_financing"]),
        (
            {"pledge_financing": -1, "high_value_patents": float("nan")},
            ["high_value_patents", "pledge_financing"],
        ),
        ({"invention_share": {"numerator": 1}}, ["invention_share"]),
        ({"invention_share": 0.3}, ["invention_share"]),
    ],
)
def test_a_value_of_the_wrong_shape_is_refused(raw: dict[str, object], keys: list[str]) -> None:
    with pytest.raises(ReportError) as info:
        parse_report([*TARGETS, RATIO], raw)
    assert (info.value.code, info.value.keys) == ("invalid_actual", keys)
    assert "实际值格式不符" in str(info.value) and "actuals of the wrong shape" in str(info.value)
