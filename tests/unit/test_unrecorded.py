"""services.cli.admin.unrecorded: an event log failure after a CLI action refuses it in words."""

from __future__ import annotations

import nats
import pytest

from services.cli.admin import AuditUnavailable, unrecorded


def test_an_event_log_failure_says_what_stands_and_the_error() -> None:
    with pytest.raises(AuditUnavailable) as caught, unrecorded("b1 is reinstated, but it failed"):
        raise nats.errors.TimeoutError
    assert str(caught.value) == "b1 is reinstated, but it failed: nats: timeout"


def test_other_errors_pass_through_unchanged() -> None:
    with pytest.raises(ValueError, match=r"^bad$"), unrecorded("done"):
        raise ValueError("bad")
