"""GB/T 2260 administrative division codes: province ▶ city ▶ county."""

from __future__ import annotations

import re

_CODE = re.compile(r"^\d{6}$")


def region_level(code: str) -> str:
    if not _CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a six-digit GB/T 2260 code")
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "county"


def region_prefix(code: str) -> str:
    """The code prefix that every region under ``code`` (itself included) shares."""
    return {"province": code[:2], "city": code[:4], "county": code}[region_level(code)]


def is_within(code: str, ancestor: str) -> bool:
    return code.startswith(region_prefix(ancestor))


def parent_region(code: str) -> str | None:
    level = region_level(code)
    if level == "county":
        return code[:4] + "00"
    if level == "city":
        return code[:2] + "0000"
    return None
