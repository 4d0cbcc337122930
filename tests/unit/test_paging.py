"""Pages cut by count and by bytes: nothing lost, nothing twice, no page over its budget."""

from __future__ import annotations

import asyncio

from hypothesis import given
from hypothesis import strategies as st

from shared.contracts.registry import BaseList
from shared.paging import cut, json_size, pages


@given(
    st.lists(st.text(max_size=300), max_size=60),
    st.integers(1, 20),
    st.integers(1, 2_000),
)
def test_pages_cut_by_count_and_bytes_cover_the_list_once(
    items: list[str], limit: int, budget: int
) -> None:
    seen: list[str] = []
    rest = items
    while rest:
        page, more = cut(rest[: limit + 1], limit=limit, size_of=json_size, budget=budget)
        assert 1 <= len(page) <= limit
        if len(page) > 1:  # one item too big for the budget still goes, alone
            assert sum(json_size(i) + 1 for i in page) <= budget
        seen += page
        rest = rest[len(page) :]
        assert more == bool(rest)
    assert seen == items


def test_pages_follow_the_cursor_to_the_end() -> None:
    data = [{"id": f"b{n}"} for n in range(7)]
    asked: list[str | None] = []

    async def fetch(cursor: str | None) -> BaseList:
        asked.append(cursor)
        start = 0 if cursor is None else int(cursor[1:]) + 1
        chunk = data[start : start + 3]
        more = start + 3 < len(data)
        return BaseList(bases=chunk, next_cursor=str(chunk[-1]["id"]) if more else None)

    async def read() -> list[object]:
        return [b["id"] for p in [p async for p in pages(fetch)] for b in p.bases]

    assert asyncio.run(read()) == [d["id"] for d in data]
    assert asked == [None, "b2", "b5"]
