"""Progress bars on stderr for long operator commands, drawn by rich, on a terminal only: a
redirected or captured stderr (scripts, tests, CI logs) gets none, stdout is never touched."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class Bars:
    """One bar per phase (``fetching``, ``events``, a simulated year's stages), all in one
    display: rich allows a single live display at a time."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            disable=not sys.stderr.isatty(),
        )
        self._phases: dict[str, TaskID] = {}

    def __enter__(self) -> Bars:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def update(self, phase: str, done: int, total: int) -> None:
        total = max(total, 1)
        if phase not in self._phases:
            self._phases[phase] = self._progress.add_task(phase, total=total)
        self._progress.update(self._phases[phase], completed=done, total=total)
