"""Trying an operation again, through tenacity: the project's two shapes of retry in one place.

``retrying`` retries an operation that failed with one of the named exceptions (a server busy
for a moment, a stream with no leader yet); anything else is raised at once, and so is the last
failure when the tries run out. ``polled`` asks a question again until it has an answer (a
port that listens, a workflow that has published): a ``TimeoutError`` saying what never came
when the tries run out. JetStream redelivery is not this: a consumer that naks a message relies
on the server to bring it back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_after_delay,
    wait_fixed,
    wait_incrementing,
)
from tenacity.stop import stop_base

T = TypeVar("T")
Failures = type[BaseException] | tuple[type[BaseException], ...]


def retrying(
    *,
    on: Failures,
    attempts: int | None = None,
    seconds: float | None = None,
    step: float = 0.5,
    growing: bool = True,
    most: float = 5.0,
) -> AsyncRetrying:
    """Tries of an operation failing with ``on``: at most ``attempts`` of them, or as many as
    fit in ``seconds``; between them ``step``, 2×``step``, ... up to ``most`` seconds (or
    ``step`` each time when not ``growing``). Use as ``await retrying(...)(fn, *args)`` or
    ``async for attempt in retrying(...): with attempt: ...``."""
    return AsyncRetrying(
        stop=_stop(attempts, seconds),
        wait=wait_incrementing(step, step, most) if growing else wait_fixed(step),
        retry=retry_if_exception_type(on),
        reraise=True,
    )


async def polled(
    check: Callable[[], Awaitable[T | None]],
    *,
    what: str,
    every: float,
    attempts: int | None = None,
    seconds: float | None = None,
    ignoring: Failures = (),
) -> T:
    """``check()`` again every ``every`` seconds until it returns something other than None or
    False (a failure in ``ignoring`` counts as no answer yet), at most ``attempts`` times or for
    ``seconds``; then ``TimeoutError`` naming ``what``."""

    def gave_up(state: RetryCallState) -> T:
        waited = state.seconds_since_start or 0.0
        raise TimeoutError(
            f"{what} was not ready after {waited:.0f}s ({state.attempt_number} tries)"
        )

    answer: T = await AsyncRetrying(
        stop=_stop(attempts, seconds),
        wait=wait_fixed(every),
        retry=retry_if_exception_type(ignoring) | retry_if_result(_unanswered),
        retry_error_callback=gave_up,
    )(check)
    return answer


def _unanswered(value: object) -> bool:
    return value is None or value is False


def _stop(attempts: int | None, seconds: float | None) -> stop_base:
    if attempts is None and seconds is None:
        raise ValueError("a retry needs attempts or seconds")
    if seconds is None:
        return stop_after_attempt(attempts or 1)
    if attempts is None:
        return stop_after_delay(seconds)
    return stop_after_attempt(attempts) | stop_after_delay(seconds)
