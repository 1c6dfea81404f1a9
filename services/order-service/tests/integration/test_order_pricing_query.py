"""The one query behind quotes and orders (license + product + price list in force) against the domain's rule."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from order_service.adapters.repository import LicenseRepository, PriceListRepository
from order_service.domain.model import License, NoPriceList, price_list_in_force

OPS = {"Authorization": "Bearer test-ops-token-0123456789"}
SERVICE = {"Authorization": "Bearer test-service-token-0123456789"}

# (product, currency, price, valid_from, valid_to): a gap in January 2024, a list announced for the future, other
# currencies and another product's list that starts later than any of the license's own
PRICE_LISTS = [
    ("NOTEPAD-PRO", "EUR", 1000, "2020-01-01", "2023-12-31"),
    ("NOTEPAD-PRO", "EUR", 2000, "2024-02-01", None),
    ("NOTEPAD-PRO", "EUR", 2500, "2025-07-01", "2025-09-30"),
    ("NOTEPAD-PRO", "EUR", 3000, "2027-01-01", None),
    ("NOTEPAD-PRO", "USD", 5000, "2019-01-01", None),
    ("NOTEPAD-PRO", "CHF", 7000, "2026-01-01", None),
    ("OTHER", "EUR", 9000, "2025-01-01", None),
]
DAYS = [
    "2019-12-31",
    "2020-01-01",
    "2023-12-31",
    "2024-01-15",
    "2024-02-01",
    "2025-07-01",
    "2025-09-30",
    "2025-10-01",
    "2026-12-31",
    "2027-01-01",
]


@pytest.fixture
def catalogue(order: SimpleNamespace) -> SimpleNamespace:
    lic = order.seed()  # NOTEPAD-PRO in EUR, with its own EUR list from 2020-01-01 (replaced below)
    order.client.post("/admin/products", json={"sku": "OTHER", "name": "Other", "edition": ""}, headers=OPS)
    for sku, currency, price, valid_from, valid_to in PRICE_LISTS:
        r = order.client.post(
            "/admin/price-lists",
            headers=OPS,
            json={
                "product_sku": sku,
                "currency": currency,
                "price_per_seat_year": price,
                "valid_from": valid_from,
                "valid_to": valid_to,
            },
        )
        assert r.status_code == 201, r.get_json()
    return SimpleNamespace(license_id=lic["id"])


def _expected(connection: object, on: dt.date, currency: str) -> int | None:
    lists = PriceListRepository(connection).for_product("NOTEPAD-PRO") + PriceListRepository(connection).for_product(
        "OTHER"
    )
    try:
        return price_list_in_force(lists, "NOTEPAD-PRO", currency, on).price_per_seat_year
    except NoPriceList:
        return None


def _bill_in(order: SimpleNamespace, license_id: str, currency: str) -> License:
    """The license switched to `currency` (stored), as it now reads."""
    with order.engine.begin() as connection:
        licenses = LicenseRepository(connection)
        lic = licenses.get(license_id)
        lic.currency = currency
        licenses.update(lic)
    return lic


@pytest.mark.parametrize("currency", ["EUR", "USD", "CHF", "GBP"])
def test_the_query_picks_the_price_list_the_domain_rule_picks(
    order: SimpleNamespace, catalogue: SimpleNamespace, currency: str
) -> None:
    _bill_in(order, catalogue.license_id, currency)
    with order.engine.connect() as connection:
        for day in map(dt.date.fromisoformat, DAYS):
            lic, product, price_list = LicenseRepository(connection).get_priced(catalogue.license_id, day)
            assert (lic.currency, product.name) == (currency, "Notepad Studio")
            found = price_list.price_per_seat_year if price_list else None
            assert found == _expected(connection, day, currency), (currency, day)
            if price_list:
                assert (price_list.product_sku, price_list.currency) == ("NOTEPAD-PRO", currency)
                assert price_list.in_force(day)


def test_the_query_reads_as_expected_on_some_days(order: SimpleNamespace, catalogue: SimpleNamespace) -> None:
    """The rule itself, spelled out (so that a wrong rule and a wrong query cannot agree unnoticed)."""
    with order.engine.connect() as connection:
        prices = {
            day: (LicenseRepository(connection).get_priced(catalogue.license_id, dt.date.fromisoformat(day))[2])
            for day in ("2019-12-31", "2024-01-15", "2024-01-31", "2025-07-01", "2025-10-01", "2027-06-30")
        }
        assert LicenseRepository(connection).get_priced("no-such-license", dt.date(2026, 1, 1)) is None
    assert {day: p.price_per_seat_year if p else None for day, p in prices.items()} == {
        "2019-12-31": None,
        "2024-01-15": None,  # the gap between two lists
        "2024-01-31": None,
        "2025-07-01": 2500,  # the latest-starting list in force wins
        "2025-10-01": 2000,
        "2027-06-30": 3000,
    }


def test_no_price_list_in_force_refuses_quote_and_order(
    order: SimpleNamespace, catalogue: SimpleNamespace, fakes: SimpleNamespace
) -> None:
    lic = _bill_in(order, catalogue.license_id, "GBP")
    fakes.tokens.add_link("tok", license_id=lic.id, cycle_end=lic.maintenance_end)
    headers = {**SERVICE, "X-Extension-Token": "tok"}
    quote = order.client.get("/quote", headers=headers)
    assert quote.status_code == 409 and quote.get_json()["title"] == "No price list"
    assert quote.get_json()["detail"] == "no GBP price list in force for NOTEPAD-PRO on 2026-03-01"
    placed = order.client.post("/orders", json={"term_years": 1}, headers={**headers, "Idempotency-Key": "k"})
    assert placed.status_code == 409 and placed.get_json()["title"] == "No price list"
