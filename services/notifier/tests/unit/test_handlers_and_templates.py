"""Every consumed event -> the right email rows (keys, recipients); every email type rendered with its facts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from notifier.adapters.templates import JinjaRenderer, format_money, format_percent
from notifier.domain.model import EmailType
from notifier.service_layer.delivery import MailSettings, compose
from notifier.service_layer.handlers import EVENT_HANDLERS
from renewals_shared.events import Event, new_event, parse_event

SUPPORT = "support@renewals.example"
ADDRESS = {"line1": "Hauptstr. 1", "line2": "", "postal_code": "10115", "city": "Berlin", "region": "", "country": "DE"}
BILLING = {
    "name": "Rita Reseller",
    "company": "Resell AG",
    "email": "billing@resell.example",
    "address": ADDRESS,
    "vat_id": "DE123456789",
}
END_CUSTOMER = {
    "name": "Eve Endkunde",
    "company": "Acme GmbH",
    "email": "eve@acme.example",
    "address": {**ADDRESS, "city": "Hamburg", "postal_code": "20095"},
    "vat_id": None,
}

EVENTS: dict[str, dict[str, Any]] = {
    "license.registered": {
        "license_id": "lic-1",
        "license_key": "ABCD-EFGH-IJKL",
        "product_sku": "PRO",
        "product_name": "Widget Pro",
        "seats": 5,
        "licensee_name": "Acme GmbH",
        "purchase_date": dt.date(2023, 7, 1),
        "maintenance_end": dt.date(2026, 7, 1),
        "contact_email": "it@acme.example",
        "currency": "EUR",
    },
    "license.maintenance_extended": {
        "license_id": "lic-1",
        "previous_maintenance_end": dt.date(2026, 7, 1),
        "maintenance_end": dt.date(2027, 7, 1),
        "order_number": "R-2026-000042",
        "contact_email": "it@acme.example",
        "licensee_name": "Acme GmbH",
        "product_name": "Widget Pro",
        "end_customer": END_CUSTOMER,
    },
    "order.paid": {
        "order_number": "R-2026-000042",
        "license_id": "lic-1",
        "link_id": "link-1",
        "reseller_id": "res-1",
        "license_key_masked": "ABCD-****-IJKL",
        "product_name": "Widget Pro",
        "licensee_name": "Acme GmbH",
        "previous_maintenance_end": dt.date(2026, 7, 1),
        "new_maintenance_end": dt.date(2027, 7, 1),
        "years_charged": 1,
        "price_per_year": {"amount": 22500, "currency": "EUR"},
        "total": {"amount": 22500, "currency": "EUR"},
        "effective_discount_bp": 5500,
        "billing": BILLING,
        "end_customer": END_CUSTOMER,
        "payment_method": "card",
        "card_brand": "visa",
        "card_last4": "4242",
    },
    "reseller.registered": {
        "reseller_id": "res-1",
        "email": "anna@resell.example",
        "company": "Resell AG",
        "contact_name": "Anna Schmidt",
    },
    "reseller.approved": {
        "reseller_id": "res-1",
        "email": "anna@resell.example",
        "company": "Resell AG",
        "contact_name": "Anna Schmidt",
        "discount_bp": 1000,
        "invoice_allowed": False,
    },
    "reseller.rejected": {
        "reseller_id": "res-1",
        "email": "anna@resell.example",
        "company": "Resell AG",
        "contact_name": "Anna Schmidt",
        "reason": "No VAT registration found",
    },
    "reseller.password_reset_requested": {
        "reseller_id": "res-1",
        "reset_id": "reset-9",
        "email": "anna@resell.example",
        "contact_name": "Anna Schmidt",
    },
    "reseller.change_requested": {
        "change_request_id": "cr-7",
        "reseller_id": "res-1",
        "reseller_email": "anna@resell.example",
        "previous_order_number": "R-2025-000017",
        "topic": "end_customer",
        "message": "Acme moved to Hamburg <new address>.",
    },
}


def event(event_type: str) -> Event:
    return parse_event(new_event(event_type, EVENTS[event_type], "test").to_dict())


def handle(repo, event_type: str) -> list[int]:  # type: ignore[no-untyped-def]
    return EVENT_HANDLERS[event_type](event(event_type), repo, SUPPORT)


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("license.registered", []),
        (
            "license.maintenance_extended",
            [(EmailType.MAINTENANCE_EXTENDED, "eve@acme.example", "maintenance_extended:lic-1:2027-07-01")],
        ),
        ("order.paid", [(EmailType.ORDER_CONFIRMATION, "billing@resell.example", "order_confirmation:R-2026-000042")]),
        (
            "reseller.registered",
            [
                (
                    EmailType.RESELLER_REGISTRATION_RECEIVED,
                    "anna@resell.example",
                    "reseller_registration_received:res-1",
                ),
                (EmailType.RESELLER_REGISTRATION_SUPPORT_ALERT, SUPPORT, "reseller_registration_support_alert:res-1"),
            ],
        ),
        (
            "reseller.password_reset_requested",
            [(EmailType.PASSWORD_RESET, "anna@resell.example", "password_reset:reset-9")],
        ),
        (
            "reseller.change_requested",
            [
                (EmailType.CHANGE_REQUEST_TO_SUPPORT, SUPPORT, "change_request_to_support:cr-7"),
                (
                    EmailType.CHANGE_REQUEST_ACKNOWLEDGEMENT,
                    "anna@resell.example",
                    "change_request_acknowledgement:cr-7",
                ),
            ],
        ),
    ],
)
def test_event_records_emails(repo, event_type: str, expected) -> None:  # type: ignore[no-untyped-def]
    ids = handle(repo, event_type)
    got = [(repo.emails[i].type, repo.emails[i].recipient, repo.emails[i].dedupe_key) for i in ids]
    assert got == expected
    assert handle(repo, event_type) == []  # same facts again (e.g. a replay): deduplicated


def test_approved_and_rejected_go_to_the_reseller(repo) -> None:  # type: ignore[no-untyped-def]
    (approved,) = handle(repo, "reseller.approved")
    (rejected,) = handle(repo, "reseller.rejected")
    assert repo.emails[approved].type == EmailType.RESELLER_APPROVED
    assert repo.emails[rejected].recipient == "anna@resell.example"


def test_extension_without_end_customer_sends_no_notice(repo) -> None:  # type: ignore[no-untyped-def]
    data = {**EVENTS["license.maintenance_extended"], "end_customer": None}
    evt = parse_event(new_event("license.maintenance_extended", data, "test").to_dict())
    assert EVENT_HANDLERS["license.maintenance_extended"](evt, repo, SUPPORT) == []
    assert repo.licenses["lic-1"].maintenance_end == dt.date(2027, 7, 1)


def test_projection_keeps_the_newest_end_whatever_the_order(repo) -> None:  # type: ignore[no-untyped-def]
    handle(repo, "license.maintenance_extended")  # arrives first
    handle(repo, "license.registered")  # older end date, but brings sku, currency and purchase date
    lic = repo.licenses["lic-1"]
    assert lic.maintenance_end == dt.date(2027, 7, 1)
    assert (lic.product_sku, lic.currency, lic.purchase_date) == ("PRO", "EUR", dt.date(2023, 7, 1))
    assert lic.end_customer_email == "eve@acme.example"


# ---- rendering ----------------------------------------------------------------------------------------------
SETTINGS = MailSettings(
    "Renewals <no-reply@renewals.example>", SUPPORT, "http://renewals.test", "renewals.example", dt.timedelta(minutes=5)
)
COMMON = {
    "support_email": SUPPORT,
    "base_url": "http://renewals.test",
    "login_url": "http://renewals.test/reseller/login",
}
REMINDER = {
    "license_id": "lic-1",
    "product_name": "Widget Pro",
    "licensee_name": "Acme GmbH",
    "maintenance_end": "2026-07-01",
    "stage": -30,
    "new_maintenance_end": "2027-07-01",
    "customer_discount_bp": 5000,
    "expires_on": "2027-07-01",
    "link_url": "http://renewals.test/extend/AbC123_token",
}


def contexts(repo) -> dict[EmailType, tuple[str, dict[str, Any]]]:  # type: ignore[no-untyped-def]
    for event_type in EVENTS:
        handle(repo, event_type)
    out = {e.type: (e.recipient, dict(e.context)) for e in repo.emails.values()}
    out[EmailType.PASSWORD_RESET][1]["reset_url"] = "http://renewals.test/reseller/password-reset/Xyz789"
    out[EmailType.EXPIRY_REMINDER] = ("it@acme.example", REMINDER)
    return out


FACTS: dict[EmailType, tuple[list[str], list[str]]] = {
    # type: (facts in the subject, facts in both bodies)
    EmailType.EXPIRY_REMINDER: (
        ["Widget Pro", "2026-07-01"],
        ["Acme GmbH", "2026-07-01", "2027-07-01", "50 %", "http://renewals.test/extend/AbC123_token"],
    ),
    EmailType.ORDER_CONFIRMATION: (
        ["Order confirmation", "R-2026-000042", "2027-07-01"],
        [
            "R-2026-000042",
            "ABCD-****-IJKL",
            "Acme GmbH",
            "2027-07-01",
            "225.00 EUR",
            "55 %",
            "Resell AG",
            "Hauptstr. 1",
            "10115 Berlin",
            "DE123456789",
            "Eve Endkunde",
            "20095 Hamburg",
            "4242",
        ],
    ),
    EmailType.MAINTENANCE_EXTENDED: (
        ["extended", "2027-07-01"],
        ["Widget Pro", "Acme GmbH", "2026-07-01", "2027-07-01", "R-2026-000042"],
    ),
    EmailType.RESELLER_REGISTRATION_RECEIVED: (["reseller registration", "Resell AG"], ["Anna Schmidt", "pending"]),
    EmailType.RESELLER_REGISTRATION_SUPPORT_ALERT: (
        ["New reseller registration", "Resell AG"],
        ["anna@resell.example", "Anna Schmidt", "res-1"],
    ),
    EmailType.RESELLER_APPROVED: (["approved", "Resell AG"], ["10 %", "http://renewals.test/reseller/login"]),
    EmailType.RESELLER_REJECTED: (["not approved", "Resell AG"], ["No VAT registration found"]),
    EmailType.PASSWORD_RESET: (
        ["Reset the password"],
        ["http://renewals.test/reseller/password-reset/Xyz789", "anna@resell.example"],
    ),
    EmailType.CHANGE_REQUEST_TO_SUPPORT: (
        ["Change request", "R-2025-000017", "anna@resell.example"],
        ["end customer data", "R-2025-000017", "Acme moved to Hamburg"],
    ),
    EmailType.CHANGE_REQUEST_ACKNOWLEDGEMENT: (
        ["change request", "R-2025-000017"],
        ["end customer data", "Acme moved to Hamburg", "cr-7"],
    ),
}


def test_every_email_type_has_facts_asserted() -> None:
    assert set(FACTS) == set(EmailType)


@pytest.mark.parametrize("email_type", list(EmailType))
def test_every_email_type_renders_html_and_text_with_its_facts(repo, email_type: EmailType) -> None:  # type: ignore[no-untyped-def]
    from notifier.domain.model import Email

    recipient, context = contexts(repo)[email_type]
    rendered = JinjaRenderer().render(email_type, {**context, **COMMON})
    subject_facts, body_facts = FACTS[email_type]
    for fact in subject_facts:
        assert fact in rendered.subject, (fact, rendered.subject)
    for fact in body_facts:
        assert fact in rendered.text, (fact, "text")
        assert fact in rendered.html.replace("&lt;", "<").replace("&gt;", ">"), (fact, "html")
    assert "\n" not in rendered.subject
    message = compose(
        Email(email_type, recipient, f"{email_type}:x", context),
        rendered,
        SETTINGS,
        dt.datetime(2026, 6, 1, tzinfo=dt.UTC),
    )
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None
    assert message["To"] == recipient


def test_html_escapes_what_people_typed() -> None:
    context = {
        "change_request_id": "cr-7",
        "reseller_id": None,
        "reseller_email": "a@b.example",
        "previous_order_number": "R-1",
        "topic": "other",
        "topic_label": "other",
        "message": "<script>alert(1)</script>",
        **COMMON,
    }
    rendered = JinjaRenderer().render(EmailType.CHANGE_REQUEST_TO_SUPPORT, context)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>" in rendered.text  # plain text shows it as typed


def test_change_request_copy_to_support_replies_to_the_reseller(repo) -> None:  # type: ignore[no-untyped-def]
    handle(repo, "reseller.change_requested")
    support_copy = next(e for e in repo.emails.values() if e.type == EmailType.CHANGE_REQUEST_TO_SUPPORT)
    rendered = JinjaRenderer().render(support_copy.type, {**support_copy.context, **COMMON})
    message = compose(support_copy, rendered, SETTINGS, dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert message["Reply-To"] == "anna@resell.example"


@pytest.mark.parametrize(
    ("money", "text"),
    [
        ({"amount": 22500, "currency": "EUR"}, "225.00 EUR"),
        ({"amount": 123456789, "currency": "USD"}, "1,234,567.89 USD"),
        ({"amount": 5000, "currency": "JPY"}, "5,000 JPY"),
        ({"amount": 1234, "currency": "KWD"}, "1.234 KWD"),
        ({"amount": 0, "currency": "EUR"}, "0.00 EUR"),
    ],
)
def test_money_format(money, text) -> None:  # type: ignore[no-untyped-def]
    assert format_money(money) == text


@pytest.mark.parametrize(("bp", "text"), [(5500, "55 %"), (1000, "10 %"), (1250, "12.5 %"), (0, "0 %"), (5, "0.05 %")])
def test_percent_format(bp: int, text: str) -> None:
    assert format_percent(bp) == text
