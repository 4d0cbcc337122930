"""The region code prefixes a query filters by: a city's codes, two scopes at once, and the range
of codes a prefix stands for, as the officers' queue asks the dashboard."""

from __future__ import annotations

import pytest

from services.gateway.portal.officer_sweep import city_of
from shared.domain.regions import city_of_prefix, city_prefix, narrower_prefix, prefix_range

CODES = ["410100", "410102", "410122", "410300", "410000", "410001", "420100", "000000"]


@pytest.mark.parametrize("city", ["410100", "410300", "410000", "420100", "000000"])
def test_a_citys_prefix_starts_the_codes_whose_city_it_is(city: str) -> None:
    prefix = city_prefix(city)
    assert [c for c in CODES if c.startswith(prefix)] == [c for c in CODES if city_of(c) == city]
    # The dashboard counts by the codes' first four digits: back to the same city.
    assert {city_of_prefix(c[:4]) for c in CODES if c.startswith(prefix)} == {city}


def test_a_county_is_no_citys() -> None:
    with pytest.raises(ValueError, match="county"):
        city_prefix("410102")


def test_two_scopes_at_once_are_the_narrower_or_none() -> None:
    assert narrower_prefix("4101", "41") == "4101"
    assert narrower_prefix("41", "410102") == "410102"
    assert narrower_prefix("", "4103") == "4103"
    assert narrower_prefix("4101", "4103") is None


def test_a_prefix_is_a_range_of_six_digit_codes() -> None:
    assert prefix_range("4101") == ("410100", "410199")
    assert prefix_range("") == ("000000", "999999")
    low, high = prefix_range("41")
    assert [c for c in CODES if low <= c <= high] == [c for c in CODES if c.startswith("41")]
