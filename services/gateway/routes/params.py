"""Path parameters and headers shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Path

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
