"""token-service over its internal HTTP contract (docs/internal-api.md)."""

from __future__ import annotations

from typing import Any

from gateway.adapters.downstream import ServiceAdapter


class TokenClient(ServiceAdapter):
    service = "token-service"

    def resolve(self, token: str) -> dict[str, Any]:
        return self.get("/links/resolve", headers={"X-Extension-Token": token})

    def revoke(self, link_id: str, reason: str) -> dict[str, Any]:
        return self.send("post", f"/links/{link_id}/revoke", json={"reason": reason})
