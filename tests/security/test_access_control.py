"""IDOR: nobody reads, pays or lists what belongs to another buyer, whatever number or id they guess."""

from __future__ import annotations

import uuid

import requests
from journey import login, register_and_approve_reseller
from purchases import (
    buy_direct,
    buyable_link,
    new_product,
    pay_direct,
    pay_reseller,
    place_direct_order,
    place_reseller_order,
)


def _reseller(system):
    email = f"idor-{uuid.uuid4().hex[:8]}@acme.example"
    reseller_id = register_and_approve_reseller(system, email)
    return reseller_id, login(system, email)


def test_a_reseller_cannot_read_pay_or_list_another_resellers_orders_or_account(system):
    sku = new_product(system)
    a_id, a = _reseller(system)
    b_id, b = _reseller(system)
    link = buyable_link(system, sku)
    placed = place_reseller_order(system, a, link.token)
    assert placed.status_code == 201, placed.text
    number = placed.json()["order_number"]

    # B guesses A's order number: reading, paying and the order pages all answer "not found"
    assert b.get(f"{system.url()}/api/v1/orders/{number}", timeout=20).status_code == 404
    stolen = pay_reseller(system, b, number)
    assert stolen.status_code == 404, stolen.text
    assert b.get(f"{system.url()}/orders/{number}", timeout=20).status_code == 404
    assert b.get(f"{system.url()}/orders/{number}/pay", timeout=20).status_code == 404
    assert number not in b.get(f"{system.url()}/api/v1/reseller/orders", timeout=20).text
    assert number not in b.get(f"{system.url()}/reseller/orders", timeout=20).text

    # B sees only its own account, and there is no way to name A's
    account = b.get(f"{system.url()}/api/v1/reseller/account", timeout=20).json()
    assert account["id"] == b_id
    assert b.get(f"{system.url()}/api/v1/resellers/{a_id}", timeout=20).status_code in (404, 405)
    assert b.get(f"{system.url()}/api/v1/reseller/account", params={"id": a_id}, timeout=20).json()["id"] == b_id
    page = b.get(f"{system.url()}/reseller/account", params={"id": a_id, "reseller_id": a_id}, timeout=20)
    assert page.status_code == 200 and account["email"] in page.text
    # the order is still A's and unpaid; A can pay it
    assert a.get(f"{system.url()}/api/v1/orders/{number}", timeout=20).json()["status"] == "pending_payment"
    assert pay_reseller(system, a, number).status_code == 200


def test_a_direct_customer_cannot_read_or_pay_another_order_by_guessing_its_number(system):
    sku = new_product(system)
    mine, theirs = buyable_link(system, sku), buyable_link(system, sku)
    their_order = buy_direct(system, theirs)["order_number"]
    my_placed = place_direct_order(system, mine.token)
    assert my_placed.status_code == 201, my_placed.text
    my_number = my_placed.json()["order_number"]

    prefix, _, digits = their_order.rpartition("-")
    guesses = {their_order, my_number}
    if digits.isdigit():
        guesses |= {f"{prefix}-{int(digits) + d:0{len(digits)}d}" for d in range(-3, 4) if int(digits) + d > 0}
    for number in sorted(guesses - {my_number}):
        # with my own link as proof, with none, and through the pages
        with_my_link = requests.get(
            f"{system.url()}/api/v1/orders/{number}", headers={"X-Extension-Token": mine.token}, timeout=20
        )
        assert with_my_link.status_code == 404, (number, with_my_link.text)
        assert requests.get(f"{system.url()}/api/v1/orders/{number}", timeout=20).status_code == 404
        assert requests.get(f"{system.url()}/orders/{number}", timeout=20).status_code == 404
        assert pay_direct(system, number, mine.token).status_code == 404
    # my own order is readable with my link
    own = requests.get(
        f"{system.url()}/api/v1/orders/{my_number}", headers={"X-Extension-Token": mine.token}, timeout=20
    )
    assert own.status_code == 200 and own.json()["license_id"] == mine.license_id


def test_admin_api_refuses_everyone_without_the_operations_token(system):
    _id, reseller = _reseller(system)
    for method, path in (
        ("get", "/api/v1/admin/licenses"),
        ("get", "/api/v1/admin/resellers?status=pending"),
        ("post", "/api/v1/admin/reminder-scans"),
        ("post", "/api/v1/admin/products"),
    ):
        anonymous = getattr(requests, method)(f"{system.url()}{path}", json={}, timeout=20)
        assert anonymous.status_code == 401, (path, anonymous.text)
        as_reseller = getattr(reseller, method)(f"{system.url()}{path}", json={}, timeout=20)
        assert as_reseller.status_code == 401, (path, as_reseller.text)
        wrong = getattr(requests, method)(
            f"{system.url()}{path}", json={}, headers={"Authorization": "Bearer not-the-token"}, timeout=20
        )
        assert wrong.status_code == 401, (path, wrong.text)
    # the internal services refuse calls without their credential
    for service, path in (("order", "/admin/licenses"), ("reseller", "/admin/resellers"), ("token", "/links/resolve")):
        assert requests.get(f"{system.url(service)}{path}", timeout=20).status_code == 401, (service, path)
