"""The 公示 notice as a PDF: heading, notice text, the results table with each base's outcome and
reason, the objections and their outcomes, and what a supplementary notice (补充公示) changes.

The Chinese font is embedded (a TrueType subset), so the notice renders on a machine without it:
reportlab's built-in CID font (STSong-Light) is only named in the file, never embedded. The font
is WenQuanYi Micro Hei, shipped on PyPI by ``paperang-p2-fonts-cjk`` (Apache-2.0 / GPL with the
font exception: free to embed and redistribute), or Debian's ``fonts-wqy-microhei``; the
``NAVCYCLE_PDF_FONT`` environment variable names any other TrueType/TTC file.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, date, datetime
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shared.contracts.results import (
    GRADE_ZH,
    OBJECTION_STATUS_ZH,
    ResultEntry,
    ResultsNotice,
)
from shared.domain.wording import PROVISIONAL_ZH, date_zh, end_zh, period_zh, zone

FONT = "NavcycleCJK"
_SYSTEM_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
HEADERS = ["序号", "基地名称 / 领域", "地区", "总分", "等级", "处理结果", "理由"]


class FontMissing(RuntimeError):
    pass


def font_path() -> Path:
    """The CJK TrueType font to embed: the environment's choice, the PyPI package, or Debian's."""
    if chosen := os.environ.get("NAVCYCLE_PDF_FONT"):
        return Path(chosen)
    try:
        packaged = files("paperang_p2_fonts_cjk").joinpath("fonts/wqy-microhei.ttc")
        if packaged.is_file():
            return Path(str(packaged))
    except ModuleNotFoundError:
        pass
    for candidate in _SYSTEM_FONTS:
        if Path(candidate).is_file():
            return Path(candidate)
    raise FontMissing(
        "no CJK TrueType font: install paperang-p2-fonts-cjk (a project dependency) or "
        "fonts-wqy-microhei, or set NAVCYCLE_PDF_FONT"
    )


@cache
def _register_font() -> str:
    path = font_path()
    index = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
    pdfmetrics.registerFont(TTFont(FONT, str(path), **index))  # subset-embedded by default
    return FONT


def _style(size: float, *, leading: float | None = None, align: int = 0) -> ParagraphStyle:
    return ParagraphStyle(
        f"s{size}{align}",
        fontName=_register_font(),
        fontSize=size,
        leading=leading or size * 1.5,
        alignment=align,
    )


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def title_of(notice: ResultsNotice) -> str:
    what = "补充公示" if notice.kind == "supplementary" else "公示"
    return f"关于{notice.year}年度{notice.program_name}评估结果的{what}（第{notice.number}号）"


def _table(entries: list[ResultEntry]) -> Table:
    cell = _style(8.5, leading=11)
    rows: list[list[Any]] = [[_p(h, cell) for h in HEADERS]]
    for n, e in enumerate(entries, 1):
        name = escape(e.name or e.base) + (
            f"<br/><font size='7'>{escape(e.domain)}</font>" if e.domain else ""
        )
        reason = "；".join(x for x in (e.reason_zh, e.rank_reason_zh) if x)
        rows.append(
            [
                str(n),
                Paragraph(name + ("（更正）" if e.corrected else ""), cell),
                _p(e.region, cell),
                "" if e.total is None else f"{e.total:.1f}",
                _p(GRADE_ZH.get(e.grade or "", "—"), cell),
                _p(e.outcome_zh, cell),
                _p(reason or "—", cell),
            ]
        )
    table = Table(
        rows,
        colWidths=[10 * mm, 44 * mm, 16 * mm, 14 * mm, 15 * mm, 24 * mm, 47 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 8.5),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return table


def _intro(notice: ResultsNotice) -> str:
    tz = zone(notice.utc_offset)
    counts = {g: sum(1 for e in notice.entries if e.grade == g) for g in GRADE_ZH}
    summary = "，".join(f"{GRADE_ZH[g]} {n} 家" for g, n in counts.items())
    period = ""
    if notice.publication_period:
        period = f"公示期为{period_zh(notice.publication_period)}"
        if notice.publication_until or notice.publication_last_day:
            end = end_zh(notice.publication_until, notice.publication_last_day, tz)
            period += f"，至{end}止" + (PROVISIONAL_ZH if notice.provisional else "")
        period += "。"
    lead = (
        f"现将{notice.year}年度评估结果的变更情况予以补充公示"
        if notice.kind == "supplementary"
        else f"根据年度评估工作安排，经基地自评、专家评审，现将{notice.year}年度评估结果予以公示"
    )
    invitation = (
        f"公示期内如有异议，请以书面形式向{notice.issuer or '发布单位'}提出。"
        if notice.publication_period
        else "本年度评估结果已确定，本次补充公示不再受理异议。"
    )
    return f"{lead}（共 {len(notice.entries)} 家：{summary}）。{period}{invitation}"


def _objections(notice: ResultsNotice, body: ParagraphStyle) -> list[Any]:
    tz = zone(notice.utc_offset)
    lines = []
    for e in notice.entries:
        for o in e.objections:
            text = f"{e.name or e.base}："
            if o.received_at is not None:
                text += f"{date_zh(o.received_at, tz)}收到异议，"
            text += f"经审查，异议{OBJECTION_STATUS_ZH[o.status]}"
            if o.decision_reason:
                text += f"（{o.decision_reason}）"
            lines.append(_p(text + "。", body))
    return [
        _p("异议及处理情况", _style(12)),
        *(lines or [_p("截至本公示发布，未收到异议。", body)]),
    ]


def notice_pdf(notice: ResultsNotice, *, today: date | None = None) -> bytes:
    """The whole notice in memory (tests; the gateway writes it to a file: :func:`write_pdf`).
    ``today`` dates it when the notice has no ``published_at`` (old data)."""
    out = io.BytesIO()
    write_pdf(notice, out, today=today)
    return out.getvalue()


def write_pdf(
    notice: ResultsNotice, target: Path | str | IO[bytes], *, today: date | None = None
) -> None:
    """The whole notice written to ``target`` (a path or a binary file)."""
    tz = zone(notice.utc_offset)
    title = title_of(notice)
    doc = SimpleDocTemplate(
        target,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=20 * mm,
        title=title,
        author=notice.issuer,
        # Pages start in the embedded font, not reportlab's Helvetica (named, never embedded),
        # so the notice names no font a reader must supply.
        initialFontName=_register_font(),
    )
    body = _style(11)
    story: list[Any] = [_p(title, _style(16, align=1)), Spacer(1, 6 * mm), _p(_intro(notice), body)]
    if notice.population_zh:
        story.append(_p(notice.population_zh, body))
    if notice.changes_zh:
        story += [Spacer(1, 3 * mm), _p("本次补充公示变更内容", _style(12))]
        story += [_p(f"{n}. {c}", body) for n, c in enumerate(notice.changes_zh, 1)]
    story += [Spacer(1, 5 * mm), _table(notice.entries), Spacer(1, 5 * mm)]
    story += _objections(notice, body)
    published: date | datetime = notice.published_at or today or datetime.now(UTC)
    story += [
        Spacer(1, 8 * mm),
        _p(notice.issuer, _style(11, align=2)),
        _p(date_zh(published, tz), _style(11, align=2)),
    ]
    doc.build(story)
