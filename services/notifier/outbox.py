"""The outbox: a notice's deliveries, written with the notice, claimed, retried and dead-lettered.

A delivery is claimed by moving its ``next_try_at`` past the attempt's time limit in one
conditional UPDATE, so two senders (replicas, or a restarted one) never send it at once, and a
sender that dies mid-send leaves it to be tried again when that lease runs out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from services.notifier.tables import Delivery, NoticeRow
from shared.db import session_scope

PENDING, SENT, DEAD = "pending", "sent", "dead"
WEBHOOK, EMAIL = "webhook", "email"


@dataclass(frozen=True)
class Recipients:
    """Where every notice goes: the webhook URLs and the bureau's mailboxes."""

    webhook_urls: list[str] = field(default_factory=list)
    email_to: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_s: float = 5.0
    backoff_max_s: float = 3600.0

    def wait_after(self, attempts: int) -> float:
        """The wait before the next try, after ``attempts`` failed ones: doubling, capped."""
        return min(self.backoff_max_s, self.backoff_s * 2 ** max(0, attempts - 1))


def notice_key(event_id: str, audience: str) -> str:
    """The notice's id for receivers: the same in every copy and every database (an event has
    one notice per audience)."""
    return f"{event_id}.{audience}"


def enqueue(
    session: Session, notice: NoticeRow, event_json: dict[str, Any], recipients: Recipients
) -> list[Delivery]:
    """Add the notice's deliveries to the session that adds the notice (it must be flushed)."""
    assert notice.id is not None, "flush the notice first"
    key = notice_key(notice.event_id, notice.audience)
    notice_json = {
        "kind": notice.kind,
        "audience": notice.audience,
        "recipient": notice.recipient,
        "title_zh": notice.title_zh,
        "title_en": notice.title_en,
        "body_zh": notice.body_zh,
        "body_en": notice.body_en,
    }
    webhook_body = json.dumps(
        {"notice_id": key, "event": event_json, "notice": notice_json}, ensure_ascii=False
    )
    mail = json.dumps(
        {
            "subject": f"{notice.title_zh} / {notice.title_en}",
            "body": f"{notice.body_zh}\n\n{notice.body_en}\n",
        },
        ensure_ascii=False,
    )
    rows = [
        Delivery(
            notice_id=notice.id,
            notice_key=key,
            event_id=notice.event_id,
            channel=channel,
            recipient=to,
            payload=payload,
        )
        for channel, targets, payload in (
            (WEBHOOK, recipients.webhook_urls, webhook_body),
            (EMAIL, recipients.email_to, mail),
        )
        for to in dict.fromkeys(targets)
    ]
    session.add_all(rows)
    return rows


def claim_due(engine: Engine, now: datetime, limit: int, lease_s: float) -> list[Delivery]:
    """Up to ``limit`` pending deliveries whose time has come, each now held for ``lease_s``."""
    if limit <= 0:
        return []
    lease = now + timedelta(seconds=lease_s)
    claimed: list[Delivery] = []
    with session_scope(engine) as session:
        due = session.exec(
            select(Delivery.id)
            .where(Delivery.status == PENDING, col(Delivery.next_try_at) <= now)
            .order_by(col(Delivery.next_try_at), col(Delivery.id))
            .limit(limit)
        ).all()
        for delivery_id in due:
            taken = session.exec(  # type: ignore[call-overload]
                update(Delivery)
                .where(
                    col(Delivery.id) == delivery_id,
                    col(Delivery.status) == PENDING,
                    col(Delivery.next_try_at) <= now,
                )
                .values(attempts=col(Delivery.attempts) + 1, next_try_at=lease)
            )
            if taken.rowcount == 1:
                row = session.get(Delivery, delivery_id)
                if row is not None:
                    session.refresh(row)
                    claimed.append(row)
        for row in claimed:
            session.expunge(row)
    return claimed


def record_sent(engine: Engine, delivery_id: int, now: datetime) -> None:
    with session_scope(engine) as session:
        row = session.get(Delivery, delivery_id)
        if row is not None:
            row.status, row.sent_at, row.last_error = SENT, now, ""
            session.add(row)


def record_failure(
    engine: Engine, delivery_id: int, error: str, now: datetime, policy: RetryPolicy
) -> Delivery | None:
    """Schedule the next try, or dead-letter the delivery after its last one."""
    with session_scope(engine) as session:
        row = session.get(Delivery, delivery_id)
        if row is None:
            return None
        row.last_error = error[:1000]
        if row.attempts >= policy.max_attempts:
            row.status = DEAD
        else:
            row.next_try_at = now + timedelta(seconds=policy.wait_after(row.attempts))
        session.add(row)
        session.flush()
        session.refresh(row)
        session.expunge(row)
        return row


def _dead(delivery_id: int | None, all_dead: bool) -> Any:
    query = select(Delivery).where(Delivery.status == DEAD)
    if delivery_id is not None:
        return query.where(Delivery.id == delivery_id)
    return query if all_dead else None


def dead_ids(
    engine: Engine, *, delivery_id: int | None = None, all_dead: bool = False
) -> list[int]:
    """The dead deliveries ``resend`` would put back."""
    query = _dead(delivery_id, all_dead)
    if query is None:
        return []
    with session_scope(engine) as session:
        return [r.id for r in session.exec(query) if r.id is not None]


def resend(
    engine: Engine, now: datetime, *, delivery_id: int | None = None, all_dead: bool = False
) -> list[int]:
    """Put dead deliveries back to pending with a fresh count of tries; their ids."""
    query = _dead(delivery_id, all_dead)
    if query is None:
        return []
    with session_scope(engine) as session:
        rows = list(session.exec(query.order_by(col(Delivery.id))))
        for row in rows:
            row.status, row.attempts, row.next_try_at = PENDING, 0, now
            session.add(row)
        return [row.id for row in rows if row.id is not None]
