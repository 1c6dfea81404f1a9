"""Marshmallow schemas of the public API's request bodies (validated at the edge, unknown fields rejected)."""

from __future__ import annotations

from typing import Any

import pycountry
from marshmallow import Schema, ValidationError, fields, validate

COUNTRY_CODES = sorted(c.alpha_2 for c in pycountry.countries)
PHONE = r"^\+?[0-9][0-9 ()./-]{4,30}$"


class WholeNumber(fields.Integer):
    """A JSON integer (`2` or `2.0`); strings and booleans are refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(int(value), attr, data, **kwargs)


class AddressSchema(Schema):
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(load_default="", allow_none=True, validate=validate.Length(max=200))
    postal_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    region = fields.String(load_default="", allow_none=True, validate=validate.Length(max=100))
    country = fields.String(required=True, validate=validate.OneOf(COUNTRY_CODES))


class RegistrationSchema(Schema):
    company = fields.String(required=True, validate=validate.Length(min=1, max=200))
    contact_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    phone = fields.String(required=True, validate=validate.Regexp(PHONE))
    vat_id = fields.String(allow_none=True, validate=validate.Length(max=20))
    billing_address = fields.Nested(AddressSchema, required=True)


class CredentialsSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class OrderRequestSchema(Schema):
    term_years = WholeNumber(required=True, validate=validate.Range(min=1, max=3))


class CardSchema(Schema):
    number = fields.String(required=True, validate=validate.Regexp(r"^[0-9 ]{12,23}$"))
    exp_month = WholeNumber(required=True, validate=validate.Range(min=1, max=12))
    exp_year = WholeNumber(required=True, validate=validate.Range(min=2000, max=2100))
    cvc = fields.String(required=True, validate=validate.Regexp(r"^[0-9]{3,4}$"))
    holder = fields.String(required=True, validate=validate.Length(min=1, max=120))


class PaymentRequestSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(["card", "invoice"]))
    card = fields.Nested(CardSchema)


class ChangeRequestSchema(Schema):
    reseller_email = fields.Email(required=True, validate=validate.Length(max=254))
    previous_order_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    topic = fields.String(required=True, validate=validate.OneOf(["billing", "end_customer", "other"]))
    message = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class PasswordResetRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=254))


class PasswordResetCompleteSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=500))
    new_password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class ReminderScanSchema(Schema):
    as_of = fields.Date()
