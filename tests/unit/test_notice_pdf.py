"""The 公示 notice PDF: its font embedded, Chinese text a reader can extract, every base with its
outcome and reason, the objections, dates and the period in words."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime

from pypdf import PdfReader

from services.gateway.notice_pdf import notice_pdf
from shared.contracts.results import ObjectionSummary, ResultEntry, ResultsNotice
from tests.unit.notice_samples import failed


def _notice(**changes: object) -> ResultsNotice:
    entries = [
        ResultEntry(
            base="zz",
            name="郑州生物医药基地",
            region="410100",
            domain="生物医药",
            total=88.46,
            grade="excellent",
            rank_reason_zh="位列前15%",
        ),
        failed(
            "vetoed",
            "ly",
            "洛阳<新材料>&基地",
            region="410300",
            domain="新材料",
            objections=[
                ObjectionSummary(
                    objection_id="o1",
                    status="dismissed",
                    received_at=datetime(2026, 12, 2, 3, tzinfo=UTC),
                    decision_reason="材料经核实确属虚假",
                )
            ],
        ),
        failed("rectified", "kf", "开封农业基地", region="410200"),
    ]
    base = {
        "program": "henan",
        "year": 2026,
        "program_name": "专利导航服务基地",
        "issuer": "河南省知识产权局",
        "published_at": datetime(2026, 12, 1, 2, tzinfo=UTC),
        "publication_until": datetime(2026, 12, 8, tzinfo=UTC),
        "publication_last_day": date(2026, 12, 7),
        "publication_period": "5WD",
        "entries": entries,
    }
    return ResultsNotice.model_validate({**base, **changes})


def _text(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "".join(page.extract_text() for page in reader.pages)


def _fonts(reader: PdfReader) -> list[dict]:
    found = []
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        for ref in resources["/Font"].get_object().values():
            font = ref.get_object()
            for desc in font.get("/DescendantFonts", [font]):
                d = desc.get_object()
                if "/FontDescriptor" in d:
                    found.append(d["/FontDescriptor"].get_object())
    return found


def test_the_chinese_font_is_embedded() -> None:
    reader, _ = _text(notice_pdf(_notice()))
    descriptors = _fonts(reader)
    assert descriptors, "no font descriptor: the font is only named, not embedded"
    assert all("/FontFile2" in d for d in descriptors)
    assert not any("STSong" in str(d.get("/FontName")) for d in descriptors)


def test_the_notice_lists_every_base_with_grade_outcome_and_reason() -> None:
    reader, text = _text(notice_pdf(_notice()))
    flat = "".join(text.split())  # sentences and cells wrap across lines
    assert "关于2026年度专利导航服务基地评估结果的公示（第1号）" in flat
    assert "郑州生物医药基地" in flat and "洛阳<新材料>&基地" in flat  # escaped, not dropped
    assert "88.5" in flat and "优秀" in flat and "不合格" in flat
    assert "一票否决" in flat and "提供虚假材料" in flat
    assert "整改合格" in flat and "整改报告经审核合格" in flat
    assert "公示期为5个工作日，至2026年12月7日24时止" in flat
    assert "河南省知识产权局" in flat and "2026年12月1日" in flat
    assert "优秀1家" in flat and "不合格2家" in flat
    assert "异议及处理情况" in flat and "2026年12月2日收到异议" in flat and "不成立" in flat
    assert not re.search(r"\d{4}-\d{2}-\d{2}|PT?\d+[DSMW]|\dWD", text), text
    assert reader.metadata is not None
    assert reader.metadata.title == "关于2026年度专利导航服务基地评估结果的公示（第1号）"


def test_a_supplementary_notice_says_what_it_changes_and_a_provisional_end() -> None:
    notice = _notice(
        kind="supplementary",
        number=2,
        provisional=True,
        changes_zh=["开封农业基地整改合格"],
    )
    _, text = _text(notice_pdf(notice))
    flat = "".join(text.split())
    assert "评估结果的补充公示（第2号）" in flat
    assert "本次补充公示变更内容" in flat and "开封农业基地整改合格" in flat
    assert "暂定，待节假日安排公布后确定" in flat


def test_sub_day_periods_are_in_seconds_not_iso() -> None:
    notice = _notice(
        publication_period="PT10S",
        publication_until=datetime(2031, 3, 5, 6, 20, 10, tzinfo=UTC),
        publication_last_day=None,
        entries=[],
    )
    _, text = _text(notice_pdf(notice))
    flat = "".join(text.split())
    assert "公示期为10秒，至2031年3月5日14时20分10秒止" in flat
    assert "PT10S" not in flat and "未收到异议" in flat


def test_a_long_list_runs_over_pages_with_the_header_repeated() -> None:
    one = _notice().entries[0]
    rows = [one.model_copy(update={"base": f"b{n}", "name": f"基地{n:03d}"}) for n in range(120)]
    reader, text = _text(notice_pdf(_notice(entries=rows)))
    assert len(reader.pages) > 1
    assert all("基地名称" in page.extract_text() for page in reader.pages[:-1])
    assert "基地119" in text
