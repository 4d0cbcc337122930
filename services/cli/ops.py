"""Operator commands: replay histories, read the event log, simulate a year."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import nats
from nats.js.api import ConsumerConfig, DeliverPolicy
from temporalio.client import Client, WorkflowHistory
from temporalio.service import RPCError

from services.cli.progress import Bars
from shared.clients import nats_options
from shared.domain.rules import ProgramRules
from shared.eventlog import read_events
from shared.events.envelope import CloudEvent
from shared.events.subjects import event_filter
from shared.rpc import ServiceUnavailable
from shared.settings import DEPLOY_DIR, Settings
from shared.stream import EVENTS_STREAM
from shared.temporal import connect_temporal
from shared.text_table import text_table as table
from workflows.registry import WORKFLOWS
from workflows.replay import history_files, load_history_file, replay_spread
from workflows.replay_advice import next_steps, summary


async def _server_histories(
    client: Client, ids: Sequence[str], query: str | None, progress: Bars | None
) -> list[WorkflowHistory]:
    wanted = list(ids)
    if query is not None:
        wanted += [w.id async for w in client.list_workflows(query)]
    histories = []
    for n, workflow_id in enumerate(wanted, 1):
        histories.append(await client.get_workflow_handle(workflow_id).fetch_history())
        if progress:
            progress.update("fetching", n, len(wanted))
    return histories


def replay_command(
    settings: Settings,
    *,
    workflow_ids: list[str],
    program: str | None,
    year: int | None,
    all_: bool,
    paths: list[Path],
    processes: int,
    as_json: bool,
    workflows: Sequence[type] = WORKFLOWS,
) -> int:
    """Replay histories (files, or fetched from the server) against ``workflows``, this code's
    by default, over ``processes`` cores (0: every core); under each failure, what to do next
    (workflows/README.md)."""
    query = None
    if all_:
        query = "WorkflowType = 'AnnualCycleWorkflow' OR WorkflowType = 'ProgramYearWorkflow'"
    elif program:
        query = f"NavProgram = '{program}'" + (f" AND NavYear = {year}" if year else "")

    files = {str(f): load_history_file(f) for f in history_files(paths)}
    # A history does not say where it came from: the file it was read from, or the server.
    sources = {history.workflow_id: name for name, history in files.items()}

    async def fetch(progress: Bars) -> list[WorkflowHistory]:
        client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
        return await _server_histories(client, workflow_ids, query, progress)

    with Bars() as progress:
        histories = list(files.values())
        if workflow_ids or query:
            histories += asyncio.run(fetch(progress))
        outcomes = replay_spread(
            histories,
            processes=processes or None,
            workflows=workflows,
            progress=lambda done, total: progress.update("replaying", done, total),
        )
    failed = [o for o in outcomes if not o.ok]
    advice = {
        o.workflow_id: next_steps(o.workflow_id, o.reason, sources.get(o.workflow_id, "server"))
        for o in failed
    }
    if as_json:
        print(
            json.dumps(
                [{**o.__dict__, "next_steps": advice.get(o.workflow_id)} for o in outcomes],
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        rows = [
            (o.workflow_id, "ok" if o.ok else "FAILED", summary(o.reason)[:120]) for o in outcomes
        ]
        print(table(["workflow", "replay", "reason"], rows) if rows else "no histories to replay")
        for text in advice.values():
            print(f"\n{text}")
        print(f"\n{len(outcomes)} replayed, {len(failed)} failed")
    if not outcomes:
        return 2
    return 1 if failed else 0


def events_command(
    settings: Settings,
    *,
    follow: bool,
    program: str | None,
    year: int | None,
    base: str | None,
    event_type: str | None,
    since_seq: int | None,
    since: datetime | None,
    as_json: bool,
) -> int:
    subject = event_filter(program, year, base, event_type)

    def show(seq: int, event: CloudEvent) -> None:
        if as_json:
            print(
                json.dumps({"seq": seq, **event.model_dump(mode="json")}, ensure_ascii=False),
                flush=True,
            )
        else:
            print(
                f"{seq:>8}  {event.time.isoformat()}  {event.subject:<40} {event.type}", flush=True
            )

    async def run() -> None:
        nc = await nats.connect(**nats_options(settings))
        try:
            js = nc.jetstream()
            if not follow:
                for seq, event in await read_events(
                    js, subject, since_seq=since_seq, since_time=since
                ):
                    show(seq, event)
                return
            config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
            if since_seq is not None:
                config = ConsumerConfig(
                    deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=since_seq
                )
            sub = await js.subscribe(
                subject, stream=EVENTS_STREAM, ordered_consumer=True, config=config
            )
            async for msg in sub.messages:
                show(msg.metadata.sequence.stream, CloudEvent.from_json(msg.data))
        finally:
            await nc.close()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


def quiet_temporal_core() -> None:
    """The SDK core writes its warnings to stdout; keep stdout for our output."""
    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

    telemetry = TelemetryConfig(
        logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
    )
    Runtime.set_default(Runtime(telemetry=telemetry), error_if_already_set=False)


def _demo_program(
    settings: Settings, *, program: str | None, preset: str, virtual: bool
) -> ProgramRules | str:
    """The simulation program a demo plays, or why there is none (a bilingual error). Nothing
    is written here: a program of the record is refused before anything is touched."""
    from services.sim.live import program_on_stack
    from services.sim.programs import NotASimulation, simulation_of
    from shared.domain.rules import load_rules_file

    if program is None:
        path = DEPLOY_DIR / "programs" / f"{preset}.yaml"
        if not path.exists():
            return f"没有预设“{preset}” / no preset {preset!r} in {path.parent}"
        return simulation_of(load_rules_file(path))
    rules = None if virtual else asyncio.run(program_on_stack(settings, program))
    if rules is None:
        path = DEPLOY_DIR / "programs" / f"{program}.yaml"
        if not path.exists():
            where = "" if virtual else "on the stack or "
            return f"没有项目“{program}” / no program {program!r} {where}in {path.parent}"
        rules = load_rules_file(path)
    return rules if rules.simulation else str(NotASimulation(program))


def demo_command(
    settings: Settings,
    *,
    program: str | None,
    preset: str,
    bases: int,
    virtual: bool,
    seed: int,
    year: int | None,
    as_json: bool,
) -> int:
    """A whole program year with synthetic people, on a simulation program only: on the
    running stack in real time, or under the time-skipping server with ``--virtual``."""
    from services.sim.live import run_live_year
    from services.sim.virtual import run_virtual_year

    try:
        found = _demo_program(settings, program=program, preset=preset, virtual=virtual)
    except (ServiceUnavailable, OSError) as exc:
        print(f"error: {exc}; is the stack up (`navcycle up`)?", file=sys.stderr)
        return 3
    if isinstance(found, str):
        print(f"error: {found}", file=sys.stderr)
        return 2
    rules = found

    def launched(y: int) -> None:
        print(f"{rules.id} {y}: launched on the running stack 已启动", file=sys.stderr)

    try:
        with Bars() as bars:
            summary = asyncio.run(
                run_virtual_year(rules, bases=bases, seed=seed, progress=bars.update)
                if virtual
                else run_live_year(
                    settings,
                    rules,
                    bases=bases,
                    year=year,
                    seed=seed,
                    progress=bars.update,
                    on_launch=launched,
                )
            )
    except (ServiceUnavailable, RPCError, OSError) as exc:
        hint = "" if virtual else "; is the stack up (`navcycle up`)?"
        print(f"error: {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
        return 3
    if as_json:
        print(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
        return 0
    labels = {
        "excellent": "优秀 excellent",
        "pass": "合格 pass",
        "fail": "不合格 fail",
        "excluded": "未纳入 excluded",
    }
    print(
        table(
            ["grade 等级", "bases"],
            [(labels.get(g, g), n) for g, n in summary.grades.most_common()],
        )
    )
    print()
    print(table(["outcome 结果", "bases"], list(summary.outcomes.most_common())))
    print()
    print(table(["city 地市", "overdue 逾期"], sorted(summary.overdue_by_city.items())))
    if summary.refused:
        print()
        print(table(["refused 被拒 (too late)", "inputs"], sorted(summary.refused.items())))
    span = f"{summary.virtual_days:.0f} virtual days in " if virtual else ""
    late = f", {summary.late_refused} late plans refused" if summary.late_refused else ""
    print(
        f"\n{summary.program} {summary.year}: {summary.bases} bases, {span}"
        f"{summary.elapsed_s:.1f} s{late}; "
        f"{summary.recomputed} grades recomputed from their decision records, "
        f"{len(summary.recompute_mismatches)} mismatches"
    )
    return 1 if summary.recompute_mismatches else 0


def whatif_command(
    settings: Settings, *, program: str, year: int, rules_file: Path, as_json: bool
) -> int:
    """Re-grade a finished year under other rules, from its decision records; changes nothing."""
    from shared.domain.grading import DecisionRecord, regrade_year
    from shared.domain.rules import RulesError, load_rules_file

    try:
        rubric = load_rules_file(rules_file).rubric
    except (RulesError, OSError) as exc:
        print(f"error: {rules_file}: {exc}", file=sys.stderr)
        return 2

    async def records() -> list[DecisionRecord]:
        nc = await nats.connect(**nats_options(settings))
        try:
            events = await read_events(
                nc.jetstream(), event_filter(program, year, event_type="review.graded")
            )
        finally:
            await nc.close()
        return [DecisionRecord.model_validate(e.data) for _, e in events]

    found = asyncio.run(records())
    if not found:
        print(f"error: no graded cycles of {program}/{year} in the event log", file=sys.stderr)
        return 2
    try:
        outcome = regrade_year(found, rubric)
    except ValueError as exc:
        print(f"error: those rules cannot re-grade this year: {exc}", file=sys.stderr)
        return 2
    changed = [r for r in outcome if r.new_grade != r.old_grade]
    if as_json:
        print(json.dumps([r.__dict__ for r in outcome], ensure_ascii=False, indent=2, default=str))
        return 0
    rows = [
        (
            r.base,
            f"{r.old_total} {r.old_grade.value}",
            f"{r.new_total} {r.new_grade.value}",
            f"{r.reason_zh} / {r.reason}",
        )
        for r in changed
    ]
    header = ["base 基地", "official 正式", "what if 假设", "why 理由"]
    print(table(header, rows) if rows else "no grade would change / 无等级变化")
    print(
        f"\n{len(outcome)} bases re-graded from their decision records, "
        f"{len(changed)} would change; the official results are untouched"
    )
    return 0


def reset_command(
    settings: Settings,
    *,
    workflow_ids: list[str],
    program: str | None,
    year: int | None,
    to: str,
    reason: str,
    dry_run: bool,
    as_json: bool,
) -> int:
    """Move cycles back to a stage (e.g. under_review after a scoring mistake), with a reason
    recorded as an operator.action audit event."""
    from shared import audit
    from workflows.reset import NoResetPoint, find_reset_point, reset_to

    if not reason.strip():
        print("error: --reason is required and must say why", file=sys.stderr)
        return 2

    async def run() -> list[dict[str, str]]:
        client = await connect_temporal(settings.temporal_address, settings.temporal_namespace)
        ids = list(workflow_ids)
        if program:
            query = f"WorkflowType = 'AnnualCycleWorkflow' AND NavProgram = '{program}'"
            query += f" AND NavYear = {year}" if year else ""
            ids += [w.id async for w in client.list_workflows(query)]
        rows = []
        nc = None if dry_run else await nats.connect(**nats_options(settings))
        try:
            for workflow_id in ids:
                history = await client.get_workflow_handle(workflow_id).fetch_history()
                try:
                    point = find_reset_point(history, to)
                except NoResetPoint as exc:
                    rows.append(
                        {"workflow_id": workflow_id, "status": "skipped", "detail": str(exc)}
                    )
                    continue
                if dry_run:
                    rows.append(
                        {
                            "workflow_id": workflow_id,
                            "status": "would reset",
                            "detail": f"to {to} at event {point.workflow_task_completed_id}",
                        }
                    )
                    continue
                run_id = await reset_to(client, point, reason)
                _, prog, yr, base = workflow_id.split("/")
                assert nc is not None
                await audit.record(
                    nc.jetstream(),
                    audit.operator_action(
                        actor=audit.cli_actor(),
                        via="cli",
                        action="reset",
                        target=workflow_id,
                        reason=reason,
                        arguments={"to": to, "new_run_id": run_id},
                        program=prog,
                        year=int(yr),
                        base=base,
                    ),
                )
                rows.append(
                    {"workflow_id": workflow_id, "status": "reset", "detail": f"new run {run_id}"}
                )
        finally:
            if nc is not None:
                await nc.close()
        return rows

    rows = asyncio.run(run())
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        print(
            table(["workflow", "status", "detail"], [list(r.values()) for r in rows])
            if rows
            else "no cycles matched"
        )
    return 0 if rows and all(r["status"] != "skipped" for r in rows) else 1


def dashboard_rebuild_command(settings: Settings, *, as_json: bool) -> int:
    """Rebuild every dashboard projection from sequence 1 of the event log, aside, and swap."""
    from services.dashboard.rebuild import RebuildReport, rebuild
    from services.dashboard.tables import MIGRATIONS as DASHBOARD_MIGRATIONS
    from shared.audit import cli_actor, operator_action, record
    from shared.db import make_engine
    from shared.migrations import upgrade

    engine = make_engine(settings.database_url_for("dashboard"))
    upgrade(engine, DASHBOARD_MIGRATIONS)

    async def run() -> RebuildReport:
        nc = await nats.connect(**nats_options(settings))
        try:
            js = nc.jetstream()
            # Recorded first, so the rebuilt projections include their own audit event.
            await record(
                js,
                operator_action(
                    actor=cli_actor(),
                    via="cli",
                    action="dashboard.rebuild",
                    target="dashboard projections",
                ),
            )
            total = (await js.stream_info(EVENTS_STREAM)).state.last_seq
            with Bars() as bars:
                return await rebuild(js, engine, lambda done: bars.update("events", done, total))
        finally:
            await nc.close()

    report = asyncio.run(run())
    if as_json:
        print(json.dumps({**asdict(report), "rate": round(report.rate)}))
        return 0
    print(
        table(
            ["rebuilt 重建", ""],
            [
                ("events 事件", report.events),
                ("arrived while rebuilding 重建期间到达", report.caught_up),
                ("unreadable, skipped 无法读取而跳过", report.skipped),
                ("checkpoint 检查点", report.stream_seq),
                ("seconds 秒", f"{report.seconds:.2f}"),
                ("events/s 事件/秒", f"{report.rate:,.0f}"),
            ],
        )
    )
    return 0
