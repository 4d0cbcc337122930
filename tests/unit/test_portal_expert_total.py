"""The total the expert's score form shows as they type (static/expert.js) is the total the
rules compute from that one sheet (shared/domain/grading.py), on both scales, with half-up
rounding at the rubric's decimals: the script is run in Node on the same sheets."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from importlib.resources import files

import pytest

from shared.domain.grading import ScoreSheet, average_scores, total_score
from shared.domain.rules import RubricRules

NODE = shutil.which("node")
SCRIPT = files("services.gateway.portal").joinpath("static", "expert.js").read_text()
pytestmark = pytest.mark.skipif(NODE is None, reason="no node to run the page's script")


def rubric(scale: str, decimals: int) -> RubricRules:
    weights = [30, 15, 30, 20, 5] if scale == "points" else [30, 12.5, 27.5, 20, 10]
    return RubricRules.model_validate(
        {
            "version": "t",
            "scale": scale,
            "total_decimals": decimals,
            "indicators": [
                {"key": f"k{i}", "name": f"指标{i}", "weight": w} for i, w in enumerate(weights)
            ],
        }
    )


def typed_sheets(r: RubricRules, seed: int) -> list[list[str]]:
    """Scores as a person types them: whole, halves, two or three decimals, edges."""
    rng = random.Random(seed)
    maxima = [i.maximum(r.scale) for i in r.indicators]
    sheets = [[f"{m:g}" for m in maxima], ["0"] * len(maxima), ["2.675"] * len(maxima)]
    for _ in range(60):
        sheet = []
        for m in maxima:
            places = rng.choice([0, 1, 2, 3])
            sheet.append(f"{rng.uniform(0, m):.{places}f}")
        sheets.append(sheet)
    return sheets


def node_totals(r: RubricRules, sheets: list[list[str]]) -> list[str]:
    weights = [f"{i.weight:g}" for i in r.indicators]
    program = (
        "globalThis.window = {}; globalThis.document = { getElementById: () => null };\n"
        + SCRIPT
        + f"\nconst sheets = {json.dumps(sheets)};\n"
        + "console.log(JSON.stringify(sheets.map((s) => window.expertScoreTotal("
        + f"s, {json.dumps(weights)}, {json.dumps(r.scale)}, {r.total_decimals}))));"
    )
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", program], capture_output=True, text=True, timeout=30, check=True
    )
    totals: list[str] = json.loads(done.stdout)
    return totals


@pytest.mark.parametrize(("scale", "decimals"), [("percent", 2), ("percent", 1), ("points", 2)])
def test_the_forms_total_is_the_rules_total_of_the_sheet(scale: str, decimals: int) -> None:
    r = rubric(scale, decimals)
    sheets = typed_sheets(r, seed=decimals)
    shown = node_totals(r, sheets)
    for typed, total in zip(sheets, shown, strict=True):
        scores = {i.key: float(v) for i, v in zip(r.indicators, typed, strict=True)}
        expected = total_score(r, average_scores(r, [ScoreSheet(expert="e", scores=scores)]))
        assert float(total) == expected, (typed, total, expected)
        assert total == f"{expected:g}"  # as the sheet on the page shows it
