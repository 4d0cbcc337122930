"""GB/T 2260 administrative division codes: national ▶ province ▶ prefecture (city) ▶ county.

``000000`` is the whole country (the national office, 国家知识产权局); ``xx0000`` a province,
autonomous region or municipality; ``xxxx00`` a prefecture-level city or league (盟市, called
``city`` in the code); any other code a county, district or banner (旗县区).
"""

from __future__ import annotations

import re
from typing import Literal

_CODE = re.compile(r"^\d{6}$")

NATIONAL = "000000"
RegionLevel = Literal["national", "province", "city", "county"]
LEVELS: tuple[RegionLevel, ...] = ("county", "city", "province", "national")
"""From the lowest level to the highest."""


def region_level(code: str) -> RegionLevel:
    if not _CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a six-digit GB/T 2260 code")
    if code == NATIONAL:
        return "national"
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def level_rank(level: RegionLevel) -> int:
    """0 for a county up to 3 for the nation: a higher rank covers the lower ones."""
    return LEVELS.index(level)


def region_prefix(code: str) -> str:
    """The code prefix that every region under ``code`` (itself included) shares."""
    level = region_level(code)
    return {"national": "", "province": code[:2], "city": code[:4], "county": code}[level]


def is_within(code: str, ancestor: str) -> bool:
    return code.startswith(region_prefix(ancestor))


def parent_region(code: str) -> str | None:
    """The region one level up: a county's city, a city's province, a province's nation."""
    level = region_level(code)
    if level == "county":
        return code[:4] + "00"
    if level == "city":
        return code[:2] + "0000"
    if level == "province":
        return NATIONAL
    return None


def region_parents(code: str) -> list[str]:
    """Every region above ``code``, nearest first, ending with the nation (``000000``)."""
    parents: list[str] = []
    parent = parent_region(code)
    while parent is not None:
        parents.append(parent)
        parent = parent_region(parent)
    return parents


def region_at(code: str, level: RegionLevel) -> str | None:
    """The region at ``level`` that ``code`` lies in (itself at its own level); None when
    ``level`` is below the region's own."""
    found = [r for r in [code, *region_parents(code)] if region_level(r) == level]
    return found[0] if found else None


def city_prefix(city: str) -> str:
    """What the codes whose city is ``city`` start with: a county's city is its code's first four
    digits and ``00``, so a city's are itself and its counties (a province's, the counties it
    governs directly)."""
    if region_level(city) == "county":
        raise ValueError(f"{city!r} is a county, no region's city")
    return city[:4]


def city_of_prefix(head: str) -> str:
    """The city of the codes starting with ``head``, their first four digits (as
    :func:`city_prefix` makes); anything else stands for itself."""
    return head + "00" if len(head) == 4 and head.isdigit() else head


def narrower_prefix(a: str, b: str) -> str | None:
    """What the codes starting with both ``a`` and ``b`` start with; None when no code can."""
    if a.startswith(b):
        return a
    if b.startswith(a):
        return b
    return None


def prefix_range(prefix: str) -> tuple[str, str]:
    """The first and last six-digit codes starting with ``prefix``: a range an index reads in
    order (a ``LIKE`` is not, under every collation)."""
    return prefix.ljust(6, "0"), prefix.ljust(6, "9")
