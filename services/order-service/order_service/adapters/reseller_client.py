"""reseller-service over HTTP: the account (status, discount, invoice permission, billing party)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
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


class RecentResellerAccounts:
    """Reseller accounts as read in the last `seconds`, for quotes only.

    A reseller browsing its customers' extension pages has its one account read on every page; the look-up is a
    third service call on the quote path. A quote is a price shown, not a price charged: a change of discount
    or a suspension reaches quotes within `seconds`, and orders and payments always read the account fresh.
    Per process, at most `max_accounts` entries (the least recently read go first)."""

    def __init__(
        self,
        accounts: ResellerService,
        seconds: float,
        *,
        max_accounts: int = 1024,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.accounts = accounts
        self.seconds = seconds
        self.max_accounts = max_accounts
        self.now = now
        self._recent: OrderedDict[str, tuple[float, ResellerAccount | None]] = OrderedDict()
        self._lock = threading.Lock()

    def get_account(self, reseller_id: str) -> ResellerAccount | None:
        now = self.now()
        with self._lock:
            entry = self._recent.get(reseller_id)
            if entry is not None and entry[0] > now:
                self._recent.move_to_end(reseller_id)
                return entry[1]
        account = self.accounts.get_account(reseller_id)  # outside the lock: other readers need not wait for it
        with self._lock:
            self._recent[reseller_id] = (now + self.seconds, account)
            self._recent.move_to_end(reseller_id)
            while len(self._recent) > self.max_accounts:
                self._recent.popitem(last=False)
        return account
