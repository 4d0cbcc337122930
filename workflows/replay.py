"""Replaying recorded workflow histories against the code as it is now."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.registry import WORKFLOWS


@dataclass(frozen=True)
class ReplayOutcome:
    workflow_id: str
    ok: bool
    reason: str = ""


def history_filename(scenario: str, workflow_id: str) -> str:
    """``<scenario>@<workflow id with / as ~>.json``: a history does not name its workflow."""
    return f"{scenario}@{workflow_id.replace('/', '~')}.json"


def load_history_file(path: Path) -> WorkflowHistory:
    _, _, encoded = path.stem.partition("@")
    workflow_id = encoded.replace("~", "/") if encoded else path.stem
    return WorkflowHistory.from_json(workflow_id, path.read_text())


def history_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.json")) if path.is_dir() else [path])
    return files


async def replay(
    histories: Sequence[WorkflowHistory], workflows: Sequence[type] = WORKFLOWS
) -> list[ReplayOutcome]:
    replayer = Replayer(workflows=list(workflows), data_converter=pydantic_data_converter)
    outcomes = []
    async with replayer.workflow_replay_iterator(_aiter(histories)) as results:
        async for result in results:
            error = result.replay_failure
            outcomes.append(
                ReplayOutcome(
                    workflow_id=result.history.workflow_id,
                    ok=error is None,
                    reason="" if error is None else f"{type(error).__name__}: {error}",
                )
            )
    return outcomes


async def _aiter(items: Sequence[WorkflowHistory]):  # type: ignore[no-untyped-def]
    for item in items:
        yield item
