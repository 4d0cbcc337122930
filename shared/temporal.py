"""Temporal client connection; the pydantic converter is used everywhere (client, worker,
replayer), or dates fail and replays fail falsely.

TLS comes from settings (``NAVCYCLE_TEMPORAL_TLS_*``): a CA to trust turns TLS on, and a client
certificate with its key makes it mutual. Callers that pass no ``tls`` get the settings' TLS.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import TLSConfig

from shared.settings import Settings


def temporal_tls(settings: Settings) -> TLSConfig | None:
    """The TLS to talk to Temporal with, or ``None`` for plain gRPC (the embedded dev server)."""
    if not (settings.temporal_tls_ca or settings.temporal_tls_cert):
        return None
    return TLSConfig(
        server_root_ca_cert=settings.temporal_tls_ca.read_bytes()
        if settings.temporal_tls_ca
        else None,
        client_cert=settings.temporal_tls_cert.read_bytes() if settings.temporal_tls_cert else None,
        client_private_key=settings.temporal_tls_key.read_bytes()
        if settings.temporal_tls_key
        else None,
        domain=settings.temporal_tls_server_name,
    )


async def connect_temporal(
    address: str, namespace: str = "default", *, tls: TLSConfig | bool | None = None
) -> Client:
    """``tls=None`` reads the TLS settings from the environment; ``False`` forces plain gRPC."""
    if tls is None:
        tls = temporal_tls(Settings()) or False
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter, tls=tls
    )
