"""notifier's one HTTP endpoint: an on-demand reminder scan (ops)."""

from __future__ import annotations

from typing import Any

from gateway.adapters.downstream import ServiceAdapter


class NotifierClient(ServiceAdapter):
    service = "notifier"

    def reminder_scan(self, as_of: str | None = None) -> dict[str, Any]:
        return self.send("post", "/admin/reminder-scans", json={"as_of": as_of} if as_of else {})
