"""Request/reply contracts of the notifier service."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from shared.paging import MAX_PAGE


class InboxQuery(BaseModel):
    audiences: list[str] = Field(description="base | city | province | program")
    program: str | None = None
    base: str | None = None
    region_prefix: str | None = None
    recipient: str | None = Field(None, description="The caller's user name: their own notices")
    limit: int = Field(100, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(
        None, pattern=r"^\d{1,18}$", description="next_cursor of the page before: older notices"
    )


class NoticePublic(BaseModel):
    program: str
    year: int
    base: str
    region: str
    audience: str
    recipient: str = ""
    kind: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    created_at: datetime


class Inbox(BaseModel):
    notices: list[NoticePublic]
    next_cursor: str | None = Field(None, description="ask again with this cursor for older ones")
