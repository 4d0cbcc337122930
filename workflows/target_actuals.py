"""Where the program years keep their reported target actuals: JSON objects per program and year
in the object store, written when the province reports and read back by later years'
checkpoints (a closed program year's workflow may be gone; the objects stay with the results).

Objects are never overwritten (the store refuses other bytes under a key), so a later report
that replaces a year's actuals is stored beside the earlier ones, numbered without gaps as the
results notices are: ``actuals.json`` for the first, ``actuals-2.json``, ``actuals-3.json`` for
the next; the highest number stands. Storing is idempotent: a retried activity finds its own
bytes as the last object and writes nothing more.
"""

from __future__ import annotations

import json
from typing import Any

from shared.objectstore import ObjectStore, sha256_hex

MAX_REPORTS = 1000  # a year is reported a handful of times


def actuals_key(program: str, year: int, number: int = 1) -> str:
    name = "actuals.json" if number == 1 else f"actuals-{number}.json"
    return f"targets/{program}/{year}/{name}"


async def _last_number(objects: ObjectStore, program: str, year: int) -> int:
    """The number of the year's latest stored report; 0 when there is none."""
    number = 0
    while number < MAX_REPORTS and await objects.stat(actuals_key(program, year, number + 1)):
        number += 1
    return number


async def store_actuals(
    objects: ObjectStore, program: str, year: int, actuals: dict[str, Any]
) -> None:
    data = json.dumps(actuals, sort_keys=True, ensure_ascii=False).encode()
    last = await _last_number(objects, program, year)
    if last:
        stored = await objects.stat(actuals_key(program, year, last))
        if stored is not None and stored.sha256 == sha256_hex(data):
            return  # these actuals already stand (a retry, or the same report again)
    if last >= MAX_REPORTS:
        raise ValueError(f"{program} {year}: more than {MAX_REPORTS} target reports")
    await objects.put(actuals_key(program, year, last + 1), data, "application/json")


async def read_actuals(
    objects: ObjectStore, program: str, years: list[int]
) -> dict[int, dict[str, Any]]:
    """The actuals of each year that has a report: its latest."""
    found: dict[int, dict[str, Any]] = {}
    for year in years:
        last = await _last_number(objects, program, year)
        if last:
            found[year] = json.loads(await objects.get(actuals_key(program, year, last)))
    return found
