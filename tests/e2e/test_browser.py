"""The pages in Debian's Chromium (Playwright), on the whole running system: the seed journey as a reseller, a direct
customer, the change-request form and every page for a link that cannot be used.

Every page visited is saved as a full-page screenshot under test-artifacts/screenshots/<name>.png.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from journey import (
    DECLINED_CARD,
    LINK_PATTERN,
    TEST_CARD,
    add_years,
    buy_directly,
    ensure_product,
    expiring_license,
    issue_link_with_id,
    ops_post,
    register_and_approve_reseller,
    reminder_for,
    text_of,
    wait_for_mail,
    wait_until,
)
from renewals_shared.testing import require_services

playwright_sync = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "Sturdy-Reseller-Pass-42"


def money(amount: int, currency: str = "EUR") -> str:
    return f"{amount // 100:,}.{amount % 100:02d} {currency}"


def long_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B')} {day.year}"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        missing = "Debian's chromium is not installed (apt-get install chromium)"
        if require_services():
            pytest.fail(missing + " and REQUIRE_SERVICES=1")
        pytest.skip(missing)
    with playwright_sync.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):  # noqa: ANN001, ANN201 - one fresh browser profile (cookies) per test
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="en-GB")
    context.set_default_timeout(20_000)
    tab = context.new_page()
    yield tab
    context.close()


def shot(page, name: str) -> None:  # noqa: ANN001
    """Save the page and check it is not an error page in disguise."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    html = page.content()
    assert "Traceback" not in html and "Internal Server Error" not in html, name


def text(page, selector: str) -> str:  # noqa: ANN001
    return " ".join(page.inner_text(selector).split())


def open_page(page, url: str, expected_status: int = 200) -> None:  # noqa: ANN001
    response = page.goto(url)
    assert response is not None and response.status == expected_status, (url, response and response.status)


def pay_by_card(page, number: str = TEST_CARD) -> None:  # noqa: ANN001
    page.fill("#holder", "Rita Reseller")
    page.fill("#number", number)
    page.fill("#exp_month", "12")
    page.fill("#exp_year", str(dt.date.today().year + 2))
    page.fill("#cvc", "123")
    page.click("#pay-button")


