"""The names by which processes reach the workflows: types, ids, updates, queries, signals.

The workflow classes register their handlers under these constants, and clients (the
gateway, the CLI, the activities) call them by these names with the contracts of
``shared.contracts``; so nothing outside ``workflows/`` needs the workflow code itself.
"""

from __future__ import annotations

# Workflow types
CYCLE_WORKFLOW = "AnnualCycleWorkflow"
PROGRAM_YEAR_WORKFLOW = "ProgramYearWorkflow"
LAUNCH_WORKFLOW = "LaunchYearWorkflow"

# A cycle's updates (human inputs) and its query
FILE_PLAN = "file_plan"
REVIEW_PLAN = "review_plan"
FILE_SELF_EVALUATION = "file_self_evaluation"
SUBMIT_SCORE = "submit_score"
FILE_RECTIFICATION = "file_rectification"
EXTEND_DEADLINE = "extend_deadline"
STATE = "state"  # both workflows answer their state under this query

# A cycle's signals
FINALIZE = "finalize"
REOPEN_REVIEW = "reopen_review"
BASE_DELISTED = "base_delisted"
PRIOR_CYCLE_ENDED = "prior_cycle_ended"
CALENDAR_APPLIED = "calendar_applied"  # a program year's too
PLANS_FORWARDED = "plans_forwarded"  # its region's aggregation step forwarded the plan

# A program year's updates, query and signals
LODGE_OBJECTION = "lodge_objection"
DECIDE_OBJECTION = "decide_objection"
OBJECTIONS = "objections"
OBJECTION_PAGE = "objection_page"  # a bounded page of them (the API's list)
REPORT_TARGET_ACTUALS = "report_target_actuals"
TARGET_PROGRESS = "target_progress"
CYCLE_GRADED = "cycle_graded"
CYCLE_CONCLUDED = "cycle_concluded"
FORWARD_PLANS = "forward_plans"  # a region forwards its units' plans (an aggregation step)
AT_AGGREGATION = "at_aggregation"  # a cycle waits for (or has left) its region's forwarding


def cycle_id(program: str, year: int, base: str) -> str:
    return f"cycle/{program}/{year}/{base}"


def program_year_id(program: str, year: int) -> str:
    return f"program-year/{program}/{year}"


def schedule_id(program: str) -> str:
    """The Temporal Schedule that launches the program's years."""
    return f"launch/{program}"
