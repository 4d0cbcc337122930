"""A program's yearly report of actuals against its program-level targets, and the progress they
measure at a checkpoint. Pure: no I/O, no clock.

A report maps a target's key to the year's actual, in the shape its kind takes: a number (at
least 0) for yearly, cumulative, stock, range and yearly_average targets, ``{"numerator": n,
"denominator": d}`` for a ratio, true or false for a milestone. A key the program has no
program-level target for is ``unknown_target``; a value of the wrong shape ``invalid_actual``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared.domain import target_words as words
from shared.domain.targets import Actual, Ratio, TargetProgress, TargetRule, evaluate

ReportedValue = float | bool | dict[str, float]
"""An actual as it is stored and sent: JSON."""


class ReportError(ValueError):
    """A report that does not fit the program's targets: a stable ``code``, the keys at fault,
    and a message in Chinese and English."""

    def __init__(self, code: str, message: str, keys: list[str]) -> None:
        super().__init__(message)
        self.code = code
        self.keys = keys


def program_targets(targets: list[TargetRule]) -> dict[str, TargetRule]:
    return {t.key: t for t in targets if t.level == "program"}


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and number >= 0 else None


def _normalised(rule: TargetRule, value: Any) -> ReportedValue | None:
    if rule.kind == "milestone":
        return value if isinstance(value, bool) else None
    if rule.kind == "ratio":
        if not isinstance(value, dict) or set(value) != {"numerator", "denominator"}:
            return None
        parts = {k: _finite(v) for k, v in value.items()}
        if any(v is None for v in parts.values()):
            return None
        return {k: v for k, v in parts.items() if v is not None}
    return _finite(value)


_NUMBER = ("不小于0的数值", "a number at least 0")
_SHAPES = {
    "milestone": ("true 或 false", "true or false"),
    "ratio": ("{numerator, denominator}（均不小于0）", "{numerator, denominator}, each at least 0"),
}


def parse_report(targets: list[TargetRule], raw: Mapping[str, Any]) -> dict[str, ReportedValue]:
    """The report checked against the program-level targets, each value in its stored form."""
    known = program_targets(targets)
    unknown = sorted(k for k in raw if k not in known)
    if unknown:
        raise ReportError(
            "unknown_target",
            f"项目没有这些项目级目标：{', '.join(unknown)} / the program has no program-level"
            f" target {', '.join(unknown)}",
            unknown,
        )
    parsed = {k: _normalised(known[k], v) for k, v in raw.items()}
    wrong = sorted(k for k, v in parsed.items() if v is None)
    if wrong:
        shapes = [_SHAPES.get(known[k].kind, _NUMBER) for k in wrong]
        zh = "; ".join(f"{k}: {s[0]}" for k, s in zip(wrong, shapes, strict=True))
        en = "; ".join(f"{k}: {s[1]}" for k, s in zip(wrong, shapes, strict=True))
        raise ReportError(
            "invalid_actual", f"实际值格式不符：{zh} / actuals of the wrong shape: {en}", wrong
        )
    return {k: v for k, v in sorted(parsed.items()) if v is not None}


def as_actual(rule: TargetRule, value: ReportedValue) -> Actual:
    if rule.kind == "ratio" and isinstance(value, dict):
        return Ratio(**value)
    if isinstance(value, dict):
        raise ValueError(f"{rule.key}: a stored ratio for a {rule.kind} target")
    return value


class TargetLine(BaseModel):
    """One program-level target measured at a checkpoint, with its words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    name_zh: str
    name_en: str
    unit: str
    target_zh: str
    target_en: str
    status_zh: str
    status_en: str
    progress: TargetProgress


def measure(
    targets: list[TargetRule], reported: Mapping[int, Mapping[str, ReportedValue]], year: int
) -> list[TargetLine]:
    """Every program-level target measured in ``year`` from the actuals reported by year."""
    lines = []
    for rule in program_targets(targets).values():
        actuals = {
            y: as_actual(rule, values[rule.key])
            for y, values in reported.items()
            if rule.key in values
        }
        progress = evaluate(rule, actuals, year)
        lines.append(
            TargetLine(
                key=rule.key,
                name_zh=rule.name_zh,
                name_en=rule.name_en,
                unit=rule.unit,
                target_zh=words.target_zh(rule),
                target_en=words.target_en(rule),
                status_zh=words.status_zh(progress.status),
                status_en=words.status_en(progress.status),
                progress=progress,
            )
        )
    return lines
