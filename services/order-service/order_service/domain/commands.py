"""Commands: what a caller asks order-service to do. Small dataclasses, validated at the edge already."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from order_service.domain.cards import CardDetails


@dataclass(frozen=True)
class GetQuote:
    token: str
    reseller_id: str | None = None


@dataclass(frozen=True)
class PlaceOrder:
    token: str
    term_years: int
    idempotency_key: str
    request_hash: str
    reseller_id: str | None = None


@dataclass(frozen=True)
class PayOrder:
    order_number: str
    method: str
    idempotency_key: str
    request_hash: str
    token: str | None = None
    reseller_id: str | None = None
    card: CardDetails | None = field(default=None, repr=False)


@dataclass(frozen=True)
class GetOrder:
    order_number: str
    token: str | None = None
    reseller_id: str | None = None


@dataclass(frozen=True)
class ListOrders:
    reseller_id: str


@dataclass(frozen=True)
class SaveProduct:
    sku: str
    name: str
    edition: str
    create: bool = True


@dataclass(frozen=True)
class AddPriceList:
    product_sku: str
    currency: str
    price_per_seat_year: int
    valid_from: dt.date
    valid_to: dt.date | None = None


@dataclass(frozen=True)
class ImportLicenses:
    rows: list[tuple[int, dict[str, Any]]]  # (line number, validated fields)
    errors: list[dict[str, Any]] = field(default_factory=list)  # rows already refused at the edge
    source: str = "import"


@dataclass(frozen=True)
class GetLicense:
    license_id: str


@dataclass(frozen=True)
class FindLicenses:
    key: str | None = None
    licensee: str | None = None
    order_number: str | None = None


@dataclass(frozen=True)
class RequestExtensionLink:
    license_id: str


@dataclass(frozen=True)
class GetOrderForOperations:
    """Operations read any order (no buyer proof): the console shows a change request's previous order."""

    order_number: str


@dataclass(frozen=True)
class ListCatalogue:
    """Every product with its price lists (the console's price-list page)."""
