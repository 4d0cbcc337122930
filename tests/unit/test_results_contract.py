"""The published results document: round-trips, and still reads results stored as a bare list."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from shared.contracts.results import (
    ObjectionSummary,
    ResultEntry,
    ResultsNotice,
    dump_results,
    parse_results,
    results_key,
)


def test_old_list_of_dicts_is_still_read() -> None:
    raw = json.dumps(
        [
            {"base": "b1", "total": 88.0, "grade": "pass", "grade_zh": "合格"},
            {"base": "b2", "total": 0.0, "grade": "fail", "grade_zh": "不合格"},
        ],
        ensure_ascii=False,
    ).encode()
    notice = parse_results(raw, program="nm", year=2026)
    assert notice.number == 1 and notice.kind == "original"
    assert [(e.base, e.total, e.grade, e.outcome) for e in notice.entries] == [
        ("b1", 88.0, "pass", "none"),
        ("b2", 0.0, "fail", "none"),
    ]
    assert notice.entries[1].grade_zh == "不合格"


def test_notice_round_trips() -> None:
    notice = ResultsNotice(
        program="nm",
        year=2026,
        kind="supplementary",
        number=2,
        published_at=datetime(2027, 1, 5, 2, tzinfo=UTC),
        publication_last_day=date(2027, 1, 12),
        publication_period="5WD",
        provisional=True,
        entries=[
            ResultEntry(
                base="b1",
                total=90.0,
                grade="fail",
                outcome="vetoed",
                reason_zh="一票否决：提供虚假材料",
                reason_en="Vetoed: false materials",
                objections=[ObjectionSummary(objection_id="o1", status="dismissed")],
                corrected=True,
            )
        ],
        changes_zh=["基地 b1 等级更正为不合格"],
    )
    assert parse_results(dump_results(notice), program="x", year=1) == notice


def test_unknown_fields_and_outcomes_are_refused() -> None:
    with pytest.raises(ValidationError):
        ResultEntry.model_validate({"base": "b1", "outcome": "forgiven"})
    with pytest.raises(ValidationError):
        ResultsNotice.model_validate({"program": "p", "year": 1, "surprise": 1})


def test_original_keeps_its_historic_key() -> None:
    assert results_key("nm", 2026) == "results/nm/2026/results.json"
    assert results_key("nm", 2026, 3) == "results/nm/2026/notice-3.json"
