"""Where every value of a program's rules comes from: a seed clause, or the bureau's choice.

A rules document carries ``provenance``: a dotted path (``calendar.plan_window``,
``rubric.indicators.report_quality``) mapped to ``seed 004: 「clause」 …`` or ``chosen: why``.
These functions read a document as written (not the validated model, whose defaults nobody wrote)
so that exactly the values a bureau put in the document must be accounted for.
"""

from __future__ import annotations

import re
from typing import Any

# Parts of a document that are not rule values: the provenance itself, and the clauses, which are
# quotations checked against their seed on their own.
NOT_VALUES = frozenset({"provenance", "clauses"})

_QUOTE = re.compile(r"「(.+?)」")
_SEED = re.compile(r"\bseed (\d{3})\b")


def leaf_paths(document: dict[str, Any], prefix: str = "") -> list[str]:
    """Every value's dotted path. A list of mappings with a ``key`` (indicators, declarations)
    has one path per item (``rubric.indicators.report_quality``); any other list or a null is
    one value."""
    paths: list[str] = []
    for name, value in document.items():
        if not prefix and name in NOT_VALUES:
            continue
        path = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            paths += leaf_paths(value, f"{path}.")
        elif _keyed_items(value):
            paths += [f"{path}.{item['key']}" for item in value]
        else:
            paths.append(path)
    return paths


def _keyed_items(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(i, dict) and "key" in i for i in value)
    )


def quotes(entry: str) -> list[str]:
    """The clauses an entry quotes (between 「 and 」)."""
    return _QUOTE.findall(entry)


def seeds_named(entry: str) -> list[str]:
    """The seeds an entry names (``seed 004``)."""
    return _SEED.findall(entry)


def normalise(text: str) -> str:
    """Seed files break lines inside sentences: compare without any whitespace."""
    return re.sub(r"\s+", "", text)


def unquoted(entry: str, seeds: dict[str, str]) -> list[str]:
    """The quotes of an entry found in none of the seeds it names (``seeds``: number -> text)."""
    texts = [normalise(seeds[n]) for n in seeds_named(entry) if n in seeds]
    return [q for q in quotes(entry) if not any(normalise(q) in t for t in texts)]
