"""``navcycle notices resend``: put dead-lettered deliveries back in the notifier's outbox."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime

import nats

from services.notifier.outbox import dead_ids, resend
from services.notifier.tables import MIGRATIONS as NOTIFIER_MIGRATIONS
from shared.audit import cli_actor, operator_action, record
from shared.clients import nats_options
from shared.db import make_engine
from shared.migrations import upgrade
from shared.settings import Settings


def resend_command(
    settings: Settings, *, delivery_id: int | None, all_dead: bool, as_json: bool = False
) -> int:
    """The running notifier's sender picks the deliveries up at its next poll."""
    engine = make_engine(settings.database_url_for("notifier"))
    upgrade(engine, NOTIFIER_MIGRATIONS)
    if not dead_ids(engine, delivery_id=delivery_id, all_dead=all_dead):
        if delivery_id is not None:
            print(
                f"没有编号为 {delivery_id} 的失败投递 / no dead delivery with id {delivery_id}",
                file=sys.stderr,
            )
            return 1
        ids: list[int] = []
    else:
        # Recorded first: a resend the audit log does not show never happens.
        asyncio.run(_audit(settings, delivery_id=delivery_id, all_dead=all_dead))
        ids = resend(engine, datetime.now(UTC), delivery_id=delivery_id, all_dead=all_dead)
    if as_json:
        print(json.dumps({"resent": ids}))
    else:
        print(f"已重新投递 {len(ids)} 条 / {len(ids)} deliveries back to pending: {ids}")
    return 0


async def _audit(settings: Settings, *, delivery_id: int | None, all_dead: bool) -> None:
    nc = await nats.connect(**nats_options(settings))
    try:
        await record(
            nc.jetstream(),
            operator_action(
                actor=cli_actor(),
                via="cli",
                action="notices.resend",
                target="notifier deliveries",
                arguments={"id": delivery_id}
                if delivery_id is not None
                else {"all_dead": all_dead},
            ),
        )
    finally:
        await nc.close()
