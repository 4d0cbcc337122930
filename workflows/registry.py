"""What the worker registers: every workflow and the activity methods of one instance."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflows.activities import CycleActivities
from workflows.cycle import AnnualCycleWorkflow
from workflows.launch import LaunchYearWorkflow
from workflows.program_year import ProgramYearWorkflow

WORKFLOWS: list[type] = [ProgramYearWorkflow, AnnualCycleWorkflow, LaunchYearWorkflow]


def activity_methods(acts: CycleActivities) -> list[Callable[..., Any]]:
    return [
        acts.publish_event,
        acts.register_document,
        acts.record_filing,
        acts.load_rules,
        acts.list_bases,
        acts.set_base_status,
        acts.resolve_deadline,
        acts.store_results,
        acts.record_ledger,
        acts.publish_results,
        acts.count_grades,
        acts.has_published_result,
        acts.open_cycles,
        acts.launch_program_year,
        acts.finalize_cycles,
        acts.decide_outcomes,
        acts.store_target_actuals,
        acts.read_target_actuals,
        acts.open_assignments,
        acts.reassign_experts,
        acts.end_later_cycles,
        acts.signal_cycles,
        acts.current_experts,
        acts.base_status,
    ]
