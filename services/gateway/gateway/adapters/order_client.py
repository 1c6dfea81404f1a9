"""order-service over its internal HTTP contract (docs/internal-api.md)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote as quote_segment

from gateway.adapters.downstream import DownstreamError, ServiceAdapter

# what an HTTP header can carry; every real token is URL-safe base64, so anything else is an unknown link
_HEADER_SAFE_TOKEN = re.compile(r"[\x21-\x7e]{1,512}")


def _token_header(token: str | None) -> dict[str, str]:
    if not token:
        return {}
    if not _HEADER_SAFE_TOKEN.fullmatch(token):
        # exactly order-service's answer for an unknown link: malformed and unknown must look the same
        problem = {"title": "Link not found", "status": 404, "detail": "This extension link is unknown."}
        raise DownstreamError(OrderClient.service, 404, problem)
    return {"X-Extension-Token": token}


class OrderClient(ServiceAdapter):
    service = "order-service"

    def quote(self, token: str, reseller_id: str | None = None) -> dict[str, Any]:
        params = {"reseller_id": reseller_id} if reseller_id else None
        return self.get("/quote", params=params, headers=_token_header(token))

    def place_order(
        self,
        token: str,
        term_years: int,
        idempotency_key: str,
        reseller_id: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"term_years": term_years}
        if reseller_id:
            body["reseller_id"] = reseller_id
        return self.send(
            "post",
            "/orders",
            json=body,
            headers=_token_header(token),
            idempotency_key=idempotency_key,
        )

    def pay(
        self,
        order_number: str,
        payment: dict[str, Any],
        idempotency_key: str,
        token: str | None = None,
        reseller_id: str | None = None,
    ) -> dict[str, Any]:
        body = dict(payment)
        if reseller_id:
            body["reseller_id"] = reseller_id
        return self.send(
            "post",
            f"/orders/{quote_segment(order_number, safe='')}/payments",
            json=body,
            headers=_token_header(token),
            idempotency_key=idempotency_key,
        )

    def get_order(
        self,
        order_number: str,
        token: str | None = None,
        reseller_id: str | None = None,
    ) -> dict[str, Any]:
        params = {"reseller_id": reseller_id} if reseller_id else None
        return self.get(f"/orders/{quote_segment(order_number, safe='')}", params=params, headers=_token_header(token))

    def list_orders(self, reseller_id: str) -> list[dict[str, Any]]:
        return list(self.get("/orders", params={"reseller_id": reseller_id}).get("orders", []))
