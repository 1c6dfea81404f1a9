"""What callers ask the token-service to do."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class IssueLink:
    license_id: str
    product_sku: str
    cycle_end: dt.date
    licensee_name: str
    currency: str


@dataclass(frozen=True)
class ResolveLink:
    token: str


@dataclass(frozen=True)
class RedeemLink:
    link_id: str
    order_number: str


@dataclass(frozen=True)
class RevokeLink:
    link_id: str
    reason: str


@dataclass(frozen=True)
class RevokeOtherLinks:
    """The license's maintenance end changed: every active link is revoked except the one of ``keep_cycle_end``
    (the cycle an order just extended; ``order.paid`` redeems that one, in whichever order the events arrive)."""

    license_id: str
    reason: str
    keep_cycle_end: dt.date | None = None


@dataclass(frozen=True)
class SetProductDiscount:
    product_sku: str
    customer_discount_bp: int


@dataclass(frozen=True)
class SetLicenseDiscount:
    license_id: str
    customer_discount_bp: int
