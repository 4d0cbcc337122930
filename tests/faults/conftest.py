"""One stack and one faulty 200-base year, shared by every fault test of the module.

The year takes several minutes of real time, so it is played once; each test then checks one
property of what it left, or what one fault did (see tests/faults/year.py for the schedule).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from shared.db import make_engine
from tests.conftest import postgres_url
from tests.faults import holdings
from tests.faults.stack import FaultStack, fault_stack
from tests.faults.year import FaultyYear, deliver_again, describe, faulty_year


@dataclass
class Played:
    stack: FaultStack
    year: FaultyYear
    engine: Engine


@pytest.fixture(scope="package")
async def played(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Played]:
    """For tests marked ``postgres`` (make faults names a local server by default)."""
    root = tmp_path_factory.mktemp("faults")
    with fault_stack(root, postgres_url()) as stack:
        engine = make_engine(stack.database_url)
        try:
            await stack.up()
            year = await faulty_year(stack)
            await deliver_again(stack, year, lambda: asyncio.to_thread(holdings.take, engine))
            (root / "year.txt").write_text(describe(year) + "\n")
        except BaseException:
            print(f"fault stack logs in {root / 'logs'}", file=sys.stderr)
            for name in list(stack.processes):
                print(f"--- {name}\n{stack.log_tail(name, 30)}", file=sys.stderr)
            raise
        try:
            yield Played(stack, year, engine)
        finally:
            engine.dispose()
