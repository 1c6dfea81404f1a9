"""Entities of order-service: products, price lists, licenses, orders. Plain classes, no framework imports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from order_service.domain.money import Money

ORDER_PENDING = "pending_payment"
ORDER_PAID = "paid"


class DomainError(Exception):
    """A rule refused the operation; the entrypoint maps it to a problem response."""


class NoPriceList(DomainError):
    pass


class LapsedTooLong(DomainError):
    pass


class TermNotOffered(DomainError):
    pass


class MaintenanceEndChanged(DomainError):
    pass


class OrderNotPayable(DomainError):
    pass


@dataclass
class Product:
    sku: str
    name: str
    edition: str


@dataclass
class PriceList:
    id: int | None
    product_sku: str
    currency: str
    price_per_seat_year: int  # minor units
    valid_from: dt.date
    valid_to: dt.date | None = None

    def in_force(self, on: dt.date) -> bool:
        return self.valid_from <= on and (self.valid_to is None or on <= self.valid_to)

    def list_price_per_year(self, seats: int) -> Money:
        return Money(self.price_per_seat_year * seats, self.currency)


def price_list_in_force(price_lists: list[PriceList], sku: str, currency: str, on: dt.date) -> PriceList:
    """The latest-starting price list of this product and currency in force on `on`."""
    candidates = [p for p in price_lists if p.product_sku == sku and p.currency == currency and p.in_force(on)]
    if not candidates:
        raise NoPriceList(f"no {currency} price list in force for {sku} on {on.isoformat()}")
    return max(candidates, key=lambda p: (p.valid_from, p.id or 0))


def mask_license_key(key: str) -> str:
    """All letters and digits but the last four replaced by '*', separators kept: ABCD-EFGH-IJKL -> ****-****-IJKL."""
    visible_from = len(key)
    seen = 0
    for i in range(len(key) - 1, -1, -1):
        if key[i].isalnum():
            seen += 1
            if seen == 4:
                visible_from = i
                break
    else:
        visible_from = len(key)
    return "".join(c if (i >= visible_from or not c.isalnum()) else "*" for i, c in enumerate(key))


@dataclass
class License:
    id: str
    license_key: str
    product_sku: str
    seats: int
    licensee_name: str
    purchase_date: dt.date
    maintenance_end: dt.date
    contact_email: str
    currency: str
    end_customer: dict[str, Any]
    previous_order_number: str | None = None
    reseller_id: str | None = None

    @property
    def license_key_masked(self) -> str:
        return mask_license_key(self.license_key)


def format_order_number(year: int, sequence: int) -> str:
    return f"R-{year}-{sequence:06d}"


@dataclass
class Order:
    order_number: str
    license_id: str
    link_id: str
    status: str
    licensee_name: str
    product_name: str
    license_key_masked: str
    billing: dict[str, Any]
    end_customer: dict[str, Any]
    reseller_id: str | None
    term_years: int
    years_charged: int
    price_per_year: Money
    total: Money
    effective_discount_bp: int
    customer_discount_bp: int
    reseller_discount_bp: int
    previous_maintenance_end: dt.date
    new_maintenance_end: dt.date
    payment_methods: list[str]
    created_at: dt.datetime
    paid_at: dt.datetime | None = None
    payment_method: str | None = None
    card_brand: str | None = None
    card_last4: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def mark_paid(self, *, at: dt.datetime, method: str, card_brand: str | None, card_last4: str | None) -> None:
        if self.status != ORDER_PENDING:
            raise OrderNotPayable(f"order {self.order_number} is {self.status}")
        self.status = ORDER_PAID
        self.paid_at = at
        self.payment_method = method
        self.card_brand = card_brand
        self.card_last4 = card_last4


LINK_ACTIVE = "active"


@dataclass(frozen=True)
class ExtensionLink:
    """What token-service tells us about a link (the raw token never leaves the request that carried it)."""

    link_id: str
    license_id: str
    product_sku: str
    cycle_end: dt.date
    customer_discount_bp: int
    licensee_name: str
    currency: str
    status: str
    expires_on: dt.date
    redeemed_order_number: str | None = None


@dataclass(frozen=True)
class ResellerAccount:
    id: str
    status: str
    discount_bp: int
    invoice_allowed: bool
    billing: dict[str, Any]
    company: str = ""
    email: str = ""

    @property
    def approved(self) -> bool:
        return self.status == "approved"
