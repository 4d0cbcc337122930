"""How the gateway answers a decision (here a deadline extension; plan reviews and scores take
the same path): its answer once the cycle has acted on it, 202 Accepted with a Location once the
cycle has accepted it but is still acting, never a 503 for an accepted decision; a retry with the
same Idempotency-Key gets the first answer. Against the Temporal dev server, with a worker whose
event publishing waits for the test (test_filing_answers' gated worker)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from nats.aio.client import Client as NatsClient

from services.gateway.identity.tokens import Principal
from tests.conftest import DevStack, Stack
from tests.helpers import until_json
from tests.integration.test_filing_answers import (
    PROGRAM,
    GatedActivities,
    answered,
    gated,
    gateway,
    open_cycle,
)

__all__ = ["gated"]  # the fixture, shared with test_filing_answers


async def test_an_accepted_decision_still_being_acted_on_is_202_then_its_answer(
    stack: Stack,
    dev_stack: DevStack,
    nc: NatsClient,
    tmp_path: Path,
    gated: tuple[str, GatedActivities],
) -> None:
    task_queue, acts = gated
    acts.gate.set()  # filings go through; the decision's event is what waits
    _, path = await open_cycle(stack, dev_stack, task_queue)
    until = (datetime.now(UTC) + timedelta(days=40)).replace(microsecond=0)
    body = {"deadline": "plan", "until": until.isoformat(), "reason": "系统维护 / maintenance"}
    province = Principal(name=f"province-{uuid.uuid4().hex[:6]}", role="province_admin",
                         program=PROGRAM)  # fmt: skip
    wait = {"update_answer_wait_s": 0.5}
    async with gateway(stack, dev_stack, nc, tmp_path, province, **wait) as (http, who):
        await until_json(http, path, who, lambda s: s["stage"] == "plan_filing")
        keyed = {**who, "Idempotency-Key": "extend-held-1"}
        acts.events.clear()  # the cycle accepts the extension, then waits to publish its event
        first = await http.post(f"{path}/deadlines", headers=keyed, json=body)
        assert first.status_code == 202, first.text
        assert first.headers["location"] == path
        answer = first.json()
        assert answer["status"] == "accepted" and answer["location"] == path
        assert answer["update_id"].startswith("idem:") and answer["update_id"].endswith(
            ":extend:extend-held-1"
        )
        assert "已受理" in answer["message"] and "Accepted" in answer["message"]
        # A retry while it is still being acted on: 202 again, not a second extension.
        again = await http.post(f"{path}/deadlines", headers=keyed, json=body)
        assert again.status_code == 202, again.text

        acts.events.set()
        state = await until_json(
            http, path, who, lambda s: s["deadlines"]["plan"].startswith(until.date().isoformat())
        )
        assert datetime.fromisoformat(state["deadlines"]["plan"]) == until
        done = await answered(
            lambda: http.post(f"{path}/deadlines", headers=keyed, json=body), "the extension"
        )
        assert done.status_code == 200, done.text
        assert done.json()["deadline"] == "plan"
        assert datetime.fromisoformat(done.json()["until"]) == until
