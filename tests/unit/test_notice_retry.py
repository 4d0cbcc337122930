"""The wait between a notice delivery's tries: doubling from the first, capped."""

from __future__ import annotations

from services.notifier.delivery import message_id
from services.notifier.outbox import RetryPolicy, notice_key


def test_the_wait_doubles_after_each_failed_try_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=8, backoff_s=5, backoff_max_s=60)
    assert [policy.wait_after(n) for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_a_notice_has_one_id_for_webhooks_and_mail() -> None:
    key = notice_key("0b6f0d7e-4c1e-5a3b-9d55-2f7f1c1e2a10", "base")
    assert key == "0b6f0d7e-4c1e-5a3b-9d55-2f7f1c1e2a10.base"
    assert message_id(key) == f"<{key}@navcycle>"
