"""Request schemas: everything entering over HTTP is checked here, unknown fields refused (load_body)."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates,
)

from reseller_service.domain.countries import is_country_code
from reseller_service.domain.email_address import is_valid_email, normalise_email
from reseller_service.domain.model import MAX_DISCOUNT_BP
from reseller_service.domain.vat import normalise_vat_id

_text = validate.Length(min=1, max=200)
_optional_text = validate.Length(max=200)


class EmailField(fields.String):
    """Normalised (stripped, lower case) and syntax-checked."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        email = normalise_email(super()._deserialize(value, attr, data, **kwargs))
        if not is_valid_email(email):
            raise ValidationError("not a valid email address")
        return email


class CountryField(fields.String):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if not is_country_code(code):
            raise ValidationError("not an ISO 3166-1 alpha-2 country code")
        return code


class VatIdField(fields.String):
    """An empty VAT id means none; the length is checked here because validators never see the None."""

    MAX_LENGTH = 20

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:  # type: ignore[override]
        vat_id = normalise_vat_id(super()._deserialize(value, attr, data, **kwargs))
        if len(vat_id) > self.MAX_LENGTH:
            raise ValidationError(f"Longer than maximum length {self.MAX_LENGTH}.")
        return vat_id or None


class _Stripping(Schema):
    @pre_load
    def strip_strings(self, data: Any, **_: Any) -> Any:
        if isinstance(data, dict):
            return {
                k: v.strip() if isinstance(v, str) and k not in ("password", "new_password") else v
                for k, v in data.items()
            }
        return data


class AddressSchema(_Stripping):
    line1 = fields.String(required=True, validate=_text)
    line2 = fields.String(load_default="", allow_none=True, validate=_optional_text)
    postal_code = fields.String(required=True, validate=validate.Length(min=1, max=20))
    city = fields.String(required=True, validate=_text)
    region = fields.String(load_default="", allow_none=True, validate=_optional_text)
    country = CountryField(required=True)

    @post_load
    def blanks(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        for key in ("line2", "region"):
            if key in data and data[key] is None:
                data[key] = ""
        return data


class RegisterSchema(_Stripping):
    company = fields.String(required=True, validate=_text)
    contact_name = fields.String(required=True, validate=_text)
    email = EmailField(required=True)
    password = fields.String(required=True, validate=validate.Length(max=1024))
    billing_address = fields.Nested(AddressSchema, required=True)
    vat_id = VatIdField(load_default=None, allow_none=True)
    phone = fields.String(
        required=True,
        validate=validate.Regexp(r"^\+?[0-9][0-9 ()./-]{4,30}$", error="not a valid phone number"),
    )


class AuthenticateSchema(Schema):
    # Not validated as an email: a malformed one is simply unknown (401), like any other.
    email = fields.String(required=True, validate=validate.Length(max=320))
    password = fields.String(required=True, validate=validate.Length(max=1024))


class PasswordResetRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=320))


class PasswordResetCompleteSchema(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, validate=validate.Length(max=1024))


class ChangeRequestSchema(_Stripping):
    reseller_email = EmailField(required=True)
    previous_order_number = fields.String(required=True, validate=validate.Length(min=1, max=64))
    topic = fields.String(required=True, validate=validate.OneOf(["billing", "end_customer", "other"]))
    message = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class ApproveSchema(Schema):
    discount_bp = fields.Integer(strict=True, load_default=None, validate=validate.Range(0, MAX_DISCOUNT_BP))
    invoice_allowed = fields.Boolean(load_default=None)


class ReasonSchema(_Stripping):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class OptionalReasonSchema(_Stripping):
    reason = fields.String(load_default="", validate=validate.Length(max=1000))


class PartialAddressSchema(_Stripping):
    """Only the address fields being changed (no defaults, nothing required)."""

    line1 = fields.String(validate=_text)
    line2 = fields.String(validate=_optional_text)
    postal_code = fields.String(validate=validate.Length(min=1, max=20))
    city = fields.String(validate=_text)
    region = fields.String(validate=_optional_text)
    country = CountryField()


class BillingPatchSchema(_Stripping):
    name = fields.String(validate=_text)
    company = fields.String(allow_none=True, validate=_optional_text)
    email = EmailField()
    address = fields.Nested(PartialAddressSchema)
    vat_id = VatIdField(allow_none=True)

    @validates("address")
    def address_not_empty(self, value: dict[str, Any], **_: Any) -> None:
        if not value:
            raise ValidationError("give at least one address field")

    @post_load
    def blanks(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        if "company" in data and data["company"] is None:
            data["company"] = ""
        if not data:
            raise ValidationError("give at least one billing field")
        return data
