"""reseller-service over its internal HTTP contract (docs/internal-api.md)."""

from __future__ import annotations

from typing import Any

from gateway.adapters.downstream import ServiceAdapter


class ResellerClient(ServiceAdapter):
    service = "reseller-service"

    def register(self, registration: dict[str, Any]) -> dict[str, Any]:
        return self.send("post", "/resellers", json=registration)

    def authenticate(self, email: str, password: str) -> dict[str, Any]:
        return self.send("post", "/authenticate", json={"email": email, "password": password})

    def account(self, reseller_id: str) -> dict[str, Any]:
        return self.get(f"/resellers/{reseller_id}")

    def request_password_reset(self, email: str) -> None:
        self.send("post", "/password-resets", json={"email": email})

    def complete_password_reset(self, token: str, new_password: str) -> None:
        self.send(
            "post",
            "/password-resets/complete",
            json={"token": token, "new_password": new_password},
        )

    def change_request(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.send("post", "/change-requests", json=request)
