"""The admin reads the gateway's operations console needs: any order without buyer proof, the catalogue."""

from __future__ import annotations

from types import SimpleNamespace

SERVICE = {"Authorization": "Bearer test-service-token-0123456789"}
OPS = {"Authorization": "Bearer test-ops-token-0123456789"}


def test_operations_read_any_order_by_number(order: SimpleNamespace, fakes: SimpleNamespace) -> None:
    lic = order.seed()
    fakes.tokens.add_link("tok-1", license_id=lic["id"], cycle_end=order.end(lic["maintenance_end"]))
    placed = order.client.post(
        "/orders", json={"term_years": 1}, headers=SERVICE | {"X-Extension-Token": "tok-1", "Idempotency-Key": "k-1"}
    ).get_json()
    number = placed["order_number"]
    # the buyer route needs proof; the admin route does not, but needs the ops (or service) credential
    assert order.client.get(f"/orders/{number}", headers=SERVICE).status_code == 404
    found = order.client.get(f"/admin/orders/{number}", headers=OPS)
    assert found.status_code == 200
    assert found.get_json()["order_number"] == number
    assert found.get_json()["end_customer"]["company"] == "Example GmbH"
    assert order.client.get(f"/admin/orders/{number}").status_code == 401
    missing = order.client.get("/admin/orders/R-1999-000001", headers=OPS)
    assert missing.status_code == 404 and missing.content_type == "application/problem+json"


def test_the_catalogue_lists_products_with_their_price_lists(order: SimpleNamespace) -> None:
    order.seed()
    order.client.post(
        "/admin/price-lists",
        json={"product_sku": "NOTEPAD-PRO", "currency": "USD", "price_per_seat_year": 5999, "valid_from": "2021-01-01"},
        headers=OPS,
    )
    body = order.client.get("/admin/products", headers=OPS).get_json()
    [product] = body["products"]
    assert product["sku"] == "NOTEPAD-PRO" and product["name"] == "Notepad Studio"
    assert sorted((p["currency"], p["price_per_seat_year"]) for p in product["price_lists"]) == [
        ("EUR", 4999),
        ("USD", 5999),
    ]
    assert order.client.get("/admin/products").status_code == 401


def test_dead_letters_are_listed_over_http(order: SimpleNamespace) -> None:
    response = order.client.get("/admin/dead-letters", headers=OPS)
    assert response.status_code == 200
    assert response.get_json() == {"service": "order", "dead_letters": []}
