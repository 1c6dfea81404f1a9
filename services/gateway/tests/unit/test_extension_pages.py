from __future__ import annotations

import re

import pytest

from gateway.fakes import TOKEN


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html) or re.search(
        rf'id="[^"]*" name="{name}" type="hidden" value="([^"]*)"', html
    )
    assert match, f"no hidden {name}"
    return match.group(1)


def test_landing_page(world):
    response = world.client.get("/")
    assert response.status_code == 200
    assert "Extend your software maintenance" in response.get_data(as_text=True)


def test_extension_page_shows_the_offer_for_a_direct_customer(world):
    response = world.client.get(f"/extend/{TOKEN}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="licensee-name" class="fixed-value">Acme GmbH<' in html
    assert "cannot be changed during the order" in html
    assert 'id="license-key">ABCD-****-****-WXYZ<' in html
    assert 'id="customer-discount">50 %<' in html
    assert 'id="effective-discount"><strong>50 %</strong>' in html
    assert 'id="reseller-discount"' not in html
    assert 'id="price-per-year">50.00 EUR<' in html
    assert 'id="list-price">100.00 EUR<' in html
    assert 'id="term-2-end">15 March 2029<' in html
    assert 'id="term-3-charged">3 years charged<' in html
    assert 'id="total" class="total">50.00 EUR<' in html
    assert f'href="/reseller/login?next=/extend/{TOKEN}"' in html
    assert 'id="buy-now"' in html
    assert 'name="csrf_token"' in html
    assert len(hidden(html, "idempotency_key")) >= 16
    assert world.orders.calls[-1] == ("quote", None)


@pytest.mark.parametrize(
    ("term", "years", "total"),
    [
        ("1", "1", "50.00"),
        ("2", "2", "100.00"),
        ("3", "3", "150.00"),
        ("9", "1", "50.00"),
        ("x", "1", "50.00"),
    ],
)
def test_term_choice_changes_total_and_new_end(world, term, years, total):
    html = world.client.get(f"/extend/{TOKEN}?term={term}").get_data(as_text=True)
    assert f'id="total" class="total">{total} EUR<' in html
    assert hidden(html, "term_years") == years
    assert f'id="term-{years}" checked' in html.replace("\n", " ").replace("                 ", "")


def test_reseller_sees_its_discount_and_the_effective_discount(world):
    world.login()
    html = world.client.get(f"/extend/{TOKEN}").get_data(as_text=True)
    assert 'id="reseller-discount">10 %' in html
    assert 'id="effective-discount"><strong>55 %</strong>' in html
    assert 'id="price-per-year">45.00 EUR<' in html
    assert 'id="reseller-login-link"' not in html
    assert world.orders.calls[-1] == ("quote", "r-1")


@pytest.mark.parametrize(
    ("token", "status", "marker"),
    [
        ("nope", 404, 'id="link-unknown"'),
        ("tok_redeemed", 410, 'id="link-redeemed"'),
        ("tok_revoked", 410, 'id="link-revoked"'),
        ("tok_expired", 410, 'id="link-expired"'),
    ],
)
def test_bad_links_get_a_clear_page(world, token, status, marker):
    response = world.client.get(f"/extend/{token}")
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert marker in html
    assert "Traceback" not in html
    assert 'id="buy-now"' not in html


def test_lapsed_too_long_explains_and_offers_no_buy_now(world):
    response = world.client.get("/extend/tok_lapsed")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="cannot-extend"' in html
    assert "can no longer be extended online" in html
    assert 'id="buy-now"' not in html


def test_service_down_is_a_friendly_503(world):
    world.orders.down = True
    response = world.client.get(f"/extend/{TOKEN}")
    assert response.status_code == 503
    assert 'id="service-down"' in response.get_data(as_text=True)
    assert response.headers["Retry-After"]


def test_rate_limited_link_lookup(world):
    from gateway.adapters.downstream import DownstreamError

    def limited(token, reseller_id=None):
        raise DownstreamError("order-service", 429, {"title": "Too many"}, "12")

    world.orders.quote = limited
    response = world.client.get(f"/extend/{TOKEN}")
    assert response.status_code == 429
    assert "wait 12 seconds" in response.get_data(as_text=True)


def buy(world, token=TOKEN, term="2"):
    html = world.client.get(f"/extend/{token}?term={term}").get_data(as_text=True)
    return world.client.post(
        f"/extend/{token}/order",
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "term_years": hidden(html, "term_years"),
            "idempotency_key": hidden(html, "idempotency_key"),
        },
    )


def test_buy_now_without_csrf_is_rejected(world):
    world.client.get(f"/extend/{TOKEN}")
    response = world.client.post(f"/extend/{TOKEN}/order", data={"term_years": "1", "idempotency_key": "k" * 32})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert not world.orders.orders


