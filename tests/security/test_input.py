"""Bad input: mass assignment refused, hostile text stored verbatim and rendered escaped, fuzzed bodies never 5xx."""

from __future__ import annotations

import re
import uuid

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from journey import login, ops_post, wait_for_mail
from purchases import buy_direct, buyable_link, forget_rate_limits, mails_to, query, wait_until

PAYLOAD = "<script>alert('x')</script><img src=x onerror=alert(1)>\"'; DROP TABLE licenses; -- {{7*7}}"
RAW_MARKUP = re.compile(r"<script>alert|<img src=x onerror", re.IGNORECASE)


def _registration(email: str, **extra) -> dict:
    return {
        "company": "Mass Assign GmbH",
        "contact_name": "Max",
        "email": email,
        "password": "Sturdy-Reseller-Pass-42",
        "billing_address": {
            "line1": "Weg 1",
            "line2": "",
            "postal_code": "10115",
            "city": "Berlin",
            "region": "",
            "country": "DE",
        },
        "phone": "+49 30 123456",
        **extra,
    }


def test_registration_refuses_status_discount_and_approval_fields(system):
    for extra in (
        {"status": "approved"},
        {"discount_bp": 10000},
        {"approved": True},
        {"invoice_allowed": True},
        {"session_version": 0},
        {"id": str(uuid.uuid4())},
    ):
        email = f"mass-{uuid.uuid4().hex[:8]}@acme.example"
        response = requests.post(f"{system.url()}/api/v1/resellers", json=_registration(email, **extra), timeout=20)
        assert response.status_code == 422, (extra, response.text)
        assert list(extra)[0] in response.json().get("errors", {}), response.text
        # nothing was created: the email is still free
        assert (
            requests.post(f"{system.url()}/api/v1/resellers", json=_registration(email), timeout=20).status_code == 201
        )
        # and directly at reseller-service too
        internal = requests.post(
            f"{system.url('reseller')}/resellers",
            json=_registration(f"i{email}", **extra),
            headers={"Authorization": f"Bearer {system.env['SERVICE_TOKEN']}"},
            timeout=20,
        )
        assert internal.status_code == 422, (extra, internal.text)


def test_the_registration_form_ignores_smuggled_fields(system):
    email = f"form-{uuid.uuid4().hex[:8]}@acme.example"
    browser = requests.Session()
    page = browser.get(f"{system.url()}/reseller/register", timeout=20).text
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    fields = {name: value for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page)}
    form = {
        **fields,
        "csrf_token": csrf,
        "company": "Form Co",
        "contact_name": "F",
        "email": email,
        "password": "Sturdy-Reseller-Pass-42",
        "confirm": "Sturdy-Reseller-Pass-42",
        "password_confirm": "Sturdy-Reseller-Pass-42",
        "phone": "+49 30 123456",
        "line1": "Weg 1",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
        "status": "approved",
        "discount_bp": "10000",
        "approved": "1",
    }
    response = browser.post(f"{system.url()}/reseller/register", data=form, timeout=20)
    assert response.status_code == 201, response.text[:2000]
    pending = requests.get(
        f"{system.url()}/api/v1/admin/resellers", params={"status": "pending"}, headers=system.ops_headers, timeout=20
    ).json()
    rows = pending.get("resellers", pending.get("items", pending))
    mine = [r for r in rows if r["email"] == email]
    assert len(mine) == 1 and mine[0]["status"] == "pending" and mine[0].get("discount_bp") in (None, 0, 1000), mine


def test_order_and_payment_bodies_refuse_price_and_identity_fields(system):
    link = buyable_link(system)
    for extra in (
        {"discount_bp": 10000},
        {"total": 1},
        {"reseller_id": str(uuid.uuid4())},
        {"licensee_name": "Me"},
        {"customer_discount_bp": 9999},
    ):
        response = requests.post(
            f"{system.url()}/api/v1/extensions/{link.token}/orders",
            json={"term_years": 1, **extra},
            headers={"Idempotency-Key": str(uuid.uuid4())},
            timeout=20,
        )
        assert response.status_code == 422, (extra, response.text)
    placed = requests.post(
        f"{system.url()}/api/v1/extensions/{link.token}/orders",
        json={"term_years": 1},
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=20,
    ).json()
    for extra in ({"amount": 1}, {"status": "paid"}, {"reseller_id": str(uuid.uuid4())}):
        response = requests.post(
            f"{system.url()}/api/v1/orders/{placed['order_number']}/payments",
            json={"method": "invoice", **extra},
            headers={"Idempotency-Key": str(uuid.uuid4()), "X-Extension-Token": link.token},
            timeout=20,
        )
        assert response.status_code == 422, (extra, response.text)


def _assert_escaped(html: str, where: str) -> None:
    assert not RAW_MARKUP.search(html), f"unescaped markup in {where}"
    assert "&lt;script&gt;" in html, f"the payload is not shown (escaped) in {where}"


