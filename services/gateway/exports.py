"""公示 results as CSV (UTF-8 with a BOM, so Excel reads the Chinese) and XLSX."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

COLUMNS = [
    ("base", "基地编号 Base"),
    ("name", "基地名称 Name"),
    ("region", "地区 Region"),
    ("domain", "领域 Domain"),
    ("total", "总分 Total"),
    ("grade", "等级 Grade"),
    ("grade_zh", "评估等级"),
]


def _safe(value: Any) -> Any:
    # A cell that starts with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def to_csv(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([label for _, label in COLUMNS])
    for row in rows:
        writer.writerow([_safe(row.get(key)) for key, _ in COLUMNS])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def to_xlsx(rows: list[dict[str, Any]], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "公示结果"
    sheet.append([title])
    sheet.append([label for _, label in COLUMNS])
    for row in rows:
        sheet.append([_safe(row.get(key)) for key, _ in COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