def test_direct_customer_journey_order_pay_confirm(world):
    response = buy(world)
    assert response.status_code == 303
    number = next(iter(world.orders.orders))
    assert response.headers["Location"] == f"/orders/{number}/pay"
    assert world.orders.orders[number]["reseller_id"] is None
    assert world.orders.orders[number]["term_years"] == 2

    page = world.client.get(f"/orders/{number}/pay")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="total" class="total">100.00 EUR<' in html
    assert 'id="method-invoice"' not in html  # direct customers pay by card

    paid = world.client.post(
        f"/orders/{number}/pay",
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "idempotency_key": hidden(html, "idempotency_key"),
            "method": "card",
            "holder": "Erin End",
            "number": "4242 4242 4242 4242",
            "exp_month": "12",
            "exp_year": "2030",
            "cvc": "123",
        },
    )
    assert paid.status_code == 303
    assert paid.headers["Location"] == f"/orders/{number}"
    method, args = world.orders.calls[-1]
    assert method == "pay"
    assert args[1]["card"]["number"] == "4242424242424242"
    assert args[3] == TOKEN and args[4] is None  # direct order: proof is the link token

    confirmation = world.client.get(f"/orders/{number}")
    html = confirmation.get_data(as_text=True)
    assert confirmation.status_code == 200
    assert f'id="order-number">{number}<' in html
    assert 'id="new-maintenance-end">15 March 2029<' in html
    assert 'id="end-customer"' in html and "Acme GmbH" in html
    assert "4242424242424242" not in html


def test_same_idempotency_key_does_not_create_two_orders(world):
    html = world.client.get(f"/extend/{TOKEN}").get_data(as_text=True)
    data = {
        "csrf_token": hidden(html, "csrf_token"),
        "term_years": "1",
        "idempotency_key": hidden(html, "idempotency_key"),
    }
    first = world.client.post(f"/extend/{TOKEN}/order", data=data)
    second = world.client.post(f"/extend/{TOKEN}/order", data=data)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(world.orders.orders) == 1


def test_declined_card_shows_the_reason_next_to_the_form(world):
    buy(world)
    number = next(iter(world.orders.orders))
    html = world.client.get(f"/orders/{number}/pay").get_data(as_text=True)
    response = world.client.post(
        f"/orders/{number}/pay",
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "idempotency_key": hidden(html, "idempotency_key"),
            "method": "card",
            "holder": "E",
            "number": "4000000000000002",
            "exp_month": "1",
            "exp_year": "2031",
            "cvc": "999",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 402
    assert 'id="payment-error"' in body and "card declined" in body
    assert "4000000000000002" not in body
    assert world.orders.orders[number]["status"] == "pending_payment"


def test_missing_card_fields_are_reported_next_to_the_fields(world):
    buy(world)
    number = next(iter(world.orders.orders))
    html = world.client.get(f"/orders/{number}/pay").get_data(as_text=True)
    response = world.client.post(
        f"/orders/{number}/pay",
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "idempotency_key": hidden(html, "idempotency_key"),
            "method": "card",
            "holder": "",
            "number": "12",
            "exp_month": "",
            "exp_year": "",
            "cvc": "",
        },
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="number-error"' in body and 'id="holder-error"' in body
    assert 'aria-invalid="true"' in body
    assert not any(c[0] == "pay" for c in world.orders.calls)


def test_another_browser_cannot_see_a_direct_order(world):

    buy(world)
    number = next(iter(world.orders.orders))
    stranger = world.app.test_client()
    response = stranger.get(f"/orders/{number}/pay")
    assert response.status_code == 404
    assert "find this order" in response.get_data(as_text=True)
    assert 'id="error-login"' in response.get_data(as_text=True)
    assert stranger.get(f"/orders/{number}").status_code == 404


def test_reseller_order_is_billed_to_the_account_and_may_use_invoice(world):
    world.login("inv@resell.example")
    buy(world, term="1")
    number = next(iter(world.orders.orders))
    assert world.orders.orders[number]["reseller_id"] == "r-invoice"
    html = world.client.get(f"/orders/{number}/pay").get_data(as_text=True)
    assert 'id="method-invoice"' in html
    paid = world.client.post(
        f"/orders/{number}/pay",
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "idempotency_key": hidden(html, "idempotency_key"),
            "method": "invoice",
        },
    )
    assert paid.status_code == 303
    assert world.orders.calls[-1][1][4] == "r-invoice"
    confirmation = world.client.get(f"/orders/{number}").get_data(as_text=True)
    assert "9 Trade Rd" in confirmation  # billing from the reseller account


def test_paid_link_then_shows_redeemed(world):
    test_direct_customer_journey_order_pay_confirm(world)
    assert world.client.get(f"/extend/{TOKEN}").status_code == 410


def test_lapsed_too_long_order_is_refused_with_a_page(world):
    html = world.client.get(f"/extend/{TOKEN}").get_data(as_text=True)
    response = world.client.post(
        "/extend/tok_lapsed/order",
        data={
            "csrf_token": hidden(html, "csrf_token"),
            "term_years": "1",
            "idempotency_key": "k" * 32,
        },
    )
    assert response.status_code == 409
    assert "can no longer be extended online" in response.get_data(as_text=True)
