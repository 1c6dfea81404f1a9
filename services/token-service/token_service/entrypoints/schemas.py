"""Request and response shapes of the token-service HTTP API (docs/internal-api.md)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

DISCOUNT_BP = validate.Range(min=0, max=10000)


class IssueLinkRequest(Schema):
    license_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    product_sku = fields.String(required=True, validate=validate.Length(min=1, max=100))
    cycle_end = fields.Date(required=True)
    licensee_name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    currency = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{3}$"))


class RevokeLinkRequest(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))


class DiscountRequest(Schema):
    customer_discount_bp = fields.Integer(required=True, strict=True, validate=DISCOUNT_BP)


class IssuedLinkResponse(Schema):
    link_id = fields.String()
    token = fields.String()
    url = fields.String()
    status = fields.String()
    cycle_end = fields.Date()
    customer_discount_bp = fields.Integer()
    expires_on = fields.Date()
