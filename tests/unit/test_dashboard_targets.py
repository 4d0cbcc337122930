"""The dashboard page's program targets table (issue 16): the year view's targets progress, one row
per target in Chinese or English, and no table for a year without targets. The page's own
words and ``renderTargets``, run in node on a page of just the elements it writes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

PAGE = Path(__file__).resolve().parents[2] / "services" / "gateway" / "pages" / "dashboard.html"
NODE = shutil.which("node")

HARNESS = """
const [code, lang0, view] = process.argv.slice(1);
const nodes = {};
function make(tag) {
  return { tag, textContent: "", hidden: false, attrs: {}, children: [],
    setAttribute(k, v) { this.attrs[k] = v; }, append(...c) { this.children.push(...c); },
    replaceChildren(...c) { this.children = c; } };
}
const document = { createElement: make, getElementById: (id) => (nodes[id] ||= make("div")) };
nodes["targets-section"] = make("section");
nodes["targets-section"].hidden = true;
let lang = lang0;
let lastTargets = null;
eval(code);
renderTargets(JSON.parse(view));
const rows = (nodes.targets?.children || []).map((tr) => tr.children.map((td) => td.textContent));
console.log(JSON.stringify({ hidden: nodes["targets-section"].hidden,
  note: nodes["targets-note"]?.textContent ?? "", rows }));
"""


def _code() -> str:
    script = PAGE.read_text("utf-8")
    text = re.search(r"^const TEXT = \{.*?^\};$", script, re.S | re.M)
    helpers = re.search(r"^const \$ = .*?^};$", script, re.S | re.M)
    render = re.search(r"^function renderTargets\(view\) \{.*?^\}$", script, re.S | re.M)
    assert text and helpers and render
    return "\n".join(m.group(0) for m in (text, helpers, render))


def _run(lang: str, view: Any) -> dict[str, Any]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", HARNESS, _code(), lang, json.dumps(view)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def _line(key: str, status: str, words: tuple[str, str], **progress: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name_zh": "新增发明专利",
        "name_en": "New invention patents",
        "unit": "件",
        "target_zh": "每年30件以上（力争）",
        "target_en": "30 or more a year (best efforts)",
        "status_zh": words[0],
        "status_en": words[1],
        "progress": {"status": status, **progress},
    }


VIEW = {
    "year": 2024,
    "revision": 2,
    "actuals": {"new_invention_patents": 28},
    "years_read": [2023, 2024],
    "evaluation": "mid_term",
    "targets": [
        _line(
            "new_invention_patents",
            "missed_soft",
            ("未达预期（力争）", "below expectations (best efforts)"),
            figure=28.0,
            target=30.0,
            completion=93.33,
        )
    ],
}


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_each_target_reads_its_figure_target_completion_and_status_in_both_languages() -> None:
    zh = _run("zh", VIEW)
    assert zh == {
        "hidden": False,
        "note": "第2次报送，计入2023、2024年 · 中期评估",
        "rows": [
            ["新增发明专利", "28 件", "30", "每年30件以上（力争）", "93.33%", "未达预期（力争）"]
        ],
    }
    en = _run("en", VIEW)
    assert en["note"] == "report 2, years read 2023, 2024 · mid-term evaluation"
    assert en["rows"] == [
        [
            "New invention patents",
            "28 件",
            "30",
            "30 or more a year (best efforts)",
            "93.33%",
            "below expectations (best efforts)",
        ]
    ]


@pytest.mark.skipif(NODE is None, reason="node is not installed")
@pytest.mark.parametrize("view", [None, {**VIEW, "targets": []}])
def test_a_year_without_targets_shows_no_table(view: Any) -> None:
    assert _run("zh", view)["hidden"] is True
