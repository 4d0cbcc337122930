"""The project's retry shapes (shared/retrying.py): which failures are tried again, how often,
and what is raised when the tries run out."""

from __future__ import annotations

import pytest

from shared.retrying import polled, retrying


class Busy(Exception):
    pass


async def test_a_named_failure_is_tried_again_until_it_passes() -> None:
    calls: list[int] = []

    async def flaky(n: int) -> int:
        calls.append(n)
        if len(calls) < 3:
            raise Busy
        return n * 2

    assert await retrying(on=Busy, attempts=5, step=0.01)(flaky, 21) == 42
    assert calls == [21, 21, 21]


async def test_the_last_failure_is_raised_as_it_is_when_the_tries_run_out() -> None:
    calls = 0

    async def busy() -> None:
        nonlocal calls
        calls += 1
        raise Busy(f"try {calls}")

    with pytest.raises(Busy, match="try 3"):
        await retrying(on=Busy, attempts=3, step=0.01)(busy)
    assert calls == 3


async def test_another_failure_is_raised_at_once() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise KeyError("no")

    with pytest.raises(KeyError):
        await retrying(on=Busy, attempts=5, step=0.01)(broken)
    assert calls == 1


async def test_a_poll_returns_the_first_answer_and_ignores_the_named_failures() -> None:
    answers = iter([Busy(), None, False, "here"])

    async def ask() -> str | bool | None:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await polled(ask, what="the answer", every=0.01, attempts=10, ignoring=Busy) == "here"


async def test_a_poll_without_an_answer_times_out_naming_what_never_came() -> None:
    async def never() -> None:
        return None

    with pytest.raises(TimeoutError, match=r"the gateway was not ready after .* \(4 tries\)"):
        await polled(never, what="the gateway", every=0.01, attempts=4)
    with pytest.raises(TimeoutError, match="the gateway was not ready"):
        await polled(never, what="the gateway", every=0.01, seconds=0.05)


async def test_a_retry_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="attempts or seconds"):
        retrying(on=Busy)
