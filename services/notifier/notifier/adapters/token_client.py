"""token-service's issue API (POST /links, idempotent per license and cycle) through the shared ServiceClient."""

from __future__ import annotations

import datetime as dt

from renewals_shared.http import ServiceClient, ServiceUnavailable

from notifier.domain.model import LicenseProjection
from notifier.service_layer.ports import IssuedLink, LinkRejected, TransientDeliveryError


class TokenServiceLinks:
    def __init__(self, base_url: str, service_token: str, timeout: float = 5.0) -> None:
        self.client = ServiceClient(base_url, service_token, timeout=timeout)

    def issue(self, license: LicenseProjection) -> IssuedLink:
        body = {
            "license_id": license.license_id,
            "product_sku": license.product_sku,
            "cycle_end": license.maintenance_end.isoformat(),
            "licensee_name": license.licensee_name,
            "currency": license.currency,
        }
        key = f"link:{license.license_id}:{license.maintenance_end.isoformat()}"
        try:
            response = self.client.post("/links", json=body, idempotency_key=key)
        except ServiceUnavailable as exc:
            raise TransientDeliveryError(f"token-service: {exc}") from None
        if response.status_code in (200, 201):
            data = response.json()
            return IssuedLink(
                link_id=str(data["link_id"]),
                url=data["url"],
                status=data.get("status", "active"),
                cycle_end=dt.date.fromisoformat(data["cycle_end"]),
                customer_discount_bp=int(data["customer_discount_bp"]),
                expires_on=dt.date.fromisoformat(data["expires_on"]),
            )
        if response.status_code == 429:
            raise TransientDeliveryError("token-service: rate limited")
        raise LinkRejected(f"token-service refused a link for {license.license_id}: HTTP {response.status_code}")
