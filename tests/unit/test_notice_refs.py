"""Which stored notice an export request means is looked up once for a crowd and remembered for
a few seconds; a failed lookup is not remembered; a publication makes it be looked up again."""

from __future__ import annotations

import asyncio

import pytest

from services.gateway.notice_refs import NoticeRefs, StoredNotice
from services.gateway.problems import ApiError


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_crowd_costs_one_lookup_remembered_until_it_is_stale() -> None:
    clock = Clock()
    refs = NoticeRefs(remember_s=5, clock=clock)
    calls = 0

    async def look_up() -> StoredNotice:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        return StoredNotice(2, f"digest{calls}")

    found = await asyncio.gather(*(refs.get("p", 2030, None, look_up) for _ in range(200)))
    assert set(found) == {StoredNotice(2, "digest1")} and calls == 1
    clock.now += 5
    assert refs.known("p", 2030, None) == StoredNotice(2, "digest1")
    assert refs.known("p", 2030, 2) is None  # another number is another lookup
    clock.now += 0.1
    assert refs.known("p", 2030, None) is None
    assert await refs.get("p", 2030, None, look_up) == StoredNotice(2, "digest2")
    assert refs.lookups == calls == 2


async def test_a_failed_lookup_is_not_remembered() -> None:
    refs = NoticeRefs()
    answers: list[StoredNotice | ApiError] = [
        ApiError(404, "results_not_published", "not yet"),
        StoredNotice(1, "d"),
    ]

    async def look_up() -> StoredNotice:
        answer = answers.pop(0)
        if isinstance(answer, ApiError):
            raise answer
        return answer

    with pytest.raises(ApiError) as refused:
        await refs.get("p", 2030, None, look_up)
    assert refused.value.code == "results_not_published"
    assert await refs.get("p", 2030, None, look_up) == StoredNotice(1, "d")


async def test_forget_drops_only_that_program_year() -> None:
    refs = NoticeRefs()

    async def look_up() -> StoredNotice:
        return StoredNotice(1, "d")

    for program, year, number in (("p", 2030, None), ("p", 2030, 1), ("p", 2031, None)):
        await refs.get(program, year, number, look_up)
    refs.forget("p", 2030)
    assert refs.known("p", 2030, None) is None and refs.known("p", 2030, 1) is None
    assert refs.known("p", 2031, None) == StoredNotice(1, "d")


def test_bounds_are_checked() -> None:
    with pytest.raises(ValueError):
        NoticeRefs(max_entries=0)
