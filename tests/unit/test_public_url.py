"""Sign-in links name the address people open the portal at: NAVCYCLE_PUBLIC_URL behind a TLS
proxy, else the gateway's own host and port."""

from __future__ import annotations

from datetime import UTC, datetime

from services.gateway.identity.portal_sessions import IssuedLink
from shared.settings import Settings


def test_a_sign_in_link_names_the_public_address_when_there_is_one() -> None:
    link = IssuedLink(token="t0k", expires_at=datetime(2027, 1, 1, tzinfo=UTC), program="p")
    behind = Settings(_env_file=None, public_url="https://navcycle.example.gov.cn/")  # type: ignore[call-arg]
    assert link.url(behind.portal_url) == "https://navcycle.example.gov.cn/portal/signin/t0k"
    plain = Settings(_env_file=None, http_host="10.0.0.5", http_port=8443)  # type: ignore[call-arg]
    assert link.url(plain.portal_url) == "http://10.0.0.5:8443/portal/signin/t0k"
