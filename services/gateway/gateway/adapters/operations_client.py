"""The services' admin endpoints the operations console calls (docs/internal-api.md, "Admin (ops)").

Built on the gateway's per-service adapters (service credential, timeouts, retries only for GETs). Each write
names the operator in `X-Actor` (reseller-service records it on billing edits and change-request closes).
"""

from __future__ import annotations

from typing import Any, Protocol

DEAD_LETTER_SERVICES = ("order", "token", "reseller", "notifier")


class Adapter(Protocol):
    service: str

    def get(
        self, path: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]: ...

    def send(
        self,
        method: str,
        path: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]: ...


def _actor(actor: str) -> dict[str, str]:
    return {"X-Actor": f"ops:{actor}"[:200]}


class OperationsClient:
    def __init__(self, orders: Adapter, tokens: Adapter, resellers: Adapter, notifier: Adapter) -> None:
        self.orders = orders
        self.tokens = tokens
        self.resellers = resellers
        self.notifier = notifier

    # --- resellers ---------------------------------------------------------------------------------------------
    def resellers_by_status(self, status: str | None) -> list[dict[str, Any]]:
        params = {"status": status} if status else None
        return list(self.resellers.get("/admin/resellers", params=params).get("resellers", []))

    def reseller(self, reseller_id: str) -> dict[str, Any]:
        return self.resellers.get(f"/resellers/{reseller_id}")

    def billing_edits(self, reseller_id: str) -> list[dict[str, Any]]:
        return list(self.resellers.get(f"/admin/resellers/{reseller_id}/billing-edits").get("billing_edits", []))

    def approve(self, reseller_id: str, discount_bp: int | None, invoice_allowed: bool | None, actor: str) -> dict:
        body: dict[str, Any] = {}
        if discount_bp is not None:
            body["discount_bp"] = discount_bp
        if invoice_allowed is not None:
            body["invoice_allowed"] = invoice_allowed
        return self.resellers.send("post", f"/admin/resellers/{reseller_id}/approve", json=body, headers=_actor(actor))

    def reject(self, reseller_id: str, reason: str, actor: str) -> dict[str, Any]:
        return self.resellers.send(
            "post", f"/admin/resellers/{reseller_id}/reject", json={"reason": reason}, headers=_actor(actor)
        )

    def suspend(self, reseller_id: str, reason: str, actor: str) -> dict[str, Any]:
        return self.resellers.send(
            "post", f"/admin/resellers/{reseller_id}/suspend", json={"reason": reason}, headers=_actor(actor)
        )

    def update_billing(self, reseller_id: str, billing: dict[str, Any], actor: str) -> dict[str, Any]:
        return self.resellers.send(
            "patch", f"/admin/resellers/{reseller_id}/billing", json=billing, headers=_actor(actor)
        )

    # --- change requests ---------------------------------------------------------------------------------------
    def change_requests(self, status: str | None) -> list[dict[str, Any]]:
        params = {"status": status} if status else None
        return list(self.resellers.get("/admin/change-requests", params=params).get("change_requests", []))

    def close_change_request(self, request_id: str, actor: str) -> dict[str, Any]:
        return self.resellers.send("post", f"/admin/change-requests/{request_id}/close", headers=_actor(actor))

    # --- orders, licenses, catalogue ---------------------------------------------------------------------------
    def order(self, order_number: str) -> dict[str, Any]:
        return self.orders.get(f"/admin/orders/{order_number}")

    def find_licenses(self, **query: str) -> list[dict[str, Any]]:
        params = {k: v for k, v in query.items() if v}
        return list(self.orders.get("/admin/licenses", params=params).get("licenses", []))

    def license(self, license_id: str) -> dict[str, Any]:
        return self.orders.get(f"/admin/licenses/{license_id}")

    def extension_link(self, license_id: str) -> dict[str, Any]:
        """`{url, link_id}`: the license's link for its current cycle (idempotent: the same link again)."""
        return self.orders.send("post", f"/admin/licenses/{license_id}/extension-link", json={})

    def catalogue(self) -> list[dict[str, Any]]:
        return list(self.orders.get("/admin/products").get("products", []))

    def add_price_list(self, price_list: dict[str, Any]) -> dict[str, Any]:
        return self.orders.send("post", "/admin/price-lists", json=price_list)

    # --- platform ----------------------------------------------------------------------------------------------
    def _by_service(self, service: str) -> Adapter:
        adapters = {"order": self.orders, "token": self.tokens, "reseller": self.resellers, "notifier": self.notifier}
        if service not in adapters:
            raise ValueError(f"unknown service {service!r}")
        return adapters[service]

    def dead_letters(self, service: str) -> list[dict[str, Any]]:
        return list(self._by_service(service).get("/admin/dead-letters").get("dead_letters", []))

    def replay_dead_letters(self, service: str, ids: list[str] | None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"ids": ids} if ids else {"all": True}
        return list(self._by_service(service).send("post", "/admin/dead-letters/replay", json=body).get("replayed", []))

    def discard_dead_letters(self, service: str, ids: list[str]) -> list[dict[str, Any]]:
        return list(
            self._by_service(service)
            .send("post", "/admin/dead-letters/discard", json={"ids": ids})
            .get("discarded", [])
        )

    def reminder_scan(self, as_of: str | None) -> dict[str, Any]:
        return self.notifier.send("post", "/admin/reminder-scans", json={"as_of": as_of} if as_of else {})
