"""A base's status across years: every allowed and refused change, and the re-application ban."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import product

import pytest

from shared.domain.base_status import (
    BAN_RUNNING,
    NOT_DELISTED,
    REASON_REQUIRED,
    REFUSED,
    STATUSES,
    Status,
    ban_ends,
    decide,
    decide_reinstatement,
)

BEIJING = timezone(timedelta(hours=8))
ALLOWED = {
    ("active", "rectifying"),
    ("rectifying", "active"),
    ("rectifying", "delisted"),
    ("active", "delisted"),
}


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_changes_change(current: Status, target: Status) -> None:
    decision = decide(current, target)
    assert (decision.status, decision.changed, decision.refused) == (target, True, None)


@pytest.mark.parametrize("status", STATUSES)
def test_the_same_state_is_a_no_op(status: Status) -> None:
    decision = decide(status, status)
    assert (decision.status, decision.changed, decision.refused) == (status, False, None)


REFUSED_PAIRS = sorted(
    (a, b) for a, b in product(STATUSES, STATUSES) if a != b and (a, b) not in ALLOWED
)


@pytest.mark.parametrize(("current", "target"), REFUSED_PAIRS)
def test_everything_else_is_refused_and_keeps_the_status(current: Status, target: Status) -> None:
    decision = decide(current, target)
    assert decision.status == current and not decision.changed
    assert decision.refused is not None and decision.refused.code == REFUSED
    assert "已摘牌" in decision.refused.message_zh and "de-listed" in decision.refused.message


def test_only_a_delisted_base_can_never_be_revived_by_a_cycle() -> None:
    assert REFUSED_PAIRS == [("delisted", "active"), ("delisted", "rectifying")]


NOW = datetime(2027, 6, 1, tzinfo=UTC)


def test_reinstating_a_delisted_base_without_a_ban_makes_it_active() -> None:
    decision = decide_reinstatement(
        "delisted", reason="复核后恢复", delisted_at=NOW, ban=None, now=NOW, tz=BEIJING
    )
    assert (decision.status, decision.changed, decision.refused) == ("active", True, None)


@pytest.mark.parametrize("status", ["active", "rectifying"])
def test_only_a_delisted_base_is_reinstated(status: Status) -> None:
    decision = decide_reinstatement(
        status, reason="r", delisted_at=None, ban=None, now=NOW, tz=BEIJING
    )
    assert decision.refused is not None and decision.refused.code == NOT_DELISTED
    assert decision.status == status and not decision.changed


def test_a_reinstatement_needs_a_reason() -> None:
    decision = decide_reinstatement(
        "delisted", reason="  ", delisted_at=NOW, ban=None, now=NOW, tz=BEIJING
    )
    assert decision.refused is not None and decision.refused.code == REASON_REQUIRED


def test_the_ban_refuses_until_it_has_run_in_the_programs_calendar() -> None:
    delisted = datetime(2027, 1, 31, 16, 0, tzinfo=UTC)  # 2027-02-01 00:00 in Beijing
    ends = ban_ends(delisted, "P1Y", BEIJING)
    assert ends == datetime(2028, 1, 31, 16, 0, tzinfo=UTC)

    def at(now: datetime) -> str | None:
        decision = decide_reinstatement(
            "delisted", reason="r", delisted_at=delisted, ban="P1Y", now=now, tz=BEIJING
        )
        return decision.refused.code if decision.refused else decision.status

    assert at(delisted) == BAN_RUNNING
    assert at(ends - timedelta(seconds=1)) == BAN_RUNNING
    assert at(ends) == "active"
    refused = decide_reinstatement(
        "delisted", reason="r", delisted_at=delisted, ban="P1Y", now=delisted, tz=BEIJING
    ).refused
    assert refused is not None and "2028年2月1日" in refused.message_zh
    assert "01 February 2028" in refused.message


def test_no_ban_or_no_date_means_no_end() -> None:
    assert ban_ends(NOW, None, BEIJING) is None
    assert ban_ends(None, "P1Y", BEIJING) is None
