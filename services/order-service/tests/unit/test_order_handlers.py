"""Handlers with fake adapters: the order flow's rules without a database (milliseconds)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from order_service.bootstrap import bootstrap
from order_service.domain import commands
from order_service.domain.cards import CardDetails
from order_service.domain.money import Money
from order_service.service_layer.handlers import HandlerError
from order_service.service_layer.messagebus import MessageBus
from renewals_shared.config import Settings

PARTY = {
    "name": "Alice",
    "company": "Example GmbH",
    "email": "customer@example.com",
    "vat_id": None,
    "address": {"line1": "L1", "line2": "", "postal_code": "1", "city": "Berlin", "region": "", "country": "DE"},
}
CARD = CardDetails(number="4242424242424242", exp_month=12, exp_year=2030, cvc="123")


@pytest.fixture
def bus(
    fakes: SimpleNamespace, fake_uow: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> tuple[MessageBus, Any]:
    monkeypatch.setenv("RENEWALS_VAR_DIR", str(tmp_path))
    uow = fake_uow
    b = bootstrap(
        Settings.from_env("order"),
        uow=uow,
        tokens=fakes.tokens,
        resellers=fakes.resellers,
        cards=fakes.cards,
        clock=fakes.clock,
    )
    b.handle(commands.SaveProduct(sku="NOTEPAD-PRO", name="Notepad Studio", edition="Pro"))
    b.handle(
        commands.AddPriceList(
            product_sku="NOTEPAD-PRO", currency="EUR", price_per_seat_year=10000, valid_from=dt.date(2020, 1, 1)
        )
    )
    report = b.handle(
        commands.ImportLicenses(
            rows=[
                (
                    1,
                    {
                        "license_key": "KEY-0000-0001",
                        "product_sku": "NOTEPAD-PRO",
                        "seats": 1,
                        "licensee_name": "Example GmbH",
                        "purchase_date": dt.date(2024, 2, 29),
                        "maintenance_end": dt.date(2026, 2, 28),
                        "contact_email": "customer@example.com",
                        "currency": "EUR",
                        "end_customer": PARTY,
                        "previous_order_number": None,
                        "reseller_id": None,
                    },
                )
            ]
        )
    )
    assert report["imported"] == 1
    lic_id = next(iter(uow.license_rows))
    fakes.tokens.add_link("tok", license_id=lic_id, cycle_end=dt.date(2026, 2, 28))
    return b, uow


def test_lapsed_one_day_feb29_license_is_priced_from_p(bus: tuple[MessageBus, Any]) -> None:
    b, _ = bus  # today 2026-03-01 is one day after E = 2026-02-28
    quote = b.handle(commands.GetQuote(token="tok"))
    assert [t["new_maintenance_end"] for t in quote["offer"]["terms"]] == ["2027-02-28", "2028-02-29", "2029-02-28"]
    assert quote["offer"]["price_per_year"]["amount"] == 5000


def test_order_then_payment_moves_e_and_emits_events(bus: tuple[MessageBus, Any], fakes: SimpleNamespace) -> None:
    b, uow = bus
    status, order = b.handle(commands.PlaceOrder(token="tok", term_years=2, idempotency_key="k", request_hash="h"))
    assert status == 201 and order["new_maintenance_end"] == "2028-02-29" and order["total"]["amount"] == 10000
    status, paid = b.handle(
        commands.PayOrder(
            order_number=order["order_number"],
            method="card",
            idempotency_key="p",
            request_hash="h",
            token="tok",
            card=CARD,
        )
    )
    assert status == 200 and paid["status"] == "paid"
    assert next(iter(uow.license_rows.values())).maintenance_end == dt.date(2028, 2, 29)
    assert [e.type for e in uow.events] == [
        "license.registered",
        "order.placed",
        "order.paid",
        "license.maintenance_extended",
    ]
    assert fakes.cards.charges == [(order["order_number"], Money(10000, "EUR"))]


def test_same_key_other_request_is_refused(bus: tuple[MessageBus, Any]) -> None:
    b, uow = bus
    b.handle(commands.PlaceOrder(token="tok", term_years=1, idempotency_key="k", request_hash="h1"))
    with pytest.raises(HandlerError) as exc:
        b.handle(commands.PlaceOrder(token="tok", term_years=2, idempotency_key="k", request_hash="h2"))
    assert exc.value.status == 422
    assert len(uow.order_rows) == 1


def test_failed_order_writes_nothing(bus: tuple[MessageBus, Any], fakes: SimpleNamespace) -> None:
    b, uow = bus
    fakes.resellers.add("r-pending", status="pending")
    with pytest.raises(HandlerError) as exc:
        b.handle(
            commands.PlaceOrder(
                token="tok", term_years=1, idempotency_key="k", request_hash="h", reseller_id="r-pending"
            )
        )
    assert exc.value.status == 403
    assert uow.order_rows == {} and uow.keys == {}


def test_payment_refused_when_e_changed_since_pricing(bus: tuple[MessageBus, Any], fakes: SimpleNamespace) -> None:
    b, uow = bus
    _, order = b.handle(commands.PlaceOrder(token="tok", term_years=1, idempotency_key="k", request_hash="h"))
    lic = next(iter(uow.license_rows.values()))
    lic.maintenance_end = dt.date(2027, 2, 28)
    with pytest.raises(HandlerError) as exc:
        b.handle(
            commands.PayOrder(
                order_number=order["order_number"],
                method="card",
                idempotency_key="p",
                request_hash="h",
                token="tok",
                card=CARD,
            )
        )
    assert exc.value.status == 409 and fakes.cards.charges == []


def test_card_repr_never_shows_the_number() -> None:
    assert "4242424242424242" not in repr(CARD) and "123" not in repr(CARD)


def test_a_suspension_reaches_orders_at_once_and_quotes_after_their_seconds(
    bus: tuple[MessageBus, Any], fakes: SimpleNamespace
) -> None:
    b, _ = bus
    fakes.resellers.add("r-1", discount_bp=1000)
    assert b.handle(commands.GetQuote(token="tok", reseller_id="r-1"))["offer"]["reseller_discount_bp"] == 1000

    fakes.resellers.add("r-1", status="suspended")

    # the quote a moment later may still show the discount: a price shown, not charged
    assert b.handle(commands.GetQuote(token="tok", reseller_id="r-1"))["offer"]["reseller_discount_bp"] == 1000
    with pytest.raises(HandlerError) as refused:
        b.handle(
            commands.PlaceOrder(token="tok", term_years=1, idempotency_key="k", request_hash="h", reseller_id="r-1")
        )
    assert refused.value.status == 403
