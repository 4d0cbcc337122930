"""Composition root of the notifier process."""

from __future__ import annotations

from faststream import FastStream
from sqlalchemy import Engine

from services.notifier.app import Notifier, build_notifier
from services.notifier.delivery import EmailChannel, WebhookChannel
from services.notifier.outbox import Recipients, RetryPolicy
from services.notifier.sender import OutboxSender, SenderLimits
from services.notifier.tables import MIGRATIONS as NOTIFIER_MIGRATIONS
from shared.clients import ensure_streams
from shared.db import make_engine
from shared.migrations import upgrade
from shared.settings import Settings


def notifier_from_settings(settings: Settings, engine: Engine) -> Notifier:
    webhooks = None
    if settings.webhook_url_list:
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
        webhooks = WebhookChannel(secret)
    email = None
    if settings.smtp_host:
        email = EmailChannel(
            settings.smtp_host, settings.smtp_port, settings.smtp_from, settings.notice_timeout_s
        )
    sender = OutboxSender(
        engine,
        webhooks=webhooks,
        email=email,
        policy=RetryPolicy(
            settings.notice_max_attempts, settings.notice_backoff_s, settings.notice_backoff_max_s
        ),
        limits=SenderLimits(
            settings.notice_concurrency, settings.notice_timeout_s, settings.notice_poll_s
        ),
    )
    recipients = Recipients(
        webhook_urls=settings.webhook_url_list,
        email_to=settings.smtp_to_list if settings.smtp_host else [],
    )
    return build_notifier(settings.nats_servers, engine, sender, recipients)


async def serve(settings: Settings) -> None:
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url_for("notifier"))
    upgrade(engine, NOTIFIER_MIGRATIONS)
    await ensure_streams(settings)
    notifier = notifier_from_settings(settings, engine)
    app = FastStream(notifier.broker)
    app.after_startup(notifier.sender.start)
    app.on_shutdown(notifier.sender.stop)
    await app.run()
