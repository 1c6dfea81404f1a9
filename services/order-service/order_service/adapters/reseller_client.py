"""reseller-service over HTTP: the account (status, discount, invoice permission, billing party)."""

from __future__ import annotations

from typing import Any, Protocol

from order_service.domain.model import ResellerAccount
from renewals_shared.http import ServiceClient, ServiceUnavailable


class ResellerService(Protocol):
    def get_account(self, reseller_id: str) -> ResellerAccount | None: ...


class HttpResellerService:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def get_account(self, reseller_id: str) -> ResellerAccount | None:
        response = self.client.get(f"/resellers/{reseller_id}")
        if response.status_code in (404, 422):
            return None
        if response.status_code != 200:
            raise ServiceUnavailable(f"reseller-service answered {response.status_code}")
        body: dict[str, Any] = response.json()
        return ResellerAccount(
            id=str(body["id"]),
            status=str(body["status"]),
            discount_bp=int(body.get("discount_bp") or 0),
            invoice_allowed=bool(body.get("invoice_allowed")),
            billing=dict(body.get("billing") or {}),
            company=str(body.get("company", "")),
            email=str(body.get("email", "")),
        )
