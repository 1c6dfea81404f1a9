"""token-service over HTTP: resolve a link (token in the X-Extension-Token header), ask for a link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from order_service.domain.model import ExtensionLink
from renewals_shared.http import ServiceClient, ServiceUnavailable


class TokenService(Protocol):
    def resolve(self, token: str) -> ExtensionLink | None: ...

    def issue_link(
        self, *, license_id: str, product_sku: str, cycle_end: dt.date, licensee_name: str, currency: str
    ) -> dict[str, Any]: ...


def _link(body: dict[str, Any]) -> ExtensionLink:
    return ExtensionLink(
        link_id=str(body["link_id"]),
        license_id=str(body["license_id"]),
        product_sku=str(body.get("product_sku", "")),
        cycle_end=dt.date.fromisoformat(body["cycle_end"]),
        customer_discount_bp=int(body["customer_discount_bp"]),
        licensee_name=str(body["licensee_name"]),
        currency=str(body.get("currency", "")),
        status=str(body["status"]),
        expires_on=dt.date.fromisoformat(body["expires_on"]),
        redeemed_order_number=body.get("redeemed_order_number"),
    )


class HttpTokenService:
    """`context_headers`: sent with every resolve; the end user's address, for token-service's per-address guard
    against guessed links (without it, every failure would count against this service's own address)."""

    def __init__(self, client: ServiceClient, context_headers: Callable[[], dict[str, str]] = dict) -> None:
        self.client = client
        self.context_headers = context_headers

    def resolve(self, token: str) -> ExtensionLink | None:
        response = self.client.get("/links/resolve", headers={**self.context_headers(), "X-Extension-Token": token})
        if response.status_code == 404:
            return None
        if response.status_code == 429:
            raise RateLimited(response.headers.get("Retry-After", "60"))
        if response.status_code != 200:
            raise ServiceUnavailable(f"token-service resolve answered {response.status_code}")
        return _link(response.json())

    def issue_link(
        self, *, license_id: str, product_sku: str, cycle_end: dt.date, licensee_name: str, currency: str
    ) -> dict[str, Any]:
        response = self.client.post(
            "/links",
            json={
                "license_id": license_id,
                "product_sku": product_sku,
                "cycle_end": cycle_end.isoformat(),
                "licensee_name": licensee_name,
                "currency": currency,
            },
            idempotency_key=f"link:{license_id}:{cycle_end.isoformat()}",
        )
        if response.status_code not in (200, 201):
            raise ServiceUnavailable(f"token-service issue answered {response.status_code}")
        body: dict[str, Any] = response.json()
        return body


class RateLimited(Exception):
    def __init__(self, retry_after: str) -> None:
        super().__init__("too many link look-ups")
        self.retry_after = retry_after
