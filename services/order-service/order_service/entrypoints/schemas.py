"""Marshmallow schemas for every request order-service accepts: validation happens here, at the edge."""

from __future__ import annotations

from typing import Any

import pycountry
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from order_service.domain.pricing import OFFERED_TERMS


def _currency(value: str) -> None:
    if len(value) != 3 or not value.isupper() or pycountry.currencies.get(alpha_3=value) is None:
        raise ValidationError("Not an ISO 4217 currency code.")


def _country(value: str) -> None:
    if len(value) != 2 or not value.isupper() or pycountry.countries.get(alpha_2=value) is None:
        raise ValidationError("Not an ISO 3166 alpha-2 country code.")


class _Strict(Schema):
    class Meta:
        unknown = RAISE


_id = validate.Length(min=1, max=64)


class QuoteQuery(_Strict):
    reseller_id = fields.String(load_default=None, allow_none=True, validate=_id)


class ResellerQuery(_Strict):
    reseller_id = fields.String(required=True, validate=_id)


class OptionalResellerQuery(_Strict):
    reseller_id = fields.String(load_default=None, validate=_id)


class OrderRequest(_Strict):
    term_years = fields.Integer(
        required=True, strict=True, validate=validate.OneOf(OFFERED_TERMS, error="Term not offered.")
    )
    reseller_id = fields.String(load_default=None, allow_none=True, validate=_id)


class CardSchema(_Strict):
    number = fields.String(required=True, validate=validate.Length(min=12, max=23))
    exp_month = fields.Integer(required=True, strict=True, validate=validate.Range(1, 12))
    exp_year = fields.Integer(required=True, strict=True, validate=validate.Range(2000, 2100))
    cvc = fields.String(required=True, validate=validate.Regexp(r"^\d{3,4}$", error="3 or 4 digits."))
    holder = fields.String(load_default="", validate=validate.Length(max=200))


class PaymentRequest(_Strict):
    method = fields.String(required=True, validate=validate.OneOf(["card", "invoice"]))
    card = fields.Nested(CardSchema, load_default=None, allow_none=True)
    reseller_id = fields.String(load_default=None, allow_none=True, validate=_id)

    @validates_schema
    def card_for_card_payments(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("method") == "card" and not data.get("card"):
            raise ValidationError("Card details are required for card payments.", "card")
        if data.get("method") == "invoice" and data.get("card"):
            raise ValidationError("No card details for invoice payments.", "card")


_sku = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", error="1-64 letters, digits, '.', '_' or '-'.")
SKU_PATTERN = _sku


class ProductSchema(_Strict):
    sku = fields.String(required=True, validate=_sku)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    edition = fields.String(load_default="", validate=validate.Length(max=100))


class ProductUpdateSchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    edition = fields.String(load_default="", validate=validate.Length(max=100))


class PriceListSchema(_Strict):
    product_sku = fields.String(required=True, validate=_sku)
    currency = fields.String(required=True, validate=_currency)
    price_per_seat_year = fields.Integer(required=True, strict=True, validate=validate.Range(0, 10**10))
    valid_from = fields.Date(required=True)
    valid_to = fields.Date(load_default=None, allow_none=True)


class AddressSchema(_Strict):
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(load_default="", allow_none=True, validate=validate.Length(max=200))
    postal_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(load_default="", allow_none=True, validate=validate.Length(max=100))
    country = fields.String(required=True, validate=_country)


class PartySchema(_Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    company = fields.String(load_default="", allow_none=True, validate=validate.Length(max=200))
    email = fields.Email(required=True)
    address = fields.Nested(AddressSchema, required=True)
    vat_id = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=30))


class LicenseSchema(_Strict):
    license_key = fields.String(required=True, validate=validate.Length(min=4, max=100))
    product_sku = fields.String(required=True, validate=_sku)
    seats = fields.Integer(required=True, strict=True, validate=validate.Range(1, 1_000_000))
    licensee_name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    purchase_date = fields.Date(required=True)
    maintenance_end = fields.Date(required=True)
    contact_email = fields.Email(required=True)
    currency = fields.String(required=True, validate=_currency)
    end_customer = fields.Nested(PartySchema, required=True)
    previous_order_number = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    reseller_id = fields.String(load_default=None, allow_none=True, validate=_id)

    @validates_schema
    def end_after_purchase(self, data: dict[str, Any], **_: Any) -> None:
        if (
            data.get("purchase_date")
            and data.get("maintenance_end")
            and data["maintenance_end"] < data["purchase_date"]
        ):
            raise ValidationError("Maintenance end is before the purchase date.", "maintenance_end")


class LicenseSearchQuery(_Strict):
    key = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    licensee = fields.String(load_default=None, validate=validate.Length(min=1, max=300))
    order_number = fields.String(load_default=None, validate=validate.Length(min=1, max=32))


CSV_PARTY_PREFIX = "end_customer_"
CSV_ADDRESS_FIELDS = ("line1", "line2", "postal_code", "city", "region", "country")
CSV_COLUMNS = (
    "license_key",
    "product_sku",
    "seats",
    "licensee_name",
    "purchase_date",
    "maintenance_end",
    "contact_email",
    "currency",
    "end_customer_name",
    "end_customer_company",
    "end_customer_email",
    "end_customer_line1",
    "end_customer_line2",
    "end_customer_postal_code",
    "end_customer_city",
    "end_customer_region",
    "end_customer_country",
    "end_customer_vat_id",
    "previous_order_number",
    "reseller_id",
)


def csv_row_to_license(row: dict[str, str | None]) -> dict[str, Any]:
    """A flat CSV row (columns CSV_COLUMNS) into the JSON license shape, before schema validation."""
    unknown = [k for k in row if k not in CSV_COLUMNS]
    if unknown or None in row:
        raise ValidationError(f"unexpected columns: {', '.join(str(k) for k in unknown) or 'extra values'}")
    value = {k: (v or "").strip() for k, v in row.items()}
    seats_raw = value.get("seats", "")
    party: dict[str, Any] = {
        "name": value.get("end_customer_name", ""),
        "company": value.get("end_customer_company", ""),
        "email": value.get("end_customer_email", ""),
        "vat_id": value.get("end_customer_vat_id") or None,
        "address": {f: value.get(f"{CSV_PARTY_PREFIX}{f}", "") for f in CSV_ADDRESS_FIELDS},
    }
    out: dict[str, Any] = {
        k: value.get(k, "")
        for k in (
            "license_key",
            "product_sku",
            "licensee_name",
            "purchase_date",
            "maintenance_end",
            "contact_email",
            "currency",
        )
    }
    out["seats"] = int(seats_raw) if seats_raw.isdigit() else seats_raw
    out["end_customer"] = party
    out["previous_order_number"] = value.get("previous_order_number") or None
    out["reseller_id"] = value.get("reseller_id") or None
    return out


def flatten_errors(messages: Any, prefix: str = "") -> str:
    if isinstance(messages, dict):
        return "; ".join(
            flatten_errors(v, f"{prefix}{k}." if not isinstance(v, list) else f"{prefix}{k}")
            for k, v in messages.items()
        )
    if isinstance(messages, list):
        return f"{prefix}: {' '.join(str(m) for m in messages)}" if prefix else " ".join(map(str, messages))
    return f"{prefix}: {messages}"
