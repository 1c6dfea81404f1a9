"""A real order-service app (real PostgreSQL through service_env) with fake token/reseller services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient

from order_service.entrypoints.flask_app import create_app
from renewals_shared.db import make_engine

SERVICE = {"Authorization": "Bearer test-service-token-0123456789"}
OPS = {"Authorization": "Bearer test-ops-token-0123456789"}

END_CUSTOMER = {
    "name": "Alice Example",
    "company": "Example GmbH",
    "email": "customer@example.com",
    "vat_id": None,
    "address": {
        "line1": "Musterstrasse 1",
        "line2": "",
        "postal_code": "10115",
        "city": "Berlin",
        "region": "",
        "country": "DE",
    },
}


@pytest.fixture
def order(service_env: Callable[..., Any], fakes: SimpleNamespace) -> Iterator[SimpleNamespace]:
    settings = service_env("order")
    engine = make_engine(settings.database_url, pool_size=10, max_overflow=15)
    app = create_app(
        settings, engine=engine, tokens=fakes.tokens, resellers=fakes.resellers, cards=fakes.cards, clock=fakes.clock
    )
    client: FlaskClient = app.test_client()

    def seed(
        license_key: str = "ABCD-EFGH-IJKL-MNOP", purchase: str = "2021-03-31", end: str = "2026-03-31", seats: int = 2
    ) -> dict[str, Any]:
        client.post(
            "/admin/products",
            json={"sku": "NOTEPAD-PRO", "name": "Notepad Studio", "edition": "Professional"},
            headers=OPS,
        )
        client.post(
            "/admin/price-lists",
            json={
                "product_sku": "NOTEPAD-PRO",
                "currency": "EUR",
                "price_per_seat_year": 4999,
                "valid_from": "2020-01-01",
            },
            headers=OPS,
        )
        r = client.post(
            "/admin/licenses",
            json={
                "license_key": license_key,
                "product_sku": "NOTEPAD-PRO",
                "seats": seats,
                "licensee_name": "Example GmbH",
                "purchase_date": purchase,
                "maintenance_end": end,
                "contact_email": "customer@example.com",
                "currency": "EUR",
                "end_customer": END_CUSTOMER,
                "previous_order_number": "R-2021-000007",
            },
            headers=OPS,
        )
        assert r.status_code in (200, 201), r.get_json()
        found = client.get(f"/admin/licenses?key={license_key}", headers=OPS).get_json()["licenses"][0]
        return found

    yield SimpleNamespace(
        app=app, client=client, engine=engine, settings=settings, seed=seed, end=dt.date.fromisoformat
    )
    engine.dispose()