def _html_and_text(message) -> tuple[str, str]:
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    return (html.get_content() if html else ""), (text.get_content() if text else "")


def test_hostile_license_and_customer_text_is_stored_verbatim_and_rendered_escaped(system):
    end_customer_email = f"inj-{uuid.uuid4().hex[:8]}@customer.example"
    link = buyable_link(system, licensee=PAYLOAD[:290], end_customer_email=end_customer_email)
    licensee = PAYLOAD[:290]
    stored = requests.get(
        f"{system.url()}/api/v1/admin/licenses/{link.license_id}", headers=system.ops_headers, timeout=20
    ).json()
    assert stored["licensee_name"] == licensee
    assert query(system, "order", "SELECT count(*) FROM licenses")[0][0] > 0  # no table was dropped
    _assert_escaped(requests.get(f"{system.url()}/extend/{link.token}", timeout=20).text, "the extension page")
    api = requests.get(f"{system.url()}/api/v1/extensions/{link.token}", timeout=20)
    assert api.json()["license"]["licensee_name"] == licensee and api.headers["Content-Type"].startswith(
        "application/json"
    )
    found = requests.get(
        f"{system.url()}/api/v1/admin/licenses",
        params={"licensee": "' OR 1=1 --"},
        headers=system.ops_headers,
        timeout=20,
    ).json()
    assert found["licenses"] == [], "a quote in a search must not widen it"

    order = buy_direct(system, link)
    assert order["licensee_name"] == licensee
    mails = wait_until(
        lambda: len(mails_to(system, end_customer_email)) >= 2 and mails_to(system, end_customer_email),
        what="the confirmation and the notice",
    )
    for message in mails:
        html, text = _html_and_text(message)
        _assert_escaped(html, f"the email {message['Subject']!r}")
        assert licensee in text, "the plain-text part shows the licensee verbatim"


def test_hostile_reseller_company_and_address_are_escaped_in_pages_and_emails(system):
    email = f"xss-{uuid.uuid4().hex[:8]}@acme.example"
    body = _registration(email, company=PAYLOAD[:200])
    body["billing_address"]["city"] = "<script>alert('city')</script>"
    created = requests.post(f"{system.url()}/api/v1/resellers", json=body, timeout=20)
    assert created.status_code == 201, created.text
    approved = ops_post(system, f"/api/v1/admin/resellers/{created.json()['id']}/approve", {})
    assert approved.status_code == 200, approved.text
    session = login(system, email)
    account = session.get(f"{system.url()}/api/v1/reseller/account", timeout=20).json()
    assert account["company"] == PAYLOAD[:200] and account["billing_address"]["city"] == body["billing_address"]["city"]
    _assert_escaped(session.get(f"{system.url()}/reseller/account", timeout=20).text, "the account page")
    received = wait_for_mail(system, lambda m: email in str(m["To"]))
    html, _text = _html_and_text(received)
    assert not RAW_MARKUP.search(html)
    support = [m for m in list(system.smtp.messages) if PAYLOAD[:20] in _html_and_text(m)[1]]
    for message in support:
        assert not RAW_MARKUP.search(_html_and_text(message)[0])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "email",
        "password",
        "company",
        "term_years",
        "method",
        "card",
        "token",
        "new_password",
        "topic",
        "message",
        "billing_address",
        "reseller_email",
        "previous_order_number",
        "number",
        "cvc",
    ]
)
BODIES = JSON | st.dictionaries(FIELDS, JSON, max_size=6)
SEGMENTS = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"), min_size=1, max_size=60
)
ENDPOINTS = [
    "/api/v1/resellers",
    "/api/v1/session",
    "/api/v1/extensions/{segment}/orders",
    "/api/v1/orders/{segment}/payments",
    "/api/v1/change-requests",
    "/api/v1/password-resets",
    "/api/v1/password-resets/complete",
]


def test_fuzzed_api_requests_never_answer_5xx(system):
    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(path=st.sampled_from(ENDPOINTS), segment=SEGMENTS, body=BODIES, raw=st.booleans())
    def check(path, segment, body, raw):
        url = system.url() + path.format(segment=requests.utils.quote(segment, safe=""))
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        if raw:
            response = requests.post(
                url, data=str(body).encode(), headers={**headers, "Content-Type": "application/json"}, timeout=20
            )
        else:
            response = requests.post(url, json=body, headers=headers, timeout=20)
        assert response.status_code < 500, (url, body, response.status_code, response.text[:500])
        get = requests.get(system.url() + "/api/v1/orders/" + requests.utils.quote(segment, safe=""), timeout=20)
        assert get.status_code < 500, (segment, get.text[:500])

    try:
        check()
    finally:
        forget_rate_limits(system)
