"""公示 notices and entries the tests of its page, exports and PDF are built from."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from shared.contracts.results import ResultEntry, ResultsNotice

# What a failed base's entry says, by its outcome.
_FAILED: dict[str, dict[str, Any]] = {
    "vetoed": {  # scored 90 but failed by a veto for false materials
        "total": 90.0,
        "reason_zh": "一票否决：提供虚假材料",
        "reason_en": "Vetoed: false materials",
    },
    "rectified": {"total": 58.0, "reason_zh": "整改报告经审核合格"},  # its rectification accepted
}


def failed(outcome: str, base: str, name: str, **more: Any) -> ResultEntry:
    """A failed base's entry with the outcome's total and reasons (``more`` adds or overrides)."""
    said = {**_FAILED[outcome], **more}
    return ResultEntry(base=base, name=name, grade="fail", outcome=outcome, **said)


def supplementary(entries: list[ResultEntry], **more: Any) -> ResultsNotice:
    """Inner Mongolia's supplementary notice no. 2 for 2026, published on 10 January 2027 for
    five working days (to 15 January)."""
    return ResultsNotice(
        program="nm",
        year=2026,
        program_name="专利导航服务基地",
        issuer="内蒙古自治区知识产权局",
        kind="supplementary",
        number=2,
        published_at=datetime(2027, 1, 10, 2, tzinfo=UTC),
        publication_last_day=date(2027, 1, 15),
        publication_period="5WD",
        entries=entries,
        **more,
    )
