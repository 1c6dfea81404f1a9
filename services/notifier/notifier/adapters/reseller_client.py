"""reseller-service: the password-reset URL, fetched at send time and never stored (it carries a raw token)."""

from __future__ import annotations

from urllib.parse import quote

from renewals_shared.http import ServiceClient, ServiceUnavailable

from notifier.service_layer.ports import PermanentDeliveryError, TransientDeliveryError


class ResellerServiceResets:
    def __init__(self, base_url: str, service_token: str, timeout: float = 5.0) -> None:
        self.client = ServiceClient(base_url, service_token, timeout=timeout)

    def url_for(self, reset_id: str) -> str:
        try:
            response = self.client.get(f"/password-resets/{quote(reset_id, safe='')}/url")
        except ServiceUnavailable as exc:
            raise TransientDeliveryError(f"reseller-service: {exc}") from None
        if response.status_code == 200:
            return str(response.json()["url"])
        if response.status_code in (404, 410):
            raise PermanentDeliveryError(f"password reset {reset_id} is gone (HTTP {response.status_code})")
        raise TransientDeliveryError(f"reseller-service: HTTP {response.status_code}")
