"""Outcome decisions when a year's results become final: the earlier years' final grades read
back from their published notices, the outcome rules applied to each base, and one
``outcome.decided`` event per decision.

The earlier years' final grades are what their latest notice states (the 公示 and each 补充公示
are stored under ``results_key(program, year, n)``, numbered without gaps; the last one stands).
Only the years the rules look back on are read. Every input is fixed once the year is final, so
a retried activity decides the same and republishes the same event ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from shared.contracts.activities import DecideOutcomesRequest
from shared.contracts.results import ResultsNotice, parse_results, results_key
from shared.domain.outcome_rules import FinalGrade, decide_outcomes, lookback
from shared.events.envelope import YEAR_SOURCE, CloudEvent, new_event
from shared.events.payloads import OutcomeDecided
from shared.objectstore import ObjectStore

MAX_NOTICES = 100  # a year has a handful of supplementary notices


async def latest_notice(objects: ObjectStore, program: str, year: int) -> ResultsNotice | None:
    """The year's last published notice, or None when nothing was published that year."""
    number = 0
    while number < MAX_NOTICES and await objects.stat(results_key(program, year, number + 1)):
        number += 1
    if number == 0:
        return None
    raw = await objects.get(results_key(program, year, number))
    return parse_results(raw, program=program, year=year)


async def earlier_grades(
    objects: ObjectStore, program: str, year: int, years: int
) -> dict[str, dict[int, FinalGrade | None]]:
    """Base → earlier year → its final grade, for the ``years`` years before ``year``."""
    found: dict[str, dict[int, FinalGrade | None]] = {}
    for earlier in range(year - years, year):
        notice = await latest_notice(objects, program, earlier)
        for entry in notice.entries if notice else []:
            found.setdefault(entry.base, {})[earlier] = entry.grade
    return found


async def decided_events(
    objects: ObjectStore, req: DecideOutcomesRequest, progress: Callable[[int], None]
) -> list[CloudEvent]:
    """Every decision of the year as its event, bases in order, numbered from the request's."""
    history = await earlier_grades(objects, req.program, req.year, lookback(req.rules))
    events: list[CloudEvent] = []
    for i, (base, grade) in enumerate(sorted(req.grades.items())):
        final = cast(FinalGrade, grade.value)
        for decision in decide_outcomes(req.rules, final, history.get(base, {}), year=req.year):
            events.append(
                new_event(
                    payload=OutcomeDecided(**decision.model_dump()),
                    program=req.program,
                    year=req.year,
                    base=base,
                    time=req.decided_at,
                    stream_key=req.stream_key,
                    sequence=req.first_sequence + len(events),
                    source=YEAR_SOURCE,
                )
            )
        if i % 500 == 0:
            progress(i)
    return events
