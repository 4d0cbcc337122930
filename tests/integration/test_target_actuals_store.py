"""A year's target actuals reported again with other figures replace the earlier ones, on a
local directory and on an S3 server (moto), although neither store overwrites an object: each
report is kept under the next number, and the highest stands. Before, the second report's write
was refused (ObjectConflict) and the program year's activity retried it for ever."""

from __future__ import annotations

from shared.objectstore import ObjectStore
from workflows.target_actuals import actuals_key, read_actuals, store_actuals

FIRST = {"patents": 30, "share": {"part": 12, "whole": 40}}
SECOND = {"patents": 31, "share": {"part": 12, "whole": 40}}


async def test_a_later_report_stands_and_every_report_is_kept(store: ObjectStore) -> None:
    await store_actuals(store, "tj", 2031, FIRST)
    await store_actuals(store, "tj", 2031, FIRST)  # a retried activity: nothing more written
    assert await store.stat(actuals_key("tj", 2031, 2)) is None
    assert await read_actuals(store, "tj", [2030, 2031]) == {2031: FIRST}

    await store_actuals(store, "tj", 2031, SECOND)
    assert await read_actuals(store, "tj", [2031]) == {2031: SECOND}
    await store_actuals(store, "tj", 2031, FIRST)  # back to the first figures: a third report
    assert await read_actuals(store, "tj", [2031]) == {2031: FIRST}
    assert actuals_key("tj", 2031, 3) == "targets/tj/2031/actuals-3.json"
    assert await store.stat(actuals_key("tj", 2031, 3)) is not None
    assert await store.stat(actuals_key("tj", 2031, 4)) is None
    assert actuals_key("tj", 2031) == "targets/tj/2031/actuals.json"  # where the first always was
