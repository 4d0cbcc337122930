"""The 公示 notice as a PDF: a heading, the notice text and the results table, in Chinese.

reportlab's built-in CID font (STSong-Light) renders Chinese without shipping a font file.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

GRADE_ZH = {"excellent": "优秀", "pass": "合格", "fail": "不合格"}
HEADERS = ["序号", "基地名称", "地区", "领域", "总分", "等级"]


def _style(size: float, *, leading: float | None = None, align: int = 0) -> ParagraphStyle:
    return ParagraphStyle(
        f"s{size}{align}",
        fontName=FONT,
        fontSize=size,
        leading=leading or size * 1.5,
        alignment=align,
    )


def notice_pdf(
    rows: list[dict[str, Any]],
    *,
    program_name: str,
    issuer: str,
    year: int,
    publication: str,
    published_on: date,
) -> bytes:
    """``rows``: base, name, region, domain, total, grade — the published results."""
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=f"{program_name} {year} 年度评估结果公示",
        author=issuer,
    )
    cell = _style(9, leading=12)
    table_rows: list[list[Any]] = [[Paragraph(h, cell) for h in HEADERS]]
    for n, row in enumerate(rows, 1):
        total = row.get("total")
        table_rows.append(
            [
                str(n),
                Paragraph(escape(str(row.get("name") or row.get("base") or "")), cell),
                escape(str(row.get("region") or "")),
                Paragraph(escape(str(row.get("domain") or "")), cell),
                "" if total is None else f"{float(total):.1f}",
                Paragraph(GRADE_ZH.get(str(row.get("grade")), str(row.get("grade") or "—")), cell),
            ]
        )
    table = Table(
        table_rows,
        colWidths=[12 * mm, 58 * mm, 20 * mm, 36 * mm, 16 * mm, 18 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 9),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    counts = {g: sum(1 for r in rows if r.get("grade") == g) for g in GRADE_ZH}
    summary = "，".join(f"{GRADE_ZH[g]} {n} 家" for g, n in counts.items())
    story = [
        Paragraph(
            escape(f"关于{year}年度{program_name}评估结果的公示"),
            _style(16, align=1),
        ),
        Spacer(1, 6 * mm),
        Paragraph(
            escape(
                f"根据年度评估工作安排，经基地自评、专家评审，现将{year}年度评估结果予以公示"
                f"（共 {len(rows)} 家：{summary}）。公示期为{publication}。"
                "公示期内如有异议，请以书面形式向发布单位反映。"
            ),
            _style(11),
        ),
        Spacer(1, 5 * mm),
        table,
        Spacer(1, 8 * mm),
        Paragraph(escape(issuer), _style(11, align=2)),
        Paragraph(
            published_on.strftime("%Y年%m月%d日").replace("年0", "年").replace("月0", "月"),
            _style(11, align=2),
        ),
    ]
    doc.build(story)
    return out.getvalue()


def publication_text(spec: str) -> str:
    """The 公示 period as a notice states it: ``5WD`` is 5 working days from publication."""
    if spec.endswith("WD") and spec[:-2].isdigit():
        return f"{int(spec[:-2])} 个工作日"
    return f"自发布之日起 {spec}"
