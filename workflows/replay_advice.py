"""What an engineer does next when a recorded history no longer replays on the new code.

Pure text from the replay's failure reason: no Temporal, no I/O. `navcycle replay` prints it
under every failed history; workflows/README.md says the same at length.
"""

from __future__ import annotations

import re

GUIDE = "workflows/README.md"

# Core's message: "[TMPRL1100] Nondeterminism error: Timer machine does not handle this event:
# HistoryEvent(id: 5, ActivityTaskScheduled)", wrapped in the SDK's Failure { ... } text.
_CORE_MESSAGE = re.compile(r"Nondeterminism error: (?P<what>.*?)(?:\", source:|\"|$)")
_EVENT = re.compile(r"HistoryEvent\(id: (?P<id>\d+), (?:Some\()?(?P<type>[A-Za-z]+)")
# "Non-deprecated patch marker encountered for change <id>, but there is no corresponding change
# command!": the history took a patched path the code no longer (or not yet) knows.
_PATCH = re.compile(r"patch marker encountered for change (?P<id>.+?), but")


def is_nondeterminism(reason: str) -> bool:
    return "nondetermin" in reason.lower()


def first_mismatch(reason: str) -> str | None:
    """The first history event the new code disagrees with, as the error names it:
    ``event 5 (ActivityTaskScheduled): Timer machine does not handle this event``."""
    found = _CORE_MESSAGE.search(reason)
    if found is None:
        return None
    what = found["what"].strip()
    event = _EVENT.search(what)
    if event is None:
        return what or None
    said = what[: event.start()].rstrip(" :")
    where = f"event {event['id']} ({event['type']})"
    return f"{where}: {said}" if said else where


def removed_patch(reason: str) -> str | None:
    """The patch id a history recorded but the code does not call, if that is the failure."""
    found = _PATCH.search(reason)
    return found["id"] if found else None


def summary(reason: str) -> str:
    """One line for a table: the mismatch when the error names it, else the reason itself."""
    mismatch = first_mismatch(reason)
    return f"nondeterministic at {mismatch}" if mismatch else reason


def next_steps(workflow_id: str, reason: str, source: str | None = None) -> str:
    """The block printed under a failed history: which one, where, and what to do next."""
    name = f"{workflow_id} ({source})" if source else workflow_id
    if not is_nondeterminism(reason):
        return "\n".join(
            [
                f"{name} failed to replay, but not on a changed command order:",
                f"  {reason}",
                "  Check the history file and the data converter (pydantic_data_converter) "
                f"first; see {GUIDE}.",
            ]
        )
    patch = removed_patch(reason)
    if patch is not None:
        return _removed_patch_steps(name, workflow_id, patch)
    mismatch = first_mismatch(reason)
    lines = [f"{name} no longer replays: the code issues other commands than its history."]
    if mismatch:
        lines.append(f"  first mismatch: history {mismatch}")
    lines += [
        "  Next steps (one of):",
        '  1. guard the change: `if workflow.patched("<change-id>"):` the new path, `else:` '
        "the old one. Cycles that passed that point keep the old path on replay; cycles "
        "reaching it and new cycles take the new one.",
        "  2. keep the old code path (hold this deploy, or keep a worker on the old build) "
        "until every cycle started before the change has closed.",
        "  3. reset the affected cycles to a stage before the change: "
        f"`navcycle reset --workflow-id {workflow_id} --to <stage> --reason <why>` "
        "(`--dry-run` first).",
        f"  How and when to choose: {GUIDE}.",
    ]
    return "\n".join(lines)


def _removed_patch_steps(name: str, workflow_id: str, patch: str) -> str:
    return "\n".join(
        [
            f'{name} no longer replays: its history took the new path of patch "{patch}", and '
            f'this code does not call workflow.patched("{patch}") (the guard was removed, or '
            "this is an older release).",
            "  Next steps (one of):",
            f'  1. keep the guard: `workflow.patched("{patch}")` with both paths, or '
            f'`workflow.deprecate_patch("{patch}")` above the new path alone once no cycle '
            "without the patch can still run.",
            "  2. remove the guard only after every cycle that recorded the patch has closed; "
            "roll forward, never back to a release without it.",
            "  3. reset the affected cycles to a stage before the change: "
            f"`navcycle reset --workflow-id {workflow_id} --to <stage> --reason <why>` "
            "(`--dry-run` first).",
            f"  How and when to choose: {GUIDE}.",
        ]
    )
