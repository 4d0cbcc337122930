"""The published results (公示) document: what the program year stores, and every reader shows.

One document per notice: the original 公示 is notice 1, and each supplementary notice (补充公示:
rectification results, a correction after an upheld objection or a reset) is notice 2, 3, ...
stored under ``results_key(program, year, number)`` beside the original, never overwriting it,
and numbered without gaps (readers find the latest by probing 2, 3, ... until one is missing).
Every notice carries the whole list as it stands then; ``corrected`` marks the entries it
changes and ``changes_zh``/``changes_en`` say what changed. The results page, the CSV,
the XLSX, the PDF and the dashboard all read this one shape, so they tell one story.

Results stored before this document existed are a bare JSON list of
``{base, total, grade, grade_zh}``; ``parse_results`` still reads them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Grade = Literal["excellent", "pass", "fail"]
ResultOutcome = Literal[
    "none",  # graded, nothing follows
    "rectification_ordered",  # failed: rectification ordered (after the grade is final)
    "rectified",  # rectification passed
    "delisted",  # 摘牌
    "vetoed",  # a veto item applied: failed whatever the total
    "overdue",  # a filing missed its deadline: failed with total 0
    "excluded",  # not assessed this year (e.g. a later cycle of a de-listed base)
    "designated",  # 验收: designated a provincial base
    "fail_final",  # failed, no rectification under the rules
]
NoticeKind = Literal["original", "supplementary"]
ObjectionStatus = Literal["lodged", "upheld", "dismissed"]

OUTCOME_ZH: dict[str, str] = {
    "none": "—",
    "rectification_ordered": "责令整改",
    "rectified": "整改合格",
    "delisted": "摘牌",
    "vetoed": "一票否决",
    "overdue": "逾期未报",
    "excluded": "不参加本年度评估",
    "designated": "确定为省级专利导航服务基地",
    "fail_final": "不合格（不予整改）",
}
OUTCOME_EN: dict[str, str] = {
    "none": "—",
    "rectification_ordered": "Rectification ordered",
    "rectified": "Rectified",
    "delisted": "De-listed",
    "vetoed": "Vetoed",
    "overdue": "Overdue",
    "excluded": "Not assessed this year",
    "designated": "Designated a provincial base",
    "fail_final": "Failed (no rectification)",
}
GRADE_ZH: dict[str, str] = {"excellent": "优秀", "pass": "合格", "fail": "不合格"}
GRADE_EN: dict[str, str] = {"excellent": "Excellent", "pass": "Pass", "fail": "Fail"}
OBJECTION_STATUS_ZH: dict[str, str] = {"lodged": "待处理", "upheld": "成立", "dismissed": "不成立"}
OBJECTION_STATUS_EN: dict[str, str] = {
    "lodged": "Pending",
    "upheld": "Upheld",
    "dismissed": "Dismissed",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ObjectionSummary(_Model):
    """One objection against a base's result, as the notice shows it (no objector's contact)."""

    objection_id: str
    status: ObjectionStatus = "lodged"
    received_at: datetime | None = None
    decided_at: datetime | None = None
    decision_reason: str = Field("", description="The province's reason, as decided")


class ResultEntry(_Model):
    base: str
    name: str = ""
    region: str = ""
    domain: str = ""
    total: float | None = None
    grade: Grade | None = None
    outcome: ResultOutcome = "none"
    reason_zh: str = Field("", description="Why this outcome: 「一票否决：提供虚假材料」")
    reason_en: str = ""
    rank_reason_zh: str = Field(
        "", description="Relative grading: 「得分位列前15%（第2名/共12家）」"
    )
    rank_reason_en: str = ""
    objections: list[ObjectionSummary] = Field(default_factory=list)
    corrected: bool = Field(False, description="Changed since the previous notice")

    @property
    def grade_zh(self) -> str:
        return GRADE_ZH.get(self.grade or "", "—")

    @property
    def grade_en(self) -> str:
        return GRADE_EN.get(self.grade or "", "—")

    @property
    def outcome_zh(self) -> str:
        return OUTCOME_ZH[self.outcome]

    @property
    def outcome_en(self) -> str:
        return OUTCOME_EN[self.outcome]


class ResultsNotice(_Model):
    program: str
    year: int
    program_name: str = ""
    program_name_en: str = ""
    issuer: str = ""
    kind: NoticeKind = "original"
    number: int = Field(1, ge=1, description="1 for the 公示, 2.. for each 补充公示")
    published_at: datetime | None = None
    publication_until: datetime | None = Field(None, description="The exact end of 公示")
    publication_last_day: date | None = Field(
        None, description="Its last day, when counted in days (ends at 24:00 of that day)"
    )
    publication_period: str = Field("", description="The rules' spec, e.g. 5WD or P7D")
    provisional: bool = Field(
        False, description="The end of 公示 falls in a year without holiday data"
    )
    utc_offset: str = "+08:00"
    entries: list[ResultEntry] = Field(default_factory=list)
    changes_zh: list[str] = Field(default_factory=list, description="What a 补充公示 changes")
    changes_en: list[str] = Field(default_factory=list)
    population_zh: str = Field("", description="Relative grading: who counts and the quota")
    population_en: str = ""


class NoticeRef(_Model):
    number: int
    kind: NoticeKind
    published_at: datetime | None = None


class NoticeList(_Model):
    program: str
    year: int
    notices: list[NoticeRef] = Field(default_factory=list)


def results_key(program: str, year: int, number: int = 1) -> str:
    """Where notice ``number`` is stored: the original keeps its historic key."""
    if number == 1:
        return f"results/{program}/{year}/results.json"
    return f"results/{program}/{year}/notice-{number}.json"


def _legacy_entry(row: dict[str, Any]) -> ResultEntry:
    grade = row.get("grade")
    total = row.get("total")
    return ResultEntry(
        base=str(row["base"]),
        total=None if total is None else float(total),
        grade=grade if grade in GRADE_ZH else None,
    )


def parse_results(raw: bytes | str, *, program: str, year: int) -> ResultsNotice:
    """Read a stored notice: the current document, or the old bare list of entries."""
    data = json.loads(raw)
    if isinstance(data, list):
        return ResultsNotice(program=program, year=year, entries=[_legacy_entry(r) for r in data])
    return ResultsNotice.model_validate(data)


def dump_results(notice: ResultsNotice) -> bytes:
    return notice.model_dump_json(indent=None).encode()
