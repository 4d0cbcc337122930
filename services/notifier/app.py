"""The notifier: turns events into notices, keeps them in an inbox, and delivers them."""

from __future__ import annotations

import json

from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy import Engine
from sqlmodel import col, select

from services.notifier.delivery import EmailSender, WebhookSender
from services.notifier.notices import notices_for
from services.notifier.tables import NoticeRow, ProcessedEvent, WebhookFailure
from shared.consumer import event_consumer
from shared.contracts.notifier import Inbox, InboxQuery, NoticePublic
from shared.db import session_scope
from shared.events.envelope import CloudEvent
from shared.events.subjects import PROGRAM_WIDE, rpc_subject
from shared.logging import get_logger
from shared.rpc import rpc_handler
from shared.service import service_broker

log = get_logger("notifier")
SERVICE = "notifier"


def make_handler(engine: Engine, webhooks: WebhookSender | None, email: EmailSender | None):  # type: ignore[no-untyped-def]
    async def handle(event: CloudEvent, stream_seq: int) -> None:
        notices = notices_for(event)
        with session_scope(engine) as session:
            if session.get(ProcessedEvent, event.id) is not None:
                return  # a redelivery: the notices exist already
            for n in notices:
                session.add(
                    NoticeRow(
                        event_id=event.id,
                        program=event.program,
                        year=event.year,
                        base=event.base,
                        region=str(event.data.get("region", "")),
                        audience=n.audience,
                        recipient=n.recipient,
                        kind=n.kind,
                        title_zh=n.title_zh,
                        title_en=n.title_en,
                        body_zh=n.body_zh,
                        body_en=n.body_en,
                    )
                )
            session.add(ProcessedEvent(event_id=event.id))
        for n in notices:
            payload = json.dumps(
                {"event": event.model_dump(mode="json"), "notice": n.__dict__}, ensure_ascii=False
            ).encode()
            if webhooks is not None:
                for failure in await webhooks.send(payload, event.id):
                    with session_scope(engine) as session:
                        session.add(
                            WebhookFailure(
                                event_id=event.id,
                                url=failure.url,
                                attempts=failure.attempts,
                                error=failure.error,
                                payload=payload.decode(),
                            )
                        )
                    log.error(
                        "webhook.dead_lettered",
                        event_id=event.id,
                        url=failure.url,
                        error=failure.error,
                    )
            if email is not None:
                await email.send(f"{n.title_zh} / {n.title_en}", f"{n.body_zh}\n\n{n.body_en}\n")

    return handle


def build_router(engine: Engine) -> NatsRouter:
    router = NatsRouter()

    @router.subscriber(rpc_subject(SERVICE, "inbox.list"), queue=SERVICE)
    @rpc_handler(InboxQuery)
    async def inbox(req: InboxQuery) -> Inbox:
        query = select(NoticeRow).where(col(NoticeRow.audience).in_(req.audiences))
        if req.program:
            query = query.where(NoticeRow.program == req.program)
        if req.base:
            query = query.where(col(NoticeRow.base).in_([req.base, PROGRAM_WIDE]))
        # A notice to one person (an expert's assignment) is theirs alone.
        query = query.where(
            (col(NoticeRow.recipient) == "") | (col(NoticeRow.recipient) == (req.recipient or ""))
        )
        if req.region_prefix:
            query = query.where(col(NoticeRow.region).startswith(req.region_prefix))
        with session_scope(engine) as session:
            rows = session.exec(query.order_by(col(NoticeRow.id).desc()).limit(req.limit))
            return Inbox(
                notices=[NoticePublic.model_validate(r, from_attributes=True) for r in rows]
            )

    return router


def build_broker(
    nats_url: str | list[str],
    engine: Engine,
    webhooks: WebhookSender | None = None,
    email: EmailSender | None = None,
) -> NatsBroker:
    broker = service_broker(SERVICE, nats_url, engine, build_router(engine))
    event_consumer(broker, name=SERVICE, handler=make_handler(engine, webhooks, email))
    return broker
