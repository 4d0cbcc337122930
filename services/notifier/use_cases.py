"""The notifier's questions, one function each: plain functions of the database and a request
model, called by the transport handlers in ``app.py`` and tested without a broker."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import col, select

from services.notifier.tables import NoticeRow
from shared import paging
from shared.contracts.notifier import Inbox, InboxQuery, NoticePublic
from shared.db import session_scope
from shared.events.subjects import PROGRAM_WIDE


def inbox(engine: Engine, req: InboxQuery) -> Inbox:
    """The newest notices for the asker's audiences, program, base and region, a page at a
    time (older ones after ``req.cursor``), never more JSON than the reply budget."""
    query = select(NoticeRow).where(col(NoticeRow.audience).in_(req.audiences))
    if req.program:
        query = query.where(NoticeRow.program == req.program)
    if req.base:
        query = query.where(col(NoticeRow.base).in_([req.base, PROGRAM_WIDE]))
    # A notice to one person (an expert's assignment) is theirs alone.
    query = query.where(
        (col(NoticeRow.recipient) == "") | (col(NoticeRow.recipient) == (req.recipient or ""))
    )
    if req.region_prefix:
        query = query.where(col(NoticeRow.region).startswith(req.region_prefix))
    if req.cursor:
        query = query.where(col(NoticeRow.id) < int(req.cursor))
    with session_scope(engine) as session:
        rows = list(session.exec(query.order_by(col(NoticeRow.id).desc()).limit(req.limit + 1)))
        found = [(r.id, NoticePublic.model_validate(r, from_attributes=True)) for r in rows]
    page, more = paging.cut(
        found, limit=req.limit, size_of=lambda item: len(item[1].model_dump_json().encode())
    )
    return Inbox(
        notices=[notice for _, notice in page], next_cursor=str(page[-1][0]) if more else None
    )
