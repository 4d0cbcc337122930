"""The cycle's clock: its deadlines, counted once and kept in state, and every wait on them.

A mixin of AnnualCycleWorkflow, apart so the cycle reads as its stages. Every wait ends early
when the base is de-listed (raising :class:`CycleEnded`) and counts open provisional deadlines
again when holiday data arrives; a deadline waited for is re-read on each wake-up, so an
extension or a recomputation takes effect at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from shared.contracts.activities import ResolvedDeadline
    from shared.contracts.calendars import CalendarApplied
    from shared.contracts.cycle import BaseDelisted, CycleInput, CycleState, DeadlineInfo
    from shared.domain.rules import ProgramRules
    from shared.domain.timespec import reminder_times
    from shared.events import payloads as ev
    from workflows.timing import resolve_spec

# The shortest timer armed: a wake-up already due (by the workflow clock) still waits a tick.
MIN_TIMER = timedelta(milliseconds=1)
DAY = timedelta(days=1)


class CycleEnded(Exception):
    """The base was de-listed: the cycle stops wherever it waits."""


class CycleClock:
    """Deadlines and waits; the workflow provides the state, the rules and its events."""

    _inp: CycleInput
    _rules: ProgramRules
    _tz: timezone
    _s: CycleState
    _ended: BaseDelisted | None
    _calendar: CalendarApplied | None
    _calendar_seen: int

    _claims: list[BaseDelisted]

    async def _emit(self, payload: ev.EventPayload) -> None:
        raise NotImplementedError

    async def _verify_claims(self) -> None:
        raise NotImplementedError

    async def _wait(self, condition: Callable[[], bool], within: timedelta | None = None) -> None:
        """Every wait of the cycle: ends early (raising CycleEnded) when the base is de-listed (a
        claim the registry confirms), and counts provisional deadlines again when holiday data
        arrives."""
        while True:
            seen = self._calendar_seen
            await workflow.wait_condition(
                functools.partial(self._woken, condition, seen), timeout=within
            )
            if self._claims:
                await self._verify_claims()
                if self._ended is None and not condition():
                    if within is not None:
                        return
                    continue
            if self._ended is not None:
                raise CycleEnded()
            if self._calendar_changed(seen):
                await self._recompute()
                if not condition():
                    # Deadlines may have moved: let the caller re-read them.
                    if within is not None:
                        return
                    continue
            return

    def _woken(self, condition: Callable[[], bool], seen: int) -> bool:
        return (
            condition()
            or self._ended is not None
            or bool(self._claims)
            or self._calendar_changed(seen)
        )

    def _calendar_changed(self, seen: int) -> bool:
        return self._calendar is not None and self._calendar_seen == seen

    async def _recompute(self) -> None:
        """Count every open provisional deadline again on the holiday data just applied, and
        record the old and new dates as a decision event."""
        applied = self._calendar
        assert applied is not None
        self._calendar, self._calendar_seen = None, self._calendar_seen + 1
        for name, info in list(self._s.deadline_info.items()):
            if not info.provisional or info.anchor is None:
                continue
            if self._s.deadlines[name] <= workflow.now():
                continue  # passed and acted on: the record keeps what was known then
            before = self._due(name)
            fresh = await self._resolve_spec(info.spec, info.anchor)
            self._store_deadline(name, info.spec, fresh, info.anchor)
            await self._emit(
                ev.DeadlineRecomputed(
                    deadline=name,
                    from_=before,
                    to=self._due(name),
                    calendar=applied.calendar,
                    calendar_version=applied.version,
                )
            )

    async def _wait_deadline(
        self, name: str, done: Callable[[], bool], remind: Callable[[], bool] | None = None
    ) -> bool:
        """Wait until ``done`` or the named deadline passes, sending reminders before it.

        Re-reads the deadline on each wake-up, so an extension or a recomputation takes effect at
        once. A timer that fired for ``wake`` means the cycle has reached ``wake``, whatever
        ``workflow.now()`` says: a worker once handled a task with the time of the task before
        (see tests/faults/test_recorded_histories.py), and re-armed the reminder it had just sent.
        """
        remind = remind or (lambda: not done())
        reached = workflow.now()
        while not done():
            due = self._s.deadlines[name]
            now = max(workflow.now(), reached)
            if now >= due:
                return done()
            upcoming = [
                t
                for t in reminder_times(due, self._rules.calendar.reminder_offsets, self._tz)
                if t > now
            ]
            wake = min([*upcoming, due])
            try:
                await self._wait(
                    functools.partial(self._done_or_moved, done, name, due),
                    within=max(wake - workflow.now(), MIN_TIMER),
                )
            except TimeoutError:
                reached = max(reached, wake)
                if wake < due and remind():
                    await self._emit(
                        ev.ReminderSent(deadline=name, **self._due(name), stage=self._s.stage.value)
                    )
        return True

    async def _filing_grace(self, name: str, done: Callable[[], bool]) -> bool:
        """A filing that reached the gateway before its deadline may reach the cycle after it (a
        large upload, a rush's queue): the deadline is acted on only after a grace as long as the
        trusted clock skew, and never more than a tenth of the period itself. The validators
        admit only arrivals stamped before the deadline meanwhile."""
        info = self._s.deadline_info.get(name)
        if done() or info is None or info.anchor is None:
            return done()
        skew = timedelta(seconds=self._inp.arrival_max_skew_s)
        grace = min(skew, (self._s.deadlines[name] - info.anchor) / 10)
        if grace <= timedelta(0):
            return done()
        try:
            await self._wait(done, within=grace)
        except TimeoutError:
            pass
        return done()

    async def _daily_reminders(self, name: str, done: Callable[[], bool]) -> None:
        """Keep waiting for a person, reminding them (and the province) once a day."""
        while not done():
            try:
                await self._wait(done, within=DAY)
            except TimeoutError:
                await self._emit(
                    ev.ReminderSent(deadline=name, **self._due(name), daily=True, escalation=True)
                )

    def _done_or_moved(self, done: Callable[[], bool], name: str, due: datetime) -> bool:
        return done() or self._s.deadlines[name] != due

    async def _escalate(self, deadline: str, to: str) -> None:
        await self._emit(
            ev.ReminderSent(deadline=deadline, **self._due(deadline), escalation=True, to=to)
        )

    async def _set_deadline(
        self, name: str, spec_name: str, anchor: datetime | None = None
    ) -> datetime:
        spec = getattr(self._rules.calendar, spec_name)
        at = anchor or workflow.now()
        self._store_deadline(name, spec, await self._resolve_spec(spec, at), at)
        return self._s.deadlines[name]

    def _store_deadline(
        self, name: str, spec: str, resolved: ResolvedDeadline, anchor: datetime | None = None
    ) -> None:
        self._s.deadlines[name] = resolved.until
        self._s.deadline_info[name] = DeadlineInfo(
            spec=spec,
            last_day=resolved.last_day,
            provisional=resolved.provisional,
            rolled_from=resolved.rolled_from,
            anchor=anchor,
        )

    async def _resolve(self, spec_name: str, anchor: datetime | None = None) -> datetime:
        spec = getattr(self._rules.calendar, spec_name)
        return (await self._resolve_spec(spec, anchor or workflow.now())).until

    async def _resolve_spec(self, spec: str, anchor: datetime) -> ResolvedDeadline:
        return await resolve_spec(self._rules.calendar, spec, anchor=anchor, year=self._s.year)

    def _due(self, name: str) -> dict[str, Any]:
        """A deadline as events carry it: the instant, its last day, whether it is provisional."""
        info = self._s.deadline_info.get(name) or DeadlineInfo()
        return {
            "due": self._iso(name),
            "last_day": info.last_day.isoformat() if info.last_day else None,
            "provisional": info.provisional,
        }

    def _iso(self, deadline: str) -> str:
        return self._s.deadlines[deadline].isoformat()

    def _deadlines_json(self) -> dict[str, str]:
        return {k: v.isoformat() for k, v in self._s.deadlines.items()}

    def _deadline_info_json(self) -> dict[str, Any]:
        return {k: v.model_dump(mode="json") for k, v in self._s.deadline_info.items()}
