"""The public 公示 page: outcome and reason per base, objections, period in words, notice links."""

from __future__ import annotations

import re

from services.gateway.routes.pages import render_results
from shared.contracts.results import ObjectionSummary
from tests.unit.notice_samples import failed, supplementary

NOTICE = supplementary(
    [
        failed(
            "vetoed",
            "bt",
            "包头<稀土>基地",
            corrected=True,
            objections=[
                ObjectionSummary(objection_id="o1", status="upheld", decision_reason="属实")
            ],
        )
    ],
    program_name_en="Patent navigation bases",
    changes_zh=["包头<稀土>基地更正为不合格"],
    changes_en=["Baotou base corrected to Fail"],
)


def test_chinese_page_shows_outcome_reason_objection_and_changes() -> None:
    page = render_results(NOTICE, [1, 2], "zh")
    assert "评估结果补充公示（第2号）" in page
    assert "data-outcome='vetoed'>一票否决<" in page and "一票否决：提供虚假材料" in page
    assert "包头&lt;稀土&gt;基地（更正）" in page
    assert "data-status='upheld'" in page and "成立" in page and "属实" in page
    assert "公示期为5个工作日，至2027年1月15日24时止。" in page
    assert "notice=1'>1</a>" in page and "<b>2</b>" in page
    assert "format=pdf&amp;notice=2" in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}|5WD", page)


def test_english_page() -> None:
    page = render_results(NOTICE, [1, 2], "en")
    assert 'lang="en"' in page and "supplementary notice no. 2" in page
    assert ">Vetoed<" in page and "Vetoed: false materials" in page
    assert "5 working days, until end of 15 January 2027" in page
    assert "Baotou base corrected to Fail" in page and "Upheld" in page
