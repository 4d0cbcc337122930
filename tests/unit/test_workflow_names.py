"""The names clients call the workflows by are the names the workflows answer to.

The gateway reaches the workflows only through ``shared.contracts.workflow_names`` and the
contracts; a renamed handler or a changed answer type must fail here, not in production."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.workflow import _Definition

from shared.contracts import workflow_names as names
from shared.contracts.cycle import UPDATE_RESULTS
from workflows.cycle import AnnualCycleWorkflow
from workflows.launch import LaunchYearWorkflow
from workflows.program_year import ProgramYearWorkflow


def _defn(cls: type) -> Any:
    return _Definition.from_class(cls)


@pytest.mark.parametrize(
    ("cls", "name"),
    [
        (AnnualCycleWorkflow, names.CYCLE_WORKFLOW),
        (ProgramYearWorkflow, names.PROGRAM_YEAR_WORKFLOW),
        (LaunchYearWorkflow, names.LAUNCH_WORKFLOW),
    ],
)
def test_workflow_types_are_registered_under_the_shared_names(cls: type, name: str) -> None:
    assert _defn(cls).name == name


def test_a_cycle_answers_every_shared_update_signal_and_query_name() -> None:
    d = _defn(AnnualCycleWorkflow)
    assert set(d.updates) == set(UPDATE_RESULTS)
    assert set(d.signals) == {
        names.FINALIZE,
        names.REOPEN_REVIEW,
        names.BASE_DELISTED,
        names.PRIOR_CYCLE_ENDED,
        names.CALENDAR_APPLIED,
        names.PLANS_FORWARDED,
    }
    assert set(d.queries) == {names.STATE}


@pytest.mark.parametrize("update", sorted(UPDATE_RESULTS))
def test_clients_decode_each_update_answer_as_the_cycle_returns_it(update: str) -> None:
    assert _defn(AnnualCycleWorkflow).updates[update].ret_type is UPDATE_RESULTS[update]


def test_a_program_year_answers_every_shared_name() -> None:
    d = _defn(ProgramYearWorkflow)
    assert set(d.updates) == {
        names.LODGE_OBJECTION,
        names.DECIDE_OBJECTION,
        names.REPORT_TARGET_ACTUALS,
        names.FORWARD_PLANS,
    }
    assert set(d.signals) == {
        names.CYCLE_GRADED,
        names.CYCLE_CONCLUDED,
        names.CALENDAR_APPLIED,
        names.AT_AGGREGATION,
    }
    assert set(d.queries) == {
        names.STATE,
        names.OBJECTIONS,
        names.OBJECTION_PAGE,
        names.TARGET_PROGRESS,
    }
