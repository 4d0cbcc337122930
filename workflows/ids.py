"""Workflow ids from DESIGN.md."""

from __future__ import annotations


def cycle_id(program: str, year: int, base: str) -> str:
    return f"cycle/{program}/{year}/{base}"


def program_year_id(program: str, year: int) -> str:
    return f"program-year/{program}/{year}"
