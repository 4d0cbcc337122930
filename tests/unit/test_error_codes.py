"""Every code a workflow refuses with reads as one HTTP status at the gateway, and no other."""

from __future__ import annotations

from services.gateway.temporal_errors import HTTP_STATUS
from shared.domain import errors


def test_every_refusal_code_has_an_http_status_and_nothing_else_does() -> None:
    assert set(HTTP_STATUS) == set(errors.CODES)


def test_refusal_codes_are_unique_client_or_unavailable_statuses() -> None:
    assert len(set(errors.CODES)) == len(errors.CODES)
    assert {s for s in HTTP_STATUS.values() if not 400 <= s < 500} == {503}
    assert HTTP_STATUS[errors.CLOCK_SKEW] == 503
