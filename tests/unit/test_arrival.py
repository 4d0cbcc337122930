"""Admission by arrival: a filing counts as filed when it reached the gateway, within a bounded
clock skew (unit and property tests of the pure rule, and of the filing check it feeds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.contracts.cycle import CycleState
from shared.domain.admission import filing_refusal
from shared.domain.arrival import CLOCK_SKEW, Admission, admission_time
from shared.domain.stages import Stage

CST = timezone(timedelta(hours=8))
SKEW = timedelta(seconds=300)
DUE = datetime(2027, 4, 1, 0, 0, tzinfo=CST)  # by the end of 31 March, Beijing time


def plan_filing() -> CycleState:
    return CycleState(
        program="henan-nav-base",
        year=2027,
        base="zz-biomed",
        stage=Stage.PLAN_FILING,
        rules_version=1,
        deadlines={"plan": DUE},
    )


def judged(received_at: datetime | None, now: datetime) -> tuple[str, str] | None:
    """The filing check, as the validator makes it with the arrival rule in front."""
    admission = admission_time(received_at, now, SKEW)
    return admission.refusal or filing_refusal(plan_filing(), "plan", admission.at)


def test_a_plan_that_arrived_before_the_deadline_and_is_processed_after_it_is_admitted() -> None:
    arrived = DUE - timedelta(seconds=30)  # 23:59:30
    processed = DUE + timedelta(seconds=40)  # a rush: accepted 70 s later
    admission = admission_time(arrived, processed, SKEW)
    assert admission == Admission(at=arrived, basis="arrival")
    assert judged(arrived, processed) is None
    # Without the stamp the same filing is refused: the rule is what admits it.
    assert judged(None, processed) is not None
    assert judged(None, processed)[0] == "deadline_passed"  # type: ignore[index]


def test_a_plan_that_arrived_after_the_deadline_is_deadline_passed() -> None:
    arrived = DUE + timedelta(seconds=1)
    refusal = judged(arrived, arrived + timedelta(seconds=5))
    assert refusal is not None and refusal[0] == "deadline_passed"


def test_a_plan_that_arrived_at_the_deadline_instant_is_late() -> None:
    # The deadline is the first instant that is too late (24:00 of the last day).
    refusal = judged(DUE, DUE + timedelta(seconds=1))
    assert refusal is not None and refusal[0] == "deadline_passed"


def test_an_arrival_older_than_the_skew_is_not_trusted_and_judged_at_now() -> None:
    arrived = DUE - timedelta(seconds=30)
    processed = arrived + SKEW + timedelta(seconds=1)
    assert admission_time(arrived, processed, SKEW) == Admission(at=processed, basis="now")
    refusal = judged(arrived, processed)
    assert refusal is not None and refusal[0] == "deadline_passed"


def test_an_arrival_exactly_at_the_skew_bound_is_trusted() -> None:
    arrived = DUE - timedelta(seconds=1)
    assert admission_time(arrived, arrived + SKEW, SKEW) == Admission(at=arrived, basis="arrival")


def test_a_gateway_clock_far_ahead_is_refused_with_clock_skew() -> None:
    now = DUE - timedelta(hours=1)
    admission = admission_time(now + SKEW + timedelta(seconds=1), now, SKEW)
    assert admission.refusal is not None
    code, message = admission.refusal
    assert code == CLOCK_SKEW == "clock_skew"
    assert "网关时钟" in message and "gateway's clock" in message and "301" in message
    assert judged(now + SKEW + timedelta(seconds=1), now) == admission.refusal


def test_a_gateway_clock_slightly_ahead_is_judged_at_the_workflow_clock() -> None:
    now = DUE - timedelta(seconds=10)
    assert admission_time(now + timedelta(seconds=20), now, SKEW) == Admission(at=now, basis="now")
    # Never judged later than the workflow's clock: a filing the cycle sees in time stays in time.
    assert judged(DUE + timedelta(seconds=5), DUE - timedelta(seconds=1)) is None


def test_no_stamp_means_now_as_in_recorded_histories() -> None:
    now = datetime(2027, 3, 31, 23, 0, tzinfo=CST)
    assert admission_time(None, now, SKEW) == Admission(at=now, basis="now")


def test_a_naive_stamp_is_judged_as_unstamped() -> None:
    now = datetime(2027, 3, 31, 23, 0, tzinfo=UTC)
    assert admission_time(datetime(2027, 3, 31, 22, 59), now, SKEW) == Admission(now, "now")


def test_a_zero_skew_turns_arrival_stamps_off_and_a_negative_one_is_an_error() -> None:
    now = datetime(2027, 3, 31, tzinfo=UTC)
    for stamp in (now - timedelta(seconds=1), now + timedelta(hours=1)):
        assert admission_time(stamp, now, timedelta(0)) == Admission(at=now, basis="now")
    with pytest.raises(ValueError, match="negative"):
        admission_time(now, now, timedelta(seconds=-1))


moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(min_value=-3 * 3600, max_value=3 * 3600).map(lambda s: timedelta(seconds=s))
skews = st.integers(min_value=1, max_value=3600).map(lambda s: timedelta(seconds=s))


@given(now=moments, offset=offsets, skew=skews)
def test_the_judged_time_is_never_later_than_now_nor_earlier_than_the_skew(
    now: datetime, offset: timedelta, skew: timedelta
) -> None:
    received = now + offset
    admission = admission_time(received, now, skew)
    if admission.refusal is not None:
        assert received - now > skew and admission.refusal[0] == CLOCK_SKEW
        return
    assert now - skew <= admission.at <= now
    assert admission.at in (received, now)
    assert (admission.basis == "arrival") == (now - skew <= received <= now)


@given(now=moments, offset=offsets, skew=skews)
def test_a_stamp_never_makes_an_admitted_filing_late(
    now: datetime, offset: timedelta, skew: timedelta
) -> None:
    """Whatever the stamp, a filing judged at the workflow's clock would be admitted is admitted
    too (unless the clocks disagree beyond the bound): the stamp only helps the base."""
    admission = admission_time(now + offset, now, skew)
    if admission.refusal is None:
        assert admission.at <= now
