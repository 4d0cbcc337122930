"""Where the program years keep their reported target actuals: one JSON object per program and
year in the object store, written when the province reports and read back by later years'
checkpoints (a closed program year's workflow may be gone; the object stays with the results)."""

from __future__ import annotations

import json
from typing import Any

from shared.objectstore import ObjectStore


def actuals_key(program: str, year: int) -> str:
    return f"targets/{program}/{year}/actuals.json"


async def store_actuals(
    objects: ObjectStore, program: str, year: int, actuals: dict[str, Any]
) -> None:
    data = json.dumps(actuals, sort_keys=True, ensure_ascii=False).encode()
    await objects.put(actuals_key(program, year), data, "application/json")


async def read_actuals(
    objects: ObjectStore, program: str, years: list[int]
) -> dict[int, dict[str, Any]]:
    """The actuals of each year that has a report."""
    found: dict[int, dict[str, Any]] = {}
    for year in years:
        key = actuals_key(program, year)
        if await objects.stat(key) is not None:
            found[year] = json.loads(await objects.get(key))
    return found
