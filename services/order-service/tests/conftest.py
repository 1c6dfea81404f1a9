"""Fakes for the two services order-service calls over HTTP (injected through bootstrap)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest

from order_service.adapters.payments import SandboxCardProvider
from order_service.domain.model import ExtensionLink, ResellerAccount
from renewals_shared.clock import FixedClock

TODAY = dt.date(2026, 3, 1)
RESELLER_BILLING = {
    "name": "Rita Reseller",
    "company": "Resell AG",
    "email": "billing@reseller.example.com",
    "vat_id": "CH999",
    "address": {
        "line1": "Bahnhofstrasse 1",
        "line2": "",
        "postal_code": "8001",
        "city": "Zurich",
        "region": "",
        "country": "CH",
    },
}


class FakeTokenService:
    def __init__(self) -> None:
        self.links: dict[str, ExtensionLink] = {}
        self.issued: list[dict[str, Any]] = []

    def add_link(
        self,
        token: str,
        *,
        license_id: str,
        cycle_end: dt.date,
        discount_bp: int = 5000,
        licensee_name: str = "Example GmbH",
        currency: str = "EUR",
        status: str = "active",
        link_id: str | None = None,
    ) -> ExtensionLink:
        link = ExtensionLink(
            link_id=link_id or f"lnk-{len(self.links) + 1}",
            license_id=license_id,
            product_sku="NOTEPAD-PRO",
            cycle_end=cycle_end,
            customer_discount_bp=discount_bp,
            licensee_name=licensee_name,
            currency=currency,
            status=status,
            expires_on=cycle_end + dt.timedelta(days=365),
        )
        self.links[token] = link
        return link

    def set_status(self, token: str, status: str) -> None:
        link = self.links[token]
        self.links[token] = ExtensionLink(**{**link.__dict__, "status": status})

    def resolve(self, token: str) -> ExtensionLink | None:
        return self.links.get(token)

    def issue_link(self, **kwargs: Any) -> dict[str, Any]:
        self.issued.append(kwargs)
        return {"url": "http://renewals.test/extend/fake-token", "link_id": "lnk-issued"}


class FakeResellerService:
    def __init__(self) -> None:
        self.accounts: dict[str, ResellerAccount] = {}

    def add(
        self, reseller_id: str, *, status: str = "approved", discount_bp: int = 1000, invoice_allowed: bool = False
    ) -> ResellerAccount:
        account = ResellerAccount(
            id=reseller_id,
            status=status,
            discount_bp=discount_bp,
            invoice_allowed=invoice_allowed,
            billing=RESELLER_BILLING,
        )
        self.accounts[reseller_id] = account
        return account

    def get_account(self, reseller_id: str) -> ResellerAccount | None:
        return self.accounts.get(reseller_id)


@pytest.fixture
def fakes() -> SimpleNamespace:
    return SimpleNamespace(
        tokens=FakeTokenService(), resellers=FakeResellerService(), cards=SandboxCardProvider(), clock=FixedClock(TODAY)
    )


class _Repo:
    def __init__(self, session: FakeUnitOfWork) -> None:
        self.s = session


class FakeUnitOfWork:
    """In-memory repositories with the same methods as the SQL ones; commit just counts."""

    def __init__(self) -> None:
        import copy

        from order_service.domain.model import NoPriceList, format_order_number, price_list_in_force

        self._copy = copy.deepcopy
        self.products_by_sku: dict[str, Any] = {}
        self.price_list_rows: list[Any] = []
        self.license_rows: dict[str, Any] = {}
        self.order_rows: dict[str, Any] = {}
        self.keys: dict[tuple[str, str], list[Any]] = {}
        self.events: list[Any] = []
        self.pending_events: list[Any] = []
        self.payments: list[dict[str, Any]] = []
        self.history_rows: list[dict[str, Any]] = []
        self.counters: dict[int, int] = {}
        self.committed = 0
        uow = self

        class Products:
            def get(self, sku: str) -> Any:
                return uow.products_by_sku.get(sku)

            def add(self, p: Any) -> None:
                uow.products_by_sku[p.sku] = p

            update = add

        class PriceLists:
            def add(self, pl: Any) -> Any:
                pl.id = len(uow.price_list_rows) + 1
                uow.price_list_rows.append(pl)
                return pl

            def for_product(self, sku: str, currency: str | None = None) -> list[Any]:
                return [
                    p for p in uow.price_list_rows if p.product_sku == sku and (not currency or p.currency == currency)
                ]

        class Licenses:
            def get(self, license_id: str) -> Any:
                lic = uow.license_rows.get(license_id)
                return uow._copy(lic) if lic else None

            def get_priced(self, license_id: str, on: Any) -> Any:
                lic = self.get(license_id)
                if lic is None:
                    return None
                try:
                    price_list = price_list_in_force(uow.price_list_rows, lic.product_sku, lic.currency, on)
                except NoPriceList:
                    price_list = None
                return lic, uow.products_by_sku.get(lic.product_sku), price_list

            def get_by_key(self, key: str, for_update: bool = False) -> Any:
                return next((uow._copy(x) for x in uow.license_rows.values() if x.license_key == key), None)

            def add(self, lic: Any) -> None:
                uow.license_rows[lic.id] = uow._copy(lic)

            update = add

            def record_extension(self, lic: Any) -> None:
                stored = uow.license_rows[lic.id]
                stored.maintenance_end, stored.previous_order_number = lic.maintenance_end, lic.previous_order_number

            def add_history(self, license_id: str, **kw: Any) -> None:
                uow.history_rows.append({"license_id": license_id, **kw})

        class Orders:
            def next_order_number(self, year: int) -> str:
                uow.counters[year] = uow.counters.get(year, 0) + 1
                return format_order_number(year, uow.counters[year])

            def add(self, order: Any) -> None:
                uow.order_rows[order.order_number] = uow._copy(order)

            save_payment_state = add

            def get(self, number: str) -> Any:
                o = uow.order_rows.get(number)
                return uow._copy(o) if o else None

            def get_with_stored_response(self, number: str, scope: str, key: str) -> Any:
                order = self.get(number)
                return (order, uow.idempotency.get(scope, key)) if order else (None, None)

            def lock_with_license(self, number: str) -> Any:
                order = self.get(number)
                return (order, uow.licenses.get(order.license_id)) if order else None

            def paid_order_for_link(self, link_id: str) -> str | None:
                return next(
                    (o.order_number for o in uow.order_rows.values() if o.link_id == link_id and o.status == "paid"),
                    None,
                )

            def add_payment(self, number: str, **kw: Any) -> None:
                uow.payments.append({"order_number": number, **kw})

            def list_by_reseller(self, reseller_id: str) -> list[Any]:
                return [o for o in uow.order_rows.values() if o.reseller_id == reseller_id]

        class Idempotency:
            def get(self, scope: str, key: str) -> Any:
                row = uow.keys.get((scope, key))
                return tuple(row) if row else None

            def claim(self, scope: str, key: str, request_hash: str) -> bool:
                if (scope, key) in uow.keys:
                    return False
                uow.keys[(scope, key)] = [request_hash, None, None]
                return True

            def complete(self, scope: str, key: str, status: int, body: Any) -> None:
                uow.keys[(scope, key)][1:] = [status, body]

        self.products, self.price_lists, self.licenses = Products(), PriceLists(), Licenses()
        self.orders, self.idempotency, self.audit = Orders(), Idempotency(), None

    def reading(self) -> FakeUnitOfWork:
        return self

    def __enter__(self) -> FakeUnitOfWork:
        self._snapshot = self._copy(
            (
                self.products_by_sku,
                self.price_list_rows,
                self.license_rows,
                self.order_rows,
                self.keys,
                self.payments,
                self.counters,
            )
        )
        self.pending_events = []
        return self

    def __exit__(self, *args: object) -> None:
        if self._snapshot is not None:  # not committed: roll back
            (
                self.products_by_sku,
                self.price_list_rows,
                self.license_rows,
                self.order_rows,
                self.keys,
                self.payments,
                self.counters,
            ) = self._snapshot
        self.pending_events = []

    def commit(self) -> None:
        self.committed += 1
        self.events.extend(self.pending_events)
        self.pending_events = []
        self._snapshot = None

    def rollback(self) -> None:
        pass

    def add_event(self, event: Any) -> None:
        self.pending_events.append(event)


@pytest.fixture
def fake_uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()