def test_reseller_extends_maintenance_through_the_pages(system, page):  # noqa: ANN001
    sku = f"BR-{uuid.uuid4().hex[:6].upper()}"
    ensure_product(system, sku, price=12_345)
    body, _ = expiring_license(system, sku, days_to_end=30, licensee="Browser Licensee AG", seats=2)
    purchase = dt.date.fromisoformat(body["purchase_date"])

    reminder = reminder_for(system, body["contact_email"])
    link = LINK_PATTERN.search(text_of(reminder))
    assert link is not None
    link_url = link.group(0)
    assert link_url.startswith(system.url())

    open_page(page, link_url)
    shot(page, "extension-customer")
    assert text(page, "#licensee-name") == "Browser Licensee AG"
    assert text(page, "#customer-discount") == "50 %"
    assert text(page, "#effective-discount") == "50 %"
    list_price = 12_345 * 2
    assert text(page, "#price-per-year") == money((list_price * 5000 + 5000) // 10000)
    assert page.locator("#reseller-discount").count() == 0

    email = f"browser-{uuid.uuid4().hex[:8]}@acme.example"
    register_and_approve_reseller(system, email, PASSWORD)
    page.click("#reseller-login-link")
    page.wait_for_selector("#login-form")
    shot(page, "reseller-login")
    page.fill("#email", email)
    page.fill("#password", "wrong-password-123")
    page.click("#login-button")
    page.wait_for_selector("#login-error")
    shot(page, "reseller-login-error")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_url(re.compile(r"/extend/"))  # `next` brings the reseller back to the link

    page.click("#nav-account")
    page.wait_for_selector("#billing-information")
    shot(page, "reseller-account")
    billing = text(page, "#billing-information")
    assert "Acme Reselling GmbH" in billing and "Munich" in billing and "Resellerweg 5" in billing
    assert text(page, "#account-status") == "approved"

    page.go_back()
    page.wait_for_selector("#effective-discount")
    page.reload()  # the seed: "navigate back to the maintenance extension page"; a fresh render, not a cached one
    shot(page, "extension-reseller")
    assert text(page, "#customer-discount") == "50 %"
    assert text(page, "#reseller-discount").startswith("10 %")
    assert text(page, "#effective-discount") == "55 %"
    unit = (list_price * 5000 * 9000 + 50_000_000) // 100_000_000
    assert text(page, "#price-per-year") == money(unit)
    new_end = add_years(purchase, 4)
    assert text(page, "#new-maintenance-end") == long_date(new_end)
    assert text(page, "#total") == money(unit)
    assert page.locator("#buying-as-reseller").count() == 1

    page.click("#buy-now")
    page.wait_for_selector("#payment-form")
    shot(page, "payment")
    order_number = text(page, "#order-number")
    assert order_number and text(page, "#total") == money(unit)
    pay_by_card(page)
    page.wait_for_selector("#order-status")
    shot(page, "confirmation-reseller")
    assert text(page, "#order-number") == order_number
    assert text(page, "#order-status") == "Paid"
    assert text(page, "#new-maintenance-end") == long_date(new_end)
    assert text(page, "#licensee-name") == "Browser Licensee AG"
    billing = text(page, "#billing-address")
    assert "Acme Reselling GmbH" in billing and "Munich" in billing
    end_customer = text(page, "#end-customer")
    assert "Erika Mustermann" in end_customer and "Berlin" in end_customer
    assert "4242 4242 4242 4242" not in page.content() and "4242424242424242" not in page.content()

    wait_for_mail(system, lambda m: email in m["To"] and order_number in m["Subject"] + text_of(m))
    wait_for_mail(system, lambda m: body["end_customer"]["email"] in m["To"])

    page.click("#nav-orders")
    page.wait_for_selector(f"text={order_number}")
    shot(page, "reseller-orders")

    token = link.group(1)
    wait_until(
        lambda: requests.get(f"{system.url()}/api/v1/extensions/{token}", timeout=20).status_code == 410,
        what="link redeemed",
    )
    open_page(page, link_url, 410)
    page.wait_for_selector("#link-redeemed")


def test_direct_customer_buys_without_a_reseller(system, page):  # noqa: ANN001
    sku = f"BD-{uuid.uuid4().hex[:6].upper()}"
    ensure_product(system, sku, price=10_000)
    body, license_id = expiring_license(system, sku, days_to_end=10, licensee="Direct Customer Ltd")
    purchase = dt.date.fromisoformat(body["purchase_date"])
    token, _ = issue_link_with_id(system, license_id)

    open_page(page, f"{system.url()}/extend/{token}")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: everything fits the width
    shot(page, "extension-direct-phone")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1100, "height": 800})
    page.check("#term-2")
    page.click("#update-term")
    page.wait_for_url(re.compile(r"term=2"))
    shot(page, "extension-direct-two-years")
    assert text(page, "#effective-discount") == "50 %"
    assert text(page, "#new-maintenance-end") == long_date(add_years(purchase, 5))
    assert text(page, "#years-charged") == "2"
    assert text(page, "#total") == money(2 * 5_000)

    page.click("#buy-now")
    page.wait_for_selector("#payment-form")
    pay_by_card(page, DECLINED_CARD)
    page.wait_for_selector("#payment-error")
    shot(page, "payment-declined")
    assert "declined" in text(page, "#payment-error")
    page.fill("#holder", "")
    page.click("#pay-button")
    page.wait_for_selector("#holder-error")
    shot(page, "payment-field-errors")

    pay_by_card(page)
    page.wait_for_selector("#order-status")
    shot(page, "confirmation-direct")
    assert text(page, "#new-maintenance-end") == long_date(add_years(purchase, 5))
    assert text(page, "#total") == money(10_000)
    billing = text(page, "#billing-address")  # a direct customer is billed as the previous order's end customer
    assert "Erika Mustermann" in billing and "Berlin" in billing
    assert "Berlin" in text(page, "#end-customer")
    order_number = text(page, "#order-number")
    wait_for_mail(
        system, lambda m: body["end_customer"]["email"] in m["To"] and order_number in m["Subject"] + text_of(m)
    )


