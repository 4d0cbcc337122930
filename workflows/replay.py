"""Replaying recorded workflow histories against the code as it is now, on every core.

One Replayer runs on one core; :func:`replay_spread` splits the histories over worker
processes (spawned, each with its own Replayer) and gives the outcomes back in the histories'
order, reporting each finished share to ``progress``.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
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


# Below this many histories a process's start (importing the SDK and the workflows, about a
# second) costs more than the replays; they are replayed here.
SPREAD_FROM = 40
SHARES_PER_PROCESS = 4  # smaller shares even out histories of different lengths


def default_processes() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _replay_share(share: list[tuple[str, str]], workflows: Sequence[type]) -> list[ReplayOutcome]:
    """In a worker process: the histories of one share, as (workflow id, JSON). Its answer is
    its return value; what the SDK core prints (its warnings go to stdout) goes to stderr, so
    the parent's stdout (``navcycle replay --json``) stays its own."""
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    histories = [WorkflowHistory.from_json(wid, text) for wid, text in share]
    return asyncio.run(replay(histories, workflows))


def replay_spread(
    histories: Sequence[WorkflowHistory],
    *,
    processes: int | None = None,
    workflows: Sequence[type] = WORKFLOWS,
    progress: Callable[[int, int], None] | None = None,
) -> list[ReplayOutcome]:
    """Every history replayed, over ``processes`` worker processes (one per core by default);
    the outcomes in the order of ``histories``."""
    processes = max(1, processes or default_processes())
    if processes == 1 or len(histories) < SPREAD_FROM:
        outcomes = asyncio.run(replay(histories, workflows))
        if progress:
            progress(len(histories), len(histories))
        return outcomes
    encoded = [(h.workflow_id, h.to_json()) for h in histories]
    count = min(len(encoded), processes * SHARES_PER_PROCESS)
    shares = [list(range(i, len(encoded), count)) for i in range(count)]
    results: list[ReplayOutcome | None] = [None] * len(encoded)
    done = 0
    spawn = multiprocessing.get_context("spawn")  # no copy of this process's SDK threads
    with ProcessPoolExecutor(max_workers=processes, mp_context=spawn) as pool:
        futures = {
            pool.submit(_replay_share, [encoded[i] for i in share], list(workflows)): share
            for share in shares
        }
        for future in as_completed(futures):
            share = futures[future]
            for index, outcome in zip(share, future.result(), strict=True):
                results[index] = outcome
            done += len(share)
            if progress:
                progress(done, len(encoded))
    return [outcome for outcome in results if outcome is not None]
