"""A plain progress bar on stderr and aligned summary tables, for long operator commands."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence


class Progress:
    def __init__(self, label: str, total: int, enabled: bool = True) -> None:
        self._label, self._total, self._enabled = (
            label,
            max(total, 1),
            enabled and sys.stderr.isatty(),
        )
        self._started = time.monotonic()

    def update(self, done: int, label: str | None = None) -> None:
        if not self._enabled:
            return
        width = 30
        filled = int(width * done / self._total)
        sys.stderr.write(
            f"\r{label or self._label:<16} [{'#' * filled}{'.' * (width - filled)}] "
            f"{done}/{self._total}"
            f"  {time.monotonic() - self._started:5.1f}s"
        )
        if done >= self._total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(_width(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(c) > 0x2E80 else 1 for c in text)
