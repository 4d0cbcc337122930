"""Registry persistence: keyword-only functions over a session."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, func, select

from services.registry.tables import BaseRow, BaseStatusChangeRow, RulesVersion
from shared.contracts.registry import BasePublic, BaseRegistration
from shared.domain.regions import region_prefix
from shared.domain.rules import ProgramRules, rules_digest


def current_rules(session: Session, *, program: str) -> RulesVersion | None:
    return session.exec(
        select(RulesVersion)
        .where(RulesVersion.program == program)
        .order_by(col(RulesVersion.version).desc())
        .limit(1)
    ).first()


def apply_rules(session: Session, *, rules: ProgramRules) -> tuple[RulesVersion, bool]:
    """Store the rules as a new version unless they equal the current one."""
    digest = rules_digest(rules)
    current = current_rules(session, program=rules.id)
    if current is not None and current.digest == digest:
        return current, False
    row = RulesVersion(
        program=rules.id,
        version=(current.version + 1) if current else 1,
        digest=digest,
        document=rules.model_dump(mode="json", by_alias=True),
    )
    session.add(row)
    session.flush()
    return row, True


def to_public(row: BaseRow) -> BasePublic:
    return BasePublic.model_validate(
        {
            "program": row.program,
            "id": row.id,
            "name": row.name,
            "region": row.region,
            "domain": row.domain,
            "host_type": row.host_type,
            "kind": row.kind or None,
            "staff": {"total": row.staff_total, "senior_full_time": row.senior_full_time},
            "pct_minimum_data": row.pct_minimum_data,
            "declarations": row.declarations or {},
            "status": row.status,
        }
    )


def add_base(
    session: Session, *, program: str, reg: BaseRegistration, kind: str | None = None
) -> BaseRow:
    """Store a base; ``kind`` is the participant kind resolved against the rules (None: the
    kind the registration names, empty for the program's first or only kind)."""
    row = BaseRow(
        program=program,
        id=reg.id,
        name=reg.name,
        region=reg.region,
        domain=reg.domain,
        host_type=reg.host_type,
        kind=reg.kind or "" if kind is None else kind,
        staff_total=reg.staff.total,
        senior_full_time=reg.staff.senior_full_time,
        pct_minimum_data=reg.pct_minimum_data,
        declarations={k: a.model_dump() for k, a in reg.declarations.items()},
    )
    session.add(row)
    session.flush()
    return row


def update_registration(
    session: Session, *, row: BaseRow, reg: BaseRegistration, kind: str
) -> BaseRow:
    """A re-application: the base's registration as it is now (its status is changed apart)."""
    row.name, row.region, row.domain, row.host_type = (
        reg.name,
        reg.region,
        reg.domain,
        reg.host_type,
    )
    row.kind = kind
    row.staff_total, row.senior_full_time = reg.staff.total, reg.staff.senior_full_time
    row.pct_minimum_data = reg.pct_minimum_data
    row.declarations = {k: a.model_dump() for k, a in reg.declarations.items()}
    session.add(row)
    session.flush()
    return row


def get_base(session: Session, *, program: str, base: str) -> BaseRow | None:
    return session.get(BaseRow, (program, base))


def bases_page(
    session: Session, *, program: str, after: str | None, limit: int, exclude_status: str
) -> list[BaseRow]:
    query = select(BaseRow).where(BaseRow.program == program, BaseRow.status != exclude_status)
    if after:
        query = query.where(BaseRow.id > after)
    return list(session.exec(query.order_by(col(BaseRow.id)).limit(limit)))


def count_bases(session: Session, *, program: str, exclude_status: str) -> int:
    """How many of the program's bases are not in ``exclude_status``."""
    query = select(func.count()).select_from(BaseRow)
    return session.exec(
        query.where(BaseRow.program == program, BaseRow.status != exclude_status)
    ).one()


def list_bases(
    session: Session,
    *,
    program: str,
    status: str | None,
    region: str | None,
    after: str | None = None,
    limit: int | None = None,
) -> list[BaseRow]:
    """The program's bases in id order, after ``after``, at most ``limit``."""
    query = select(BaseRow).where(BaseRow.program == program)
    if status:
        query = query.where(BaseRow.status == status)
    if region:
        query = query.where(col(BaseRow.region).startswith(region_prefix(region)))
    if after:
        query = query.where(BaseRow.id > after)
    query = query.order_by(col(BaseRow.id))
    return list(session.exec(query if limit is None else query.limit(limit)))


def current_rules_all(session: Session) -> list[RulesVersion]:
    programs = session.exec(select(RulesVersion.program).distinct()).all()
    rows = [current_rules(session, program=p) for p in sorted(programs)]
    return [r for r in rows if r is not None]


def active_domains(session: Session, *, program: str) -> set[str]:
    rows = session.exec(
        select(BaseRow.domain).where(BaseRow.program == program, BaseRow.status != "delisted")
    )
    return set(rows)


# A base's status: every change through record_status, so each one is on the record.


def lock_base(session: Session, *, program: str, base: str) -> BaseRow | None:
    """The base, locked for this transaction (PostgreSQL), so two cycles' requests queue."""
    return session.get(BaseRow, (program, base), with_for_update=True)


def record_status(
    session: Session,
    *,
    row: BaseRow,
    status: str,
    reason: str,
    by: str,
    year: int | None,
    at: datetime,
) -> BaseStatusChangeRow:
    """Set the base's status and record who changed it, why and when."""
    last = session.exec(
        select(func.max(BaseStatusChangeRow.change)).where(
            BaseStatusChangeRow.program == row.program, BaseStatusChangeRow.base == row.id
        )
    ).one()
    change = BaseStatusChangeRow(
        program=row.program,
        base=row.id,
        change=(last or 0) + 1,
        from_status=row.status,
        to_status=status,
        reason=reason,
        by=by,
        year=year,
        at=at,
    )
    row.status, row.status_reason = status, reason[:500]
    if status == "delisted":
        row.delisted_at, row.delisted_in_year = at, year
    else:
        row.delisted_at, row.delisted_in_year = None, None
    session.add(row)
    session.add(change)
    session.flush()
    return change


def status_history(session: Session, *, program: str, base: str) -> list[BaseStatusChangeRow]:
    return list(
        session.exec(
            select(BaseStatusChangeRow)
            .where(BaseStatusChangeRow.program == program, BaseStatusChangeRow.base == base)
            .order_by(col(BaseStatusChangeRow.change))
        )
    )
