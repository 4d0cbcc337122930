"""公示 results as CSV (UTF-8 with a BOM, so Excel reads the Chinese) and XLSX.

The CSV is made a chunk of rows at a time (:func:`csv_chunks`), so a response streams it; the
XLSX is a zip whose directory comes last, so :func:`write_xlsx` writes it to a file (rendered
once per notice, in the render process; the gateway stores the file and streams it from the
object store), in openpyxl's write-only mode: rows go out as they are appended instead of staying
as cell objects (20,000 rows: 1 MiB of Python memory at the peak instead of 74).

Both carry, per base, the grade, the outcome (rectification ordered, rectified, de-listed,
vetoed, overdue, ...) and its reason, and the objections with their outcomes, so they say what
the notice says. Cells a spreadsheet would run as a formula are quoted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook

from shared.contracts.results import (
    GRADE_ZH,
    OBJECTION_STATUS_EN,
    OBJECTION_STATUS_ZH,
    ResultEntry,
    ResultsNotice,
)
from shared.domain.wording import (
    PROVISIONAL_EN,
    PROVISIONAL_ZH,
    date_zh,
    end_en,
    end_zh,
    period_en,
    period_zh,
    zone,
)


def _objections(e: ResultEntry) -> str:
    return "；".join(
        f"{OBJECTION_STATUS_ZH[o.status]} {OBJECTION_STATUS_EN[o.status]}"
        + (f"：{o.decision_reason}" if o.decision_reason else "")
        for o in e.objections
    )


COLUMNS: list[tuple[str, Callable[[ResultEntry], Any]]] = [
    ("基地编号 Base", lambda e: e.base),
    ("基地名称 Name", lambda e: e.name),
    ("地区 Region", lambda e: e.region),
    ("领域 Domain", lambda e: e.domain),
    ("总分 Total", lambda e: e.total),
    ("等级 Grade", lambda e: e.grade or ""),
    ("评估等级", lambda e: GRADE_ZH.get(e.grade or "", "")),
    ("结果 Outcome", lambda e: e.outcome),
    ("处理结果", lambda e: e.outcome_zh),
    ("理由", lambda e: e.reason_zh),
    ("Reason", lambda e: e.reason_en),
    (
        "排名说明 Ranking",
        lambda e: " / ".join(x for x in (e.rank_reason_zh, e.rank_reason_en) if x),
    ),
    ("异议 Objections", _objections),
    ("更正 Corrected", lambda e: "是 yes" if e.corrected else ""),
]


def _safe(value: Any) -> Any:
    # A cell that starts with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _row(e: ResultEntry) -> list[Any]:
    return [_safe(get(e)) for _, get in COLUMNS]


CSV_CHUNK_ROWS = 500  # rows a streamed CSV's chunk holds


def csv_chunks(notice: ResultsNotice) -> Iterator[bytes]:
    """The CSV, a chunk of ``CSV_CHUNK_ROWS`` rows at a time (the first with the BOM and the
    header line): a response streams it without the whole file in memory."""
    yield "\ufeff".encode() + _csv_lines([[label for label, _ in COLUMNS]])
    entries = notice.entries
    for start in range(0, len(entries), CSV_CHUNK_ROWS):
        yield _csv_lines([_row(e) for e in entries[start : start + CSV_CHUNK_ROWS]])


def _csv_lines(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def to_csv(notice: ResultsNotice) -> bytes:
    """One header line and one line per base: the table a spreadsheet opens (whole)."""
    return b"".join(csv_chunks(notice))


def heading(notice: ResultsNotice) -> tuple[str, str]:
    """The notice's title and its 公示 period, in Chinese then English."""
    what = (
        ("补充公示", "supplementary notice")
        if notice.kind == "supplementary"
        else ("公示", "notice")
    )
    name_en = notice.program_name_en or notice.program_name or notice.program
    title = (
        f"{notice.year}年度{notice.program_name or notice.program}评估结果{what[0]}"
        f"（第{notice.number}号） / {name_en}: {notice.year} results, {what[1]} no. {notice.number}"
    )
    if not notice.publication_period:
        return title, ""
    tz = zone(notice.utc_offset)
    zh, en = f"公示期{period_zh(notice.publication_period)}", period_en(notice.publication_period)
    if notice.publication_until or notice.publication_last_day:
        zh += f"，至{end_zh(notice.publication_until, notice.publication_last_day, tz)}止"
        en += f", until {end_en(notice.publication_until, notice.publication_last_day, tz)}"
    if notice.provisional:
        zh, en = zh + PROVISIONAL_ZH, f"{en} {PROVISIONAL_EN}"
    return title, f"{zh} / Publication period: {en}"


def to_xlsx(notice: ResultsNotice) -> bytes:
    """The XLSX whole, in memory (tests; the gateway writes it to a file: :func:`write_xlsx`)."""
    out = io.BytesIO()
    write_xlsx(notice, out)
    return out.getvalue()


def write_xlsx(notice: ResultsNotice, target: Path | str | IO[bytes]) -> None:
    """The XLSX written to ``target`` (a path or a binary file)."""
    # Write-only: each row is written out as it is appended, not kept as cell objects.
    book = Workbook(write_only=True)
    sheet = book.create_sheet("公示结果")
    title, period = heading(notice)
    sheet.append([title])
    if period:
        sheet.append([period])
    sheet.append([label for label, _ in COLUMNS])
    for entry in notice.entries:
        sheet.append(_row(entry))
    for n, (zh, en) in enumerate(_changes(notice), 1):
        sheet.append([f"变更{n} Change {n}", _safe(zh), _safe(en)])
    if notice.population_zh or notice.population_en:
        sheet.append(
            ["评定范围 Population", _safe(notice.population_zh), _safe(notice.population_en)]
        )
    objections = book.create_sheet("异议 Objections")
    objections.append(
        [
            "基地编号 Base",
            "基地名称 Name",
            "编号 ID",
            "收到日期 Received",
            "结果",
            "Status",
            "处理理由 Reason",
        ]
    )
    tz = zone(notice.utc_offset)
    for e in notice.entries:
        for o in e.objections:
            received = date_zh(o.received_at, tz) if o.received_at else ""
            objections.append(
                [
                    _safe(v)
                    for v in (
                        e.base,
                        e.name,
                        o.objection_id,
                        received,
                        OBJECTION_STATUS_ZH[o.status],
                        OBJECTION_STATUS_EN[o.status],
                        o.decision_reason,
                    )
                ]
            )
    book.save(target)


def _changes(notice: ResultsNotice) -> list[tuple[str, str]]:
    en = notice.changes_en + [""] * (len(notice.changes_zh) - len(notice.changes_en))
    return list(zip(notice.changes_zh, en, strict=False))
