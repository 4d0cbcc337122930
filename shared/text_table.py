"""Plain-text tables people read on a terminal, laid out by rich: it measures each cell with
``rich.cells.cell_len``, so Chinese characters take their two columns and the columns line up."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich import box
from rich.console import Console
from rich.table import Table

# Wide enough that rich never wraps or crops a cell: a table is as wide as its longest rows.
_UNLIMITED = 100_000


def text_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, rule: bool = True
) -> str:
    """``headers`` over ``rows``, columns two spaces apart, no colour; with ``rule`` a line
    under the headers. Trailing spaces are trimmed from every line."""
    grid = Table(
        *(str(h) for h in headers),
        box=box.SIMPLE_HEAD if rule else None,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        header_style="",
    )
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    out = io.StringIO()
    Console(file=out, width=_UNLIMITED, color_system=None, highlight=False).print(grid)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines())
