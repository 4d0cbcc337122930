"""``navcycle calendar``: the holiday tables a bureau maintains.

``apply FILE`` stores a table (the years it contains replace the stored ones; others are kept),
records who did it, publishes ``calendar.applied`` and tells running program years, which count
their provisional deadlines again. ``show ID`` prints the current version.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import nats
from nats.aio.client import Client as NatsClient

from services.cli.admin import Refused, run_audited, unrecorded
from shared import audit, calendar_signal
from shared.calendar_events import record_calendar_applied
from shared.clients import nats_options
from shared.contracts.calendars import (
    ApplyCalendar,
    CalendarApplyResult,
    CalendarVersionPublic,
    GetCalendar,
)
from shared.domain.holidays import (
    HolidayTableError,
    holiday_table_document,
    load_holiday_table_file,
    parse_holiday_table,
)
from shared.rpc import RpcClient, RpcError
from shared.settings import Settings
from shared.temporal import connect_temporal


def calendar_apply(settings: Settings, path: Path) -> int:
    try:
        table = load_holiday_table_file(path)
    except OSError as exc:
        print(f"error: {path}: {exc}", file=sys.stderr)
        return 2
    except HolidayTableError as exc:
        print(
            f"error: invalid_calendar: {path} 节假日表有误 / the table is invalid:", file=sys.stderr
        )
        for e in exc.errors:
            print(f"  {e['field']}: {e['message']}", file=sys.stderr)
        return 2

    async def apply(nc: NatsClient) -> tuple[CalendarApplyResult, int]:
        result = await RpcClient(nc, settings.rpc_timeout_s).call(
            "registry",
            "calendars.apply",
            ApplyCalendar(document=holiday_table_document(table), source=f"cli:{path.name}"),
            CalendarApplyResult,
        )
        with unrecorded(
            f"{result.calendar} version {result.version} is stored, but its audit record "
            "failed and running program years were not told"
        ):
            await record_calendar_applied(
                nc.jetstream(),
                result,
                actor=audit.cli_actor(),
                via="cli",
                arguments={"file": str(path)},
            )
        # Told even when nothing changed: a table stored while Temporal was away reaches the
        # program years when it is applied again (counting again is idempotent).
        client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
        signalled = await calendar_signal.calendar_applied(
            client, calendar_id=result.calendar, version=result.version, years=result.years
        )
        return result, signalled

    try:
        applied = run_audited(settings, apply)
    except RuntimeError as exc:  # Temporal unreachable: stored and recorded, not yet signalled
        print(
            f"error: the table is stored and recorded, but running program years were not "
            f"told (Temporal: {exc}); apply the same file again once Temporal answers",
            file=sys.stderr,
        )
        return 2
    if isinstance(applied, Refused):
        return 2
    result, signalled = applied
    if not result.created:
        print(
            f"{result.calendar}: unchanged, still version {result.version};"
            f" program years told again: {signalled}"
        )
        return 0
    years = ", ".join(map(str, result.years))
    print(
        f"{result.calendar}: new version {result.version}; years changed: {years}; "
        f"program years told: {signalled}"
    )
    return 0


def calendar_show(settings: Settings, calendar_id: str, *, as_json: bool) -> int:
    async def get() -> CalendarVersionPublic:
        nc = await nats.connect(**nats_options(settings), connect_timeout=3)
        try:
            return await RpcClient(nc, settings.rpc_timeout_s).call(
                "registry",
                "calendars.get",
                GetCalendar(calendar=calendar_id),
                CalendarVersionPublic,
            )
        finally:
            await nc.close()

    try:
        current = asyncio.run(get())
    except RpcError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    except (OSError, nats.errors.Error) as exc:
        print(f"error: NATS is unreachable: {exc}", file=sys.stderr)
        return 2
    if as_json:
        print(json.dumps(current.model_dump(mode="json"), ensure_ascii=False, indent=2))
        return 0
    table = parse_holiday_table(current.document)
    print(f"{table.id}  {table.name}")
    print(
        f"version {current.version}, applied {current.applied_at:%Y-%m-%d %H:%M} UTC, "
        f"from {current.source or '-'}"
    )
    for year, entry in table.years.items():
        print(
            f"  {year}: {len(entry.holidays)} 放假日 days off, "
            f"{len(entry.workdays)} 调休上班日 make-up working days — {entry.source}"
        )
    return 0
