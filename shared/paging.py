"""Pages of a list, so that no reply grows with the program.

Every list a service answers over NATS, and every list the API answers, is a page: at most
``MAX_PAGE`` items and at most ``REPLY_BUDGET_BYTES`` of JSON, with a cursor to the next page
when there is more. The budget keeps a reply far below NATS's message limit (1 MiB by default)
whatever the items hold; :func:`pages` reads every page for the callers that need them all.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

MAX_PAGE = 500
REPLY_BUDGET_BYTES = 256 * 1024

T = TypeVar("T")
P = TypeVar("P", bound="Page")


class Page(Protocol):
    next_cursor: str | None


def json_size(item: Any) -> int:
    """The bytes of ``item`` as a reply carries it: the services' replies escape every
    non-ASCII character (a Chinese character is six bytes there, not three)."""
    return len(json.dumps(item, default=str))


def model_size(model: Any) -> int:
    """The bytes of a pydantic model in a reply (see :func:`json_size`)."""
    return json_size(model.model_dump(mode="json"))


def cut(
    items: Sequence[T],
    *,
    limit: int,
    size_of: Callable[[T], int],
    budget: int = REPLY_BUDGET_BYTES,
) -> tuple[list[T], bool]:
    """The leading items that fit ``limit`` and ``budget`` (at least one), and whether any are
    left. ``items`` may hold one more than ``limit`` to tell that more follow."""
    page: list[T] = []
    used = 0
    for item in items[:limit]:
        size = size_of(item) + 1  # the comma between items
        if page and used + size > budget:
            return page, True
        page.append(item)
        used += size
    return page, len(items) > len(page)


async def pages(fetch: Callable[[str | None], Awaitable[P]]) -> AsyncIterator[P]:
    """Every page, from the first, each fetched with the previous one's cursor."""
    cursor: str | None = None
    while True:
        page = await fetch(cursor)
        yield page
        cursor = page.next_cursor
        if cursor is None:
            return
