"""The inbox in pages: newest first, older ones behind the cursor, each notice once, no page over
its count or the reply budget; another base's notices never in a page."""

from __future__ import annotations

from pathlib import Path

from services.notifier import use_cases
from services.notifier.tables import MIGRATIONS, NoticeRow
from shared.contracts.notifier import InboxQuery
from shared.db import make_engine, session_scope
from shared.migrations import upgrade
from shared.paging import REPLY_BUDGET_BYTES


def test_the_inbox_pages_through_every_notice_once_newest_first(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'notifier.db'}")
    upgrade(engine, MIGRATIONS)
    body = "请按期提交材料。" * 200  # long bodies: the byte budget, not the count, cuts the pages
    with session_scope(engine) as session:
        for n in range(300):
            base = "b1" if n % 3 else "b2"
            session.add(
                NoticeRow(event_id=f"e{n}", program="p", year=2027, base=base, region="410100",
                          audience="base", kind="reminder", title_zh=f"通知{n}",
                          title_en=f"notice {n}", body_zh=body, body_en="file on time")
            )  # fmt: skip
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        ask = InboxQuery(audiences=["base"], program="p", base="b1", limit=100, cursor=cursor)
        page = use_cases.inbox(engine, ask)
        pages += 1
        assert len(page.model_dump_json().encode()) <= REPLY_BUDGET_BYTES + 1024
        seen += [n.title_en for n in page.notices]
        cursor = page.next_cursor
        if cursor is None:
            break
    mine = [f"notice {n}" for n in reversed(range(300)) if n % 3]
    assert seen == mine and pages > 2  # 200 notices of ~6 KB: more pages than the count needs
    engine.dispose()
