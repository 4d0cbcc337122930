"""The next steps `navcycle replay` prints under a history that no longer replays."""

from __future__ import annotations

from workflows.replay_advice import first_mismatch, next_steps, removed_patch, summary

# As the SDK reports them (ReplayOutcome.reason), trimmed after the message.
REORDERED = (
    "NondeterminismError: Workflow activation completion failed: Failure { failure: "
    'Some(Failure { message: "[TMPRL1100] Nondeterminism error: Timer machine does not handle '
    'this event: HistoryEvent(id: 5, ActivityTaskScheduled)", source: "", stack_trace: ""'
)
NO_COMMAND = (
    "[TMPRL1100] Nondeterminism error: No command scheduled for event "
    "HistoryEvent(id: 12, Some(TimerStarted))"
)
REMOVED = (
    'Failure { message: "[TMPRL1100] Nondeterminism error: Non-deprecated patch marker '
    "encountered for change self-evaluation-notice, but there is no corresponding change "
    'command!", source: ""'
)


def test_the_first_mismatching_event_is_named_with_its_id_and_type() -> None:
    assert first_mismatch(REORDERED) == (
        "event 5 (ActivityTaskScheduled): Timer machine does not handle this event"
    )
    assert first_mismatch(NO_COMMAND) == "event 12 (TimerStarted): No command scheduled for event"
    assert summary(REORDERED).startswith("nondeterministic at event 5 (ActivityTaskScheduled)")


def test_a_reordered_command_gets_the_three_next_steps_and_the_guide() -> None:
    text = next_steps("cycle/p/2027/b", REORDERED, "tests/histories/x.json")
    assert text.startswith("cycle/p/2027/b (tests/histories/x.json) no longer replays")
    assert "first mismatch: history event 5 (ActivityTaskScheduled)" in text
    assert 'workflow.patched("<change-id>")' in text
    assert "until every cycle started before the change has closed" in text
    assert "navcycle reset --workflow-id cycle/p/2027/b --to <stage>" in text
    assert text.rstrip().endswith("workflows/README.md.")


def test_a_removed_patch_is_named_and_its_guard_kept() -> None:
    assert removed_patch(REMOVED) == "self-evaluation-notice"
    assert removed_patch(REORDERED) is None
    text = next_steps("cycle/p/2027/b", REMOVED)
    assert 'took the new path of patch "self-evaluation-notice"' in text
    assert 'workflow.deprecate_patch("self-evaluation-notice")' in text
    assert "roll forward, never back" in text


def test_a_failure_that_is_not_nondeterminism_points_at_the_data_instead() -> None:
    reason = "RuntimeError: Failed decoding arguments"
    assert first_mismatch(reason) is None and summary(reason) == reason
    text = next_steps("program-year/p/2027", reason, "server")
    assert "not on a changed command order" in text and "pydantic_data_converter" in text
    assert "navcycle reset" not in text
