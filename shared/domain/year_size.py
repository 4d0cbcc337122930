"""How many bases one program year may open: the bound its launch keeps (``max_bases_per_year``),
whether the province launches it or the yearly Schedule does."""

from __future__ import annotations


def too_large(size: int, limit: int) -> str | None:
    """The reason, in both languages, when ``size`` active bases are over ``limit``; else None."""
    if size <= limit:
        return None
    return (
        f"{size} active bases, over the {limit} one program year can carry: split the program"
        f" / 在册基地 {size} 个，超过单个年度可承载的 {limit} 个，请拆分项目"
    )
