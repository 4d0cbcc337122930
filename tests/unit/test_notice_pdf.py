"""The 公示 notice PDF: Chinese text that a reader can extract, every row, the issuer."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from services.gateway.notice_pdf import notice_pdf, publication_text

ROWS = [
    {
        "base": "zz",
        "name": "郑州生物医药基地",
        "region": "410100",
        "domain": "生物医药",
        "total": 88.46,
        "grade": "excellent",
    },
    {
        "base": "ly",
        "name": "洛阳<新材料>&基地",
        "region": "410300",
        "domain": "新材料",
        "total": 52.0,
        "grade": "fail",
    },
]


def test_the_notice_lists_every_base_with_its_grade_in_chinese() -> None:
    pdf = notice_pdf(
        ROWS,
        program_name="专利导航服务基地",
        issuer="河南省知识产权局",
        year=2026,
        publication=publication_text("5WD"),
        published_on=date(2026, 12, 1),
    )
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "关于2026年度专利导航服务基地评估结果的公示" in text
    assert "郑州生物医药基地" in text and "洛阳<新材料>&基地" in text  # escaped, not dropped
    assert "88.5" in text and "优秀" in text and "不合格" in text
    flat = "".join(text.split())  # the notice's sentences wrap across lines
    assert "公示期为5个工作日" in flat and "河南省知识产权局" in flat and "2026年12月1日" in flat
    assert "优秀1家" in flat and "不合格1家" in flat
    assert (
        reader.metadata is not None
        and reader.metadata.title == "专利导航服务基地 2026 年度评估结果公示"
    )


def test_a_long_list_runs_over_pages_with_the_header_repeated() -> None:
    rows = [{**ROWS[0], "base": f"b{n}", "name": f"基地{n:03d}"} for n in range(120)]
    pdf = notice_pdf(
        rows,
        program_name="演示项目",
        issuer="演示局",
        year=2031,
        publication=publication_text("PT10S"),
        published_on=date(2031, 3, 5),
    )
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 1
    assert all("基地名称" in page.extract_text() for page in reader.pages[:-1])
    assert "基地119" in "".join(page.extract_text() for page in reader.pages)


def test_publication_period_wording() -> None:
    assert publication_text("5WD") == "5 个工作日"
    assert publication_text("P7D") == "自发布之日起 P7D"
