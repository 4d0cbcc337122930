"""The tests' one polling helper (tests/helpers.py ``until``): plain and async probes, what it
returns, what it ignores, and how it fails."""

from __future__ import annotations

import pytest

from tests.helpers import until


async def test_a_plain_probe_is_asked_until_it_is_true() -> None:
    seen: list[int] = []

    def grown() -> bool:
        seen.append(1)
        return len(seen) >= 3

    assert await until(grown, every=0.01) is True
    assert len(seen) == 3


async def test_an_async_probe_returns_the_value_that_passed() -> None:
    values = iter([1, 5, 9, 12])

    async def next_value() -> int:
        return next(values)

    assert await until(next_value, lambda v: v > 8, every=0.01) == 9


async def test_ignored_failures_count_as_not_yet_and_others_are_raised() -> None:
    answers = iter([LookupError("not started"), "started"])

    async def state() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await until(state, every=0.01, ignoring=LookupError) == "started"

    async def broken() -> str:
        raise ValueError("bad")

    with pytest.raises(ValueError, match="bad"):
        await until(broken, every=0.01, ignoring=LookupError)


async def test_it_fails_naming_what_never_happened_and_the_last_value() -> None:
    with pytest.raises(AssertionError, match=r"the count never happened in 0 s: 7"):
        await until(lambda: 7, lambda v: v == 8, "the count", limit_s=0.1, every=0.02)
