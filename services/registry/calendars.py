"""The holiday tables a bureau maintains: stored versions and the merge rule (their RPCs are
``use_cases.apply_calendar`` and ``use_cases.get_calendar``).

Applying a table replaces the years it contains and keeps the stored years it does not mention,
so a bureau can apply the 2027 notice alone. A table equal to the stored one makes no version.
At startup the bundled tables (``deploy/calendars/*.yaml``) are applied only for years not
stored yet: a bureau's correction of a year is never overwritten by a redeploy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from services.registry.tables import CalendarVersion
from shared.contracts.calendars import CalendarVersionPublic
from shared.db import session_scope
from shared.domain.holidays import (
    HolidayTable,
    holiday_table_digest,
    holiday_table_document,
    load_holiday_table_file,
    parse_holiday_table,
)
from shared.logging import get_logger

log = get_logger("registry.calendars")


@dataclass(frozen=True)
class Applied:
    row: CalendarVersion
    created: bool
    years: list[int]


def current_calendar(session: Session, *, calendar: str) -> CalendarVersion | None:
    return session.exec(
        select(CalendarVersion)
        .where(CalendarVersion.calendar == calendar)
        .order_by(col(CalendarVersion.version).desc())
        .limit(1)
    ).first()


def apply_calendar(
    session: Session, *, table: HolidayTable, source: str, only_new_years: bool = False
) -> Applied:
    """Merge ``table`` into the stored one; a new version only when a year changed."""
    current = current_calendar(session, calendar=table.id)
    stored = parse_holiday_table(current.document) if current else None
    if stored is not None and only_new_years:
        fresh = {y: entry for y, entry in table.years.items() if y not in stored.years}
        table = HolidayTable(id=table.id, name=stored.name, years=fresh)
    merged = (stored or HolidayTable(id=table.id, name=table.name)).merged(table)
    digest = holiday_table_digest(merged)
    if current is not None and current.digest == digest:
        return Applied(row=current, created=False, years=[])
    years = stored.changed_years(merged) if stored else sorted(merged.years)
    row = CalendarVersion(
        calendar=merged.id,
        version=(current.version + 1) if current else 1,
        digest=digest,
        document=holiday_table_document(merged),
        source=source[:200],
    )
    session.add(row)
    session.flush()
    return Applied(row=row, created=True, years=years)


def to_public(row: CalendarVersion) -> CalendarVersionPublic:
    return CalendarVersionPublic(
        calendar=row.calendar,
        version=row.version,
        digest=row.digest,
        document=row.document,
        source=row.source,
        applied_at=row.applied_at,
    )


def load_bundled_calendars(engine: Engine, calendars_dir: Path) -> None:
    """Apply each bundled table for the years not stored yet."""
    for path in sorted(calendars_dir.glob("*.yaml")):
        table = load_holiday_table_file(path)
        with session_scope(engine) as session:
            applied = apply_calendar(
                session, table=table, source=f"bundled:{path.name}", only_new_years=True
            )
        if applied.created:
            log.info(
                "calendar.applied",
                calendar=table.id,
                version=applied.row.version,
                years=applied.years,
                source=path.name,
            )
