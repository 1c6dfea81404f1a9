from __future__ import annotations

import re

import pytest

from gateway.fakes import TOKEN

COOKIE = "renewals_session"


def form_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match
    return match.group(1)


def session_cookie(world) -> str | None:
    cookie = world.client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def test_login_page_has_labelled_fields(world):
    html = world.client.get("/reseller/login").get_data(as_text=True)
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert 'id="login-button"' in html


def test_login_redirects_to_a_safe_next_and_rotates_the_session(world):
    world.client.get(f"/extend/{TOKEN}")  # anonymous session with a CSRF token
    before = session_cookie(world)
    assert before
    response = world.login(next_path=f"/extend/{TOKEN}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/extend/{TOKEN}"
    after = session_cookie(world)
    assert after and after != before
    # the old id no longer opens a session
    assert len(world.redis.data) == 1


@pytest.mark.parametrize(
    "evil",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil",
        " /x",
    ],
)
def test_login_refuses_open_redirects(world, evil):
    token = world.csrf(f"/reseller/login?next={evil}")
    response = world.client.post(
        "/reseller/login",
        data={
            "csrf_token": token,
            "email": "rita@resell.example",
            "password": "correct horse battery",
            "next": evil,
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/reseller/account"


def test_login_page_keeps_next_in_the_form(world):
    html = world.client.get(f"/reseller/login?next=/extend/{TOKEN}").get_data(as_text=True)
    assert f'value="/extend/{TOKEN}"' in html
    html = world.client.get("/reseller/login?next=https://evil.example").get_data(as_text=True)
    assert "evil.example" not in html


def test_wrong_password_shows_one_message(world):
    token = world.csrf()
    response = world.client.post(
        "/reseller/login",
        data={"csrf_token": token, "email": "rita@resell.example", "password": "wrong"},
    )
    assert response.status_code == 401
    assert "The email or the password is wrong." in response.get_data(as_text=True)
    assert (
        "reseller" not in world.client.get("/api/v1/session").get_json()
        or not world.client.get("/api/v1/session").get_json()["authenticated"]
    )


def test_pending_account_sees_that_it_awaits_approval(world):
    response = world.login("pending@resell.example")
    assert response.status_code == 403
    assert "awaiting approval" in response.get_data(as_text=True)


def test_too_many_tries(world):
    world.resellers.rate_limited = True
    response = world.login()
    assert response.status_code == 429
    assert "wait 30 seconds" in response.get_data(as_text=True)


def test_login_without_csrf_is_rejected(world):
    response = world.client.post(
        "/reseller/login",
        data={"email": "rita@resell.example", "password": "correct horse battery"},
    )
    assert response.status_code == 400
    assert session_cookie(world) is None


def test_account_page_shows_billing_read_only_with_change_link(world):
    assert world.client.get("/reseller/account").headers["Location"] == "/reseller/login?next=/reseller/account"
    world.login()
    html = world.client.get("/reseller/account").get_data(as_text=True)
    assert 'id="account-company">Resell Ltd<' in html
    assert 'id="account-discount">10 %<' in html
    assert "9 Trade Rd" in html
    assert 'id="request-change"' in html
    assert "<input" not in html.split('id="billing-heading"')[1].split("</section>")[0]


def test_orders_page_lists_the_resellers_orders(world):
    world.login()
    assert 'id="no-orders"' in world.client.get("/reseller/orders").get_data(as_text=True)
    world.orders.place_order(TOKEN, 1, "key-1", reseller_id="r-1")
    html = world.client.get("/reseller/orders").get_data(as_text=True)
    assert 'id="order-R-1000"' in html
    assert "Awaiting payment" in html


def test_logout_ends_the_session(world):
    world.login()
    html = world.client.get("/reseller/account").get_data(as_text=True)
    response = world.client.post("/reseller/logout", data={"csrf_token": form_token(html)})
    assert response.status_code == 303
    assert world.redis.data == {}
    assert world.client.get("/reseller/account").status_code == 302


def test_logout_by_get_only_asks_for_confirmation(world):
    world.login()
    response = world.client.get("/reseller/logout")
    assert response.status_code == 200
    assert 'id="confirm-logout"' in response.get_data(as_text=True)
    assert world.client.get("/reseller/account").status_code == 200


def test_register_sends_the_registration_and_says_pending(world):
    token = world.csrf("/reseller/register")
    data = {
        "csrf_token": token,
        "company": "New Co",
        "contact_name": "Nia",
        "email": "nia@new.example",
        "phone": "+1 555",
        "password": "a long enough pass",
        "confirm": "a long enough pass",
        "line1": "1 Road",
        "postal_code": "12345",
        "city": "Town",
        "country": "US",
    }
    response = world.client.post("/reseller/register", data=data)
    assert response.status_code == 201
    assert "pending approval" in response.get_data(as_text=True)
    sent = world.resellers.registrations[0]
    assert sent["billing_address"]["country"] == "US"
    assert "status" not in sent and "discount_bp" not in sent


def test_register_shows_errors_next_to_fields(world):
    token = world.csrf("/reseller/register")
    response = world.client.post(
        "/reseller/register",
        data={
            "csrf_token": token,
            "company": "",
            "email": "rita@resell.example",
            "password": "short",
            "confirm": "x",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="company-error"' in html
    assert 'id="password-error"' in html
    assert 'id="confirm-error"' in html
    assert not world.resellers.registrations


def test_register_with_a_taken_email(world):
    token = world.csrf("/reseller/register")
    data = {
        "csrf_token": token,
        "company": "Dup",
        "contact_name": "D",
        "email": "rita@resell.example",
        "phone": "1",
        "password": "a long enough pass",
        "confirm": "a long enough pass",
        "line1": "1",
        "postal_code": "1",
        "city": "C",
        "country": "DE",
    }
    html = world.client.post("/reseller/register", data=data).get_data(as_text=True)
    assert 'id="email-error"' in html and "already exists" in html


def test_password_reset_request_always_says_check_your_email(world):
    token = world.csrf("/reseller/password-reset")
    response = world.client.post("/reseller/password-reset", data={"csrf_token": token, "email": "who@x.example"})
    assert response.status_code == 200
    assert "If a reseller account exists" in response.get_data(as_text=True)
    assert world.resellers.reset_requests == ["who@x.example"]


def test_password_reset_complete_and_invalid_link(world):
    token = world.csrf("/reseller/password-reset/bad")
    response = world.client.post(
        "/reseller/password-reset/bad",
        data={
            "csrf_token": token,
            "new_password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 400
    token = world.csrf("/reseller/password-reset/reset-ok")
    response = world.client.post(
        "/reseller/password-reset/reset-ok",
        data={
            "csrf_token": token,
            "new_password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 303
    assert world.resellers.completed_resets == [("reset-ok", "a new long password")]


def test_a_newer_session_version_ends_the_session(world):
    world.login()
    assert world.client.get("/reseller/account").status_code == 200
    world.resellers.accounts["r-1"]["session_version"] += 1  # password changed elsewhere
    response = world.client.get("/reseller/account")
    assert response.status_code == 302
    assert world.redis.data == {}
    html = world.client.get(f"/extend/{TOKEN}").get_data(as_text=True)
    assert 'id="reseller-discount"' not in html


def test_suspended_account_loses_the_reseller_price(world):
    world.login()
    world.resellers.accounts["r-1"]["status"] = "suspended"
    html = world.client.get(f"/extend/{TOKEN}").get_data(as_text=True)
    assert 'id="effective-discount"><strong>50 %</strong>' in html


def test_change_request_is_prefilled_for_a_logged_in_reseller(world):
    world.login()
    html = world.client.get("/support/change-request?topic=billing&order=R-77").get_data(as_text=True)
    assert 'value="rita@resell.example"' in html
    assert 'value="R-77"' in html
    assert '<option selected value="billing">' in html
    response = world.client.post(
        "/support/change-request",
        data={
            "csrf_token": form_token(html),
            "reseller_email": "rita@resell.example",
            "previous_order_number": "R-77",
            "topic": "end_customer",
            "message": "New address please",
        },
    )
    assert response.status_code == 200
    assert 'id="change-request-received"' in response.get_data(as_text=True)
    assert world.resellers.change_requests == [
        {
            "reseller_email": "rita@resell.example",
            "previous_order_number": "R-77",
            "topic": "end_customer",
            "message": "New address please",
        }
    ]


def test_change_request_errors_next_to_fields(world):
    token = world.csrf("/support/change-request")
    response = world.client.post("/support/change-request", data={"csrf_token": token, "reseller_email": "nope"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="reseller_email-error"' in html and 'id="message-error"' in html
