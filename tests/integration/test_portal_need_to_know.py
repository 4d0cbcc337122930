"""Need to know in the portal's pages: a base's staff opening a page of another base learns no
more than from a base that does not exist. Every page under ``/portal`` that names a base in its
path is tried, found in the route table, so pages are covered as they land. The gateway in
process on the test stack, with a launched year (the Temporal test server)."""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from tests.conftest import Stack
from tests.helpers import demo_rules
from tests.integration import driver
from tests.integration.gateway_fixture import Api, gateway
from tests.integration.test_program_year import launch
from tests.unit.test_need_to_know import _flat_routes

PROGRAM = "portal-ntk"
OWN, OTHER, NONE = "zz-biomed", "ly-agri", "no-such-base"
_years = itertools.count(2033)  # one launched year per test
USERS = {
    "staff": Principal(name="ntk-staff", role="base_user", program=PROGRAM, base=OWN),
}
PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@pytest.fixture
async def launched(stack: Stack, nc: NatsClient, tmp_path: Path) -> AsyncIterator[tuple[Api, int]]:
    rules, year = demo_rules(id=PROGRAM), next(_years)
    driver.register(stack, rules, [OWN, OTHER])
    await launch(stack, rules, year, expected=2)
    async with gateway(stack, nc, tmp_path, USERS) as api:
        yield api, year


def pages_naming_a_base(api: Api) -> list[str]:
    return sorted(
        path
        for path, _, route in _flat_routes(api.app.routes)
        if path.startswith("/portal/")
        and isinstance(route, APIRoute)
        and "GET" in route.methods
        and "base" in PARAM.findall(path)
    )


def fill(path: str, base: str, year: int) -> str:
    values = {"base": base, "year": str(year), "program": PROGRAM}
    return PARAM.sub(lambda m: values.get(m[1], "1"), path)


async def test_a_base_user_opening_another_bases_page_gets_what_a_missing_base_gets(
    launched: tuple[Api, int],
) -> None:
    api, year = launched
    pages = pages_naming_a_base(api)
    assert "/portal/base/{year}/{base}" in pages  # the walk finds the pages
    own_page = fill("/portal/base/{year}/{base}", OWN, year)
    own = await api.http.get(own_page, headers=api.auth("staff"))
    assert own.status_code == 200, own.text  # the control: the person's own base opens
    for path in pages:
        other = await api.http.get(fill(path, OTHER, year), headers=api.auth("staff"))
        missing = await api.http.get(fill(path, NONE, year), headers=api.auth("staff"))
        assert other.status_code in (403, 404), (path, other.status_code, other.text)
        assert other.status_code == missing.status_code, path  # no oracle of existence
        assert f"基地 {OTHER}" not in other.text, path  # the registry's name of the other base
    base_pages = [p for p in pages if p.startswith("/portal/base/")]
    for path in base_pages:  # the base's own pages answer another base as the API does: 404
        other = await api.http.get(fill(path, OTHER, year), headers=api.auth("staff"))
        assert other.status_code == 404, (path, other.text)
