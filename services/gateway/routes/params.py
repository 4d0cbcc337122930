"""Path parameters, headers and a list's page parameters, shared by the routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Path, Query

from shared.paging import MAX_PAGE

ID = r"^[A-Za-z0-9_-]{1,64}$"
Program = Annotated[str, Path(pattern=ID, description="Program id, e.g. henan-nav-base")]
Year = Annotated[int, Path(ge=2000, le=2100)]
Base = Annotated[str, Path(pattern=ID)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
        description="A retried request with the same key has its effect only once",
    ),
]


def cursor_param(pattern: str) -> Any:
    """A list's ``cursor``: the ``next_cursor`` of the page before (422 out of ``pattern``)."""
    return Query(
        None,
        pattern=pattern,
        description="the next_cursor of the page before / 上一页的 next_cursor",
    )


def page_size(en: str, zh: str) -> Any:
    """A list's ``limit``: items per page, at most ``MAX_PAGE``."""
    return Query(MAX_PAGE, ge=1, le=MAX_PAGE, description=f"{en} per page / 每页{zh}数")
