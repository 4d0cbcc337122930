"""Histories the fault tests recorded when they met a bug, kept so it can be replayed in a second.

``stale-workflow-time``: cycle gw-1 of a faulty year, run 7 of the fault tests (2026-11-22). The
worker had been killed and restarted; a query for the cycle arrived while the workflow task for
its self-evaluation reminder timer (event 85) was pending. The worker handled that task (events
86-88) with a workflow time of 01:52:32.057, the start of the task before (event 82), not
01:55:50.064 (event 87): timer 5 (event 89) lasts 184.604601 s, exactly from the stale time to
the reminder it had just fired for. So the cycle re-armed a reminder that had passed, and opened
its review three minutes after the deadline. Replayed with the true times, the same code finds
the deadline passed and upserts the stage instead of starting a timer: TMPRL1100.

Where the time goes stale is below our code (Temporal core or server, queries meeting a pending
workflow task). What turned it into a wrong command was ``AnnualCycleWorkflow._wait_deadline``
deciding on ``workflow.now()`` alone after a timer fired. It now counts a fired timer as the time
reached, so a stale clock can no longer re-arm a reminder just sent or hold a deadline open. This
history keeps the duplicate reminder the old code issued, so no correct code replays it; the
strict xfail keeps it on record and fails if it ever replays (the clock or the rule changed).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workflows.replay import history_files, load_history_file, replay

HISTORIES = Path(__file__).resolve().parent / "histories"


@pytest.mark.xfail(
    strict=True,
    reason="recorded with a stale workflow time; its duplicate reminder is not what the code does",
)
async def test_a_cycle_recorded_with_a_stale_workflow_time_replays() -> None:
    [path] = [p for p in history_files([HISTORIES]) if p.name.startswith("stale-workflow-time@")]
    [outcome] = await replay([load_history_file(path)])
    assert outcome.ok, outcome.reason