def test_change_request_form_prefilled_for_a_logged_in_reseller(system, page):  # noqa: ANN001
    email = f"change-{uuid.uuid4().hex[:8]}@acme.example"
    register_and_approve_reseller(system, email, PASSWORD)
    open_page(page, f"{system.url()}/reseller/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.wait_for_selector("#billing-information")  # the default after login: the account page

    page.click("#request-change")
    page.wait_for_selector("#change-request-form")
    assert page.input_value("#reseller_email") == email
    assert page.input_value("#topic") == "billing"
    page.fill("#previous_order_number", "PREV-4711")
    page.click("#send-change-request")  # no message yet
    page.wait_for_selector("#message-error")
    shot(page, "change-request-errors")
    page.fill("#message", "Our billing address moved to Leopoldstrasse 1, 80802 Munich.")
    shot(page, "change-request")
    page.click("#send-change-request")
    page.wait_for_selector("#change-request-received")
    shot(page, "change-request-sent")
    assert email in page.inner_text("main")

    ack = wait_for_mail(system, lambda m: email in m["To"] and "PREV-4711" in m["Subject"] + text_of(m))
    assert "Leopoldstrasse" in text_of(ack) or "PREV-4711" in text_of(ack)
    support = wait_for_mail(system, lambda m: email not in m["To"] and "Leopoldstrasse 1" in text_of(m))
    assert email in text_of(support)


def test_every_unusable_link_has_a_clear_page(system, page):  # noqa: ANN001
    sku = f"BL-{uuid.uuid4().hex[:6].upper()}"
    ensure_product(system, sku)
    _, redeemed_license = expiring_license(system, sku, days_to_end=20, licensee="Redeemed GmbH")
    redeemed, _ = issue_link_with_id(system, redeemed_license)
    buy_directly(system, redeemed)
    _, revoked_license = expiring_license(system, sku, days_to_end=20, licensee="Revoked GmbH")
    revoked, revoked_id = issue_link_with_id(system, revoked_license)
    revoke = ops_post(system, f"/api/v1/admin/links/{revoked_id}/revoke", {"reason": "replaced by operations"})
    assert revoke.status_code == 200, revoke.text
    _, lapsed_license = expiring_license(system, sku, days_to_end=-730, licensee="Lapsed Long Ago GmbH")
    lapsed, _ = issue_link_with_id(system, lapsed_license)
    wait_until(
        lambda: requests.get(f"{system.url()}/api/v1/extensions/{redeemed}", timeout=20).status_code == 410,
        what="link redeemed",
    )

    cases = [
        ("link-unknown", "unknown-" + uuid.uuid4().hex + uuid.uuid4().hex, 404, "#link-unknown"),
        ("link-malformed", "%3Cb%3Ebad%20link%22", 404, "#link-unknown"),
        ("link-truncated", "a", 404, "#link-unknown"),
        ("link-non-ascii", "%E2%B1%AC%F0%9F%94%91", 404, "#link-unknown"),
        ("link-redeemed", redeemed, 410, "#link-redeemed"),
        ("link-revoked", revoked, 410, "#link-revoked"),
    ]
    for name, token, status, selector in cases:
        open_page(page, f"{system.url()}/extend/{token}", status)
        shot(page, name)
        assert page.locator(selector).count() == 1, name
        assert page.locator("#buy-now").count() == 0, name
        assert page.locator("#contact-us").count() == 1, name

    # lapsed two years: the link's validity ended with the lapse window, or the page explains why there is no Buy Now
    response = page.goto(f"{system.url()}/extend/{lapsed}")
    assert response is not None and response.status in (200, 410)
    shot(page, "link-lapsed-too-long")
    assert page.locator("#link-expired, #cannot-extend").count() == 1
    assert page.locator("#buy-now").count() == 0

    forged = page.request.post(f"{system.url()}/extend/{revoked}/order", form={"term_years": "1"})
    assert forged.status in (400, 403, 410) and "Traceback" not in forged.text()
