"""Composition root of the notifier process."""

from __future__ import annotations

from faststream import FastStream

from services.notifier.app import build_broker
from services.notifier.delivery import EmailSender, WebhookSender
from shared.clients import ensure_streams
from shared.db import make_engine
from shared.migrations import upgrade
from shared.settings import Settings


async def serve(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url_for("notifier"))
    upgrade(engine, "notifier")
    await ensure_streams(settings)
    webhooks = None
    if settings.webhook_urls:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        webhooks = WebhookSender(settings.webhook_url_list, secret)
    email = None
    if settings.smtp_host:
        email = EmailSender(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.smtp_to_list
        )
    await FastStream(build_broker(settings.nats_servers, engine, webhooks, email)).run()
