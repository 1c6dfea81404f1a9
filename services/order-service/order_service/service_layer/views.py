"""JSON shapes of the internal API (docs/internal-api.md), built from domain objects."""

from __future__ import annotations

import datetime as dt
from typing import Any

from order_service.domain.model import ExtensionLink, License, Order, PriceList, Product
from order_service.domain.pricing import ExtensionQuote


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def _ts(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def product_view(product: Product) -> dict[str, Any]:
    return {"sku": product.sku, "name": product.name, "edition": product.edition}


def price_list_view(price_list: PriceList) -> dict[str, Any]:
    return {
        "id": price_list.id,
        "product_sku": price_list.product_sku,
        "currency": price_list.currency,
        "price_per_seat_year": price_list.price_per_seat_year,
        "valid_from": _date(price_list.valid_from),
        "valid_to": _date(price_list.valid_to),
    }


def license_view(lic: License) -> dict[str, Any]:
    return {
        "id": lic.id,
        "license_key": lic.license_key,
        "license_key_masked": lic.license_key_masked,
        "product_sku": lic.product_sku,
        "seats": lic.seats,
        "licensee_name": lic.licensee_name,
        "purchase_date": _date(lic.purchase_date),
        "maintenance_end": _date(lic.maintenance_end),
        "contact_email": lic.contact_email,
        "currency": lic.currency,
        "end_customer": lic.end_customer,
        "previous_order_number": lic.previous_order_number,
        "reseller_id": lic.reseller_id,
    }


def quote_view(
    lic: License, product: Product, link: ExtensionLink, quotes: list[ExtensionQuote], reason: str | None
) -> dict[str, Any]:
    first = quotes[0]
    return {
        "license": {
            "id": lic.id,
            "license_key_masked": lic.license_key_masked,
            "product": product_view(product),
            "seats": lic.seats,
            "licensee_name": link.licensee_name,
            "purchase_date": _date(lic.purchase_date),
            "maintenance_end": _date(lic.maintenance_end),
        },
        "link": {"link_id": link.link_id, "status": link.status, "expires_on": _date(link.expires_on)},
        "offer": {
            "customer_discount_bp": first.customer_discount_bp,
            "reseller_discount_bp": first.reseller_discount_bp,
            "effective_discount_bp": first.effective_discount_bp,
            "list_price_per_year": first.list_price_per_year.to_dict(),
            "price_per_year": first.price_per_year.to_dict(),
            "terms": [
                {
                    "years": q.term_years,
                    "years_charged": q.years_charged,
                    "back_years": q.back_years,
                    "new_maintenance_end": _date(q.new_maintenance_end),
                    "total": q.total.to_dict(),
                }
                for q in quotes
                if q.can_extend
            ],
            "can_extend": first.can_extend,
            "reason": reason,
        },
    }


def order_view(order: Order) -> dict[str, Any]:
    return {
        "order_number": order.order_number,
        "status": order.status,
        "license_id": order.license_id,
        "licensee_name": order.licensee_name,
        "product_name": order.product_name,
        "license_key_masked": order.license_key_masked,
        "billing": order.billing,
        "end_customer": order.end_customer,
        "reseller_id": order.reseller_id,
        "term_years": order.term_years,
        "years_charged": order.years_charged,
        "price_per_year": order.price_per_year.to_dict(),
        "total": order.total.to_dict(),
        "effective_discount_bp": order.effective_discount_bp,
        "previous_maintenance_end": _date(order.previous_maintenance_end),
        "new_maintenance_end": _date(order.new_maintenance_end),
        "payment_methods": list(order.payment_methods),
        "created_at": _ts(order.created_at),
        "paid_at": _ts(order.paid_at),
        "card_brand": order.card_brand,
        "card_last4": order.card_last4,
    }


def order_paid_data(order: Order) -> dict[str, Any]:
    return {
        "order_number": order.order_number,
        "license_id": order.license_id,
        "link_id": order.link_id,
        "reseller_id": order.reseller_id,
        "license_key_masked": order.license_key_masked,
        "product_name": order.product_name,
        "licensee_name": order.licensee_name,
        "previous_maintenance_end": order.previous_maintenance_end.isoformat(),
        "new_maintenance_end": order.new_maintenance_end.isoformat(),
        "years_charged": order.years_charged,
        "price_per_year": order.price_per_year.to_dict(),
        "total": order.total.to_dict(),
        "effective_discount_bp": order.effective_discount_bp,
        "billing": order.billing,
        "end_customer": order.end_customer,
        "payment_method": order.payment_method,
        "card_brand": order.card_brand,
        "card_last4": order.card_last4,
    }
