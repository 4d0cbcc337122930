"""Targets and their progress in the words people read, Chinese first and English beside it. Pure.

A soft target (力争) that is not reached reads 「未达预期（力争）」, never as a failure: the scheme
asked the units to strive for it, not to guarantee it.
"""

from __future__ import annotations

from shared.domain.targets import TargetProgress, TargetRule, TargetStatus

STATUS_WORDS: dict[TargetStatus, tuple[str, str]] = {
    "met": ("已完成", "met"),
    "on_track": ("按进度推进", "on track"),
    "behind": ("进度滞后", "behind schedule"),
    "pending": ("尚未实现（未到期限）", "not yet reached (before the horizon)"),
    "missed": ("未完成", "missed"),
    "missed_soft": (
        "未达预期（力争）",
        "below expectation (a target to strive for, not a failure)",
    ),
    "no_data": ("未报送实际值", "no actual reported"),
    "not_started": ("尚未开始", "not started"),
}


def status_zh(status: TargetStatus) -> str:
    return STATUS_WORDS[status][0]


def status_en(status: TargetStatus) -> str:
    return STATUS_WORDS[status][1]


def number(value: float) -> str:
    """30.0 -> 30, 31.25 -> 31.25, 20000.0 -> 20000: no trailing zeros, no exponent."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _unit(rule: TargetRule) -> str:
    return "%" if rule.kind == "ratio" else rule.unit


def _with_unit(rule: TargetRule, amount: str, zh: bool) -> str:
    """「50件」 / '50 件'; a percent or no unit stays close: 30%."""
    unit = _unit(rule)
    return f"{amount}{unit if zh or unit in {'', '%'} else ' ' + unit}"


_COMPARED = {
    "at_least": ("{}以上", "at least {}"),
    "more_than": ("突破{}", "more than {}"),
    "at_most": ("不超过{}", "at most {}"),
}


def _amount(rule: TargetRule, zh: bool) -> str:
    if rule.kind == "milestone":
        return "实现零突破" if zh else "a first"
    assert rule.value is not None
    if rule.kind == "range":
        assert rule.upper is not None
        return _with_unit(rule, f"{number(rule.value)}-{number(rule.upper)}", zh)
    template = _COMPARED[rule.comparison][0 if zh else 1]
    return template.format(_with_unit(rule, number(rule.value), zh))


def target_zh(rule: TargetRule) -> str:
    """The target as the scheme states it: 「到2025年突破50件」, 「每年30件以上（力争）」."""
    when = "每年" if rule.kind in {"yearly", "ratio", "range"} else f"到{rule.horizon}年"
    if rule.kind == "yearly_average":
        when = f"{rule.start_year}—{rule.horizon}年年均"
    if rule.kind == "cumulative":
        when += "累计"
    return f"{when}{_amount(rule, True)}" + ("（力争）" if rule.soft else "")


def target_en(rule: TargetRule) -> str:
    """The target in English: 'more than 50 件 by 2025', 'at least 30 件 a year (to strive for)'."""
    when = {
        "yearly": " a year",
        "ratio": " each year",
        "range": " a year",
        "cumulative": f" in total by {rule.horizon}",
        "yearly_average": f" a year on average, {rule.start_year}-{rule.horizon}",
    }.get(rule.kind, f" by {rule.horizon}")
    return f"{_amount(rule, False)}{when}" + (" (to strive for)" if rule.soft else "")


def _figure(rule: TargetRule, figure: float, zh: bool) -> str:
    if rule.kind == "milestone":
        return (
            ("已实现" if figure else "未实现") if zh else ("reached" if figure else "not reached")
        )
    return _with_unit(rule, number(figure), zh)


def progress_zh(rule: TargetRule, progress: TargetProgress) -> str:
    """「高价值专利数量：2023年35件，目标：到2025年突破50件，完成80%，进度滞后」."""
    head = f"{rule.name_zh}：{progress.counted_year}年"
    if progress.figure is None:
        return f"{head}{status_zh(progress.status)}（目标：{target_zh(rule)}）"
    parts = [f"{head}{_figure(rule, progress.figure, True)}", f"目标：{target_zh(rule)}"]
    if progress.completion is not None:
        parts.append(f"完成{number(progress.completion)}%")
    return "，".join([*parts, status_zh(progress.status)])


def progress_en(rule: TargetRule, progress: TargetProgress) -> str:
    """'High-value patents: 35 件 in 2023 (target more than 50 件 by 2025), 80% complete: behind
    schedule'."""
    year, target = progress.counted_year, target_en(rule)
    if progress.figure is None:
        return f"{rule.name_en}: {status_en(progress.status)} in {year} (target {target})"
    done = "" if progress.completion is None else f", {number(progress.completion)}% complete"
    return (
        f"{rule.name_en}: {_figure(rule, progress.figure, False)} in {year} (target {target})"
        f"{done}: {status_en(progress.status)}"
    )
