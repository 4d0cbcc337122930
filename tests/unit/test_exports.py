"""CSV and XLSX of a 公示 notice: outcome and reason per base, objections, formula-safe cells."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from services.gateway.exports import to_csv, to_xlsx
from shared.contracts.results import ObjectionSummary
from tests.unit.notice_samples import failed, supplementary

NOTICE = supplementary(
    [
        failed(
            "rectified",
            "hh",
            '=HYPERLINK("x")',
            reason_en="Rectification report accepted",
            corrected=True,
        ),
        failed(
            "vetoed",
            "bt",
            "包头稀土基地",
            objections=[
                ObjectionSummary(objection_id="o1", status="upheld", decision_reason="-重新评审")
            ],
        ),
    ],
    provisional=True,
    changes_zh=["=呼和浩特基地整改合格"],
    changes_en=["Hohhot base rectified"],
)


def test_csv_has_outcome_reason_and_objections_per_base() -> None:
    data = to_csv(NOTICE)
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 2
    hh, bt = rows
    assert (hh["结果 Outcome"], hh["处理结果"], hh["理由"]) == (
        "rectified",
        "整改合格",
        "整改报告经审核合格",
    )
    assert hh["更正 Corrected"] == "是 yes" and hh["评估等级"] == "不合格"
    assert hh["基地名称 Name"] == '\'=HYPERLINK("x")'  # never a formula
    assert (bt["处理结果"], bt["Reason"]) == ("一票否决", "Vetoed: false materials")
    assert bt["异议 Objections"] == "成立 Upheld：-重新评审"


def test_xlsx_has_title_period_in_words_table_changes_and_objections() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(NOTICE)))
    sheet = book["公示结果"]
    cells = list(sheet.iter_rows(values_only=True))
    assert "补充公示（第2号）" in cells[0][0]
    assert cells[1][0].startswith("公示期5个工作日，至2027年1月15日24时止（暂定")
    assert "5 working days, until end of 15 January 2027" in cells[1][0]
    header = cells[2]
    table = [dict(zip(header, row, strict=False)) for row in cells[3:5]]
    assert table[0]["处理结果"] == "整改合格" and table[1]["理由"] == "一票否决：提供虚假材料"
    assert table[0]["基地名称 Name"].startswith("'=")
    assert cells[5][:3] == ("变更1 Change 1", "'=呼和浩特基地整改合格", "Hohhot base rectified")
    objections = list(book["异议 Objections"].iter_rows(values_only=True))
    assert objections[1][:6] == ("bt", "包头稀土基地", "o1", None, "成立", "Upheld")
    assert objections[1][6] == "'-重新评审"
