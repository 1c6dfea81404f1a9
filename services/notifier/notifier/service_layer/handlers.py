"""One function per consumed event: update the projection and/or record the emails to send.

Handlers never send mail. They run inside the consumer's transaction (with its inbox row) and return the ids of
the emails they recorded; the entrypoint enqueues those after the commit, and the sweep catches any it missed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from renewals_shared.events import Event

from notifier.domain.model import Email, EmailType, LicenseProjection
from notifier.service_layer.ports import NotifierRepository

TOPIC_LABELS = {"billing": "billing information", "end_customer": "end customer data", "other": "other"}


def json_ready(value: Any) -> Any:
    """Event data as stored in an email's JSON context: dates as ISO strings."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _record(repo: NotifierRepository, *emails: Email) -> list[int]:
    ids = [repo.add_email(email) for email in emails]
    return [email_id for email_id in ids if email_id is not None]


def license_registered(event: Event, repo: NotifierRepository, support_email: str) -> list[int]:
    d = event.data
    repo.merge_license(
        LicenseProjection(
            license_id=d["license_id"],
            product_sku=d["product_sku"],
            product_name=d["product_name"],
            licensee_name=d["licensee_name"],
            purchase_date=d["purchase_date"],
            maintenance_end=d["maintenance_end"],
            contact_email=d["contact_email"],
            currency=d["currency"],
        )
    )
    return []


def maintenance_extended(event: Event, repo: NotifierRepository, support_email: str) -> list[int]:
    d = event.data
    end_customer = d.get("end_customer") or None
    repo.merge_license(
        LicenseProjection(
            license_id=d["license_id"],
            product_sku=None,
            product_name=d["product_name"],
            licensee_name=d["licensee_name"],
            purchase_date=None,
            maintenance_end=d["maintenance_end"],
            contact_email=d["contact_email"],
            currency=None,
            end_customer_email=end_customer["email"] if end_customer else None,
        )
    )
    if not end_customer:
        return []
    context = json_ready(
        {
            "license_id": d["license_id"],
            "product_name": d["product_name"],
            "licensee_name": d["licensee_name"],
            "previous_maintenance_end": d["previous_maintenance_end"],
            "maintenance_end": d["maintenance_end"],
            "order_number": d.get("order_number"),
            "end_customer_name": end_customer.get("name"),
        }
    )
    return _record(
        repo,
        Email(
            EmailType.MAINTENANCE_EXTENDED,
            end_customer["email"],
            f"maintenance_extended:{d['license_id']}:{d['maintenance_end'].isoformat()}",
            context,
        ),
    )


def order_paid(event: Event, repo: NotifierRepository, support_email: str) -> list[int]:
    d = event.data
    return _record(
        repo,
        Email(
            EmailType.ORDER_CONFIRMATION,
            d["billing"]["email"],
            f"order_confirmation:{d['order_number']}",
            json_ready(dict(d)),
        ),
    )


def reseller_registered(event: Event, repo: NotifierRepository, support_email: str) -> list[int]:
    d = event.data
    context = json_ready(
        {k: d[k] for k in ("reseller_id", "email", "company", "contact_name")} | {"reply_to": d["email"]}
    )
    return _record(
        repo,
        Email(
            EmailType.RESELLER_REGISTRATION_RECEIVED,
            d["email"],
            f"reseller_registration_received:{d['reseller_id']}",
            {k: v for k, v in context.items() if k != "reply_to"},
        ),
        Email(
            EmailType.RESELLER_REGISTRATION_SUPPORT_ALERT,
            support_email,
            f"reseller_registration_support_alert:{d['reseller_id']}",
            context,
        ),
    )


def reseller_approved(event: Event, repo: NotifierRepository, support_email: str) -> list[int]:
    d = event.data
    context = json_ready(
        {k: d[k] for k in ("reseller_id", "email", "company", "contact_name", "discount_bp", "invoice_allowed")}
    )
    # keyed by event: an account approved again after a suspension gets a new email, a redelivery does not
    return _record(repo, Email(EmailType.RESELLER_APPROVED, d["email"], f"reseller_approved:{event.id}", context))


def reseller_rejected(event: Event, repo: NotifierRepository, support_email: str) -> list[int]:
    d = event.data
    context = json_ready({k: d[k] for k in ("reseller_id", "email", "company", "contact_name", "reason")})
    return _record(repo, Email(EmailType.RESELLER_REJECTED, d["email"], f"reseller_rejected:{event.id}", context))


def password_reset_requested(event: Event, repo: NotifierRepository, support_email: str) -> list[int]:
    d = event.data
    # only the reset id is stored: the URL carries a raw token and is fetched at send time
    context = json_ready({k: d[k] for k in ("reseller_id", "reset_id", "email", "contact_name")})
    return _record(repo, Email(EmailType.PASSWORD_RESET, d["email"], f"password_reset:{d['reset_id']}", context))


def change_requested(event: Event, repo: NotifierRepository, support_email: str) -> list[int]:
    d = event.data
    context = json_ready(
        {
            k: d.get(k)
            for k in ("change_request_id", "reseller_id", "reseller_email", "previous_order_number", "topic", "message")
        }
        | {"topic_label": TOPIC_LABELS.get(d["topic"], d["topic"])}
    )
    return _record(
        repo,
        Email(
            EmailType.CHANGE_REQUEST_TO_SUPPORT,
            support_email,
            f"change_request_to_support:{d['change_request_id']}",
            context | {"reply_to": d["reseller_email"]},
        ),
        Email(
            EmailType.CHANGE_REQUEST_ACKNOWLEDGEMENT,
            d["reseller_email"],
            f"change_request_acknowledgement:{d['change_request_id']}",
            context,
        ),
    )


EventHandler = Callable[[Event, NotifierRepository, str], list[int]]

EVENT_HANDLERS: dict[str, EventHandler] = {
    "license.registered": license_registered,
    "license.maintenance_extended": maintenance_extended,
    "order.paid": order_paid,
    "reseller.registered": reseller_registered,
    "reseller.approved": reseller_approved,
    "reseller.rejected": reseller_rejected,
    "reseller.password_reset_requested": password_reset_requested,
    "reseller.change_requested": change_requested,
}
