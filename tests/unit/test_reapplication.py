"""The pure rules behind outcome decisions in the registry (issue 16): the exit's reason, when a
ban on re-applying ends, and the refusal's words naming the day."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.domain.reapplication import (
    REAPPLICATION_BANNED,
    ban_until,
    exit_reason,
    reapplication_refusal,
)

BEIJING = timezone(timedelta(hours=8))
DECIDED = datetime(2027, 1, 10, 10, 0, tzinfo=BEIJING)


def test_the_exit_reason_names_the_year_the_rule_and_both_words() -> None:
    assert exit_reason("outcomes.exit", "予以摘牌", "de-listed", 2026) == (
        "2026年度结果决定（outcomes.exit）：予以摘牌 — outcome decision of 2026 (outcomes.exit):"
        " de-listed"
    )


def test_a_ban_ends_its_duration_after_the_decision_on_the_program_calendar() -> None:
    assert ban_until(DECIDED, "P2Y", BEIJING) == datetime(2029, 1, 10, 10, 0, tzinfo=BEIJING)
    # a month from 31 January is the end of February, in the program's time zone
    late = datetime(2027, 1, 31, 1, 0, tzinfo=BEIJING)
    assert ban_until(late, "P1M", BEIJING) == datetime(2027, 2, 28, 1, 0, tzinfo=BEIJING)


def test_the_refusal_names_the_day_the_ban_ends_in_both_languages() -> None:
    refusal = reapplication_refusal(
        "b1", datetime(2029, 1, 10, 10, 0, tzinfo=BEIJING), "P2Y", BEIJING
    )
    assert refusal.code == REAPPLICATION_BANNED == "reapplication_banned"
    assert refusal.message_zh == (
        "「b1」已摘牌退出，2年内不得重新申报：限制期至2029年1月10日10时止，期满后方可重新登记"
    )
    assert refusal.message == (
        "'b1' was de-listed and may not re-apply for 2 years: the ban runs until 10:00 on"
        " 10 January 2029 (Beijing time), a registration is accepted after it"
    )
