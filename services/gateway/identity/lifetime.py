"""How long a token lives: parsed from what an operator types (``P90D``, ``PT12H``, ``30``)."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import TypeAdapter, ValidationError

LONGEST = timedelta(days=3660)
_DAYS = re.compile(r"^\d{1,5}$")
_DURATION = TypeAdapter(timedelta)


class BadLifetime(ValueError):
    pass


def parse_lifetime(text: str) -> timedelta:
    """An ISO 8601 duration (``P90D``, ``PT12H``, ``P1DT6H``) or a whole number of days."""
    text = text.strip()
    if _DAYS.match(text):
        lifetime = timedelta(days=int(text))
    elif text[:1].upper() == "P":
        try:
            lifetime = _DURATION.validate_python(text.upper())
        except ValidationError:
            raise BadLifetime(
                f"--expires-in {text!r}: not a duration; give e.g. P90D, PT12H or 30 (days)"
            ) from None
    else:
        raise BadLifetime(
            f"--expires-in {text!r}: not a duration; give e.g. P90D, PT12H or 30 (days)"
        )
    if lifetime <= timedelta(0):
        raise BadLifetime(f"--expires-in {text!r}: a token must live longer than no time")
    if lifetime > LONGEST:
        raise BadLifetime(f"--expires-in {text!r}: at most {LONGEST.days} days")
    return lifetime
