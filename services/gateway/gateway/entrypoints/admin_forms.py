"""Operations console forms (plain WTForms: the console checks its own CSRF token on every POST)."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Form,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from gateway.entrypoints.forms import COUNTRIES, EMAIL


class OperatorLoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), EMAIL, Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class ApproveForm(Form):
    discount_bp = IntegerField(
        "Reseller discount (basis points, 1000 = 10 %)",
        validators=[Optional(), NumberRange(0, 10000)],
    )
    invoice_allowed = BooleanField("May pay by invoice")


class RejectForm(Form):
    reason = TextAreaField("Reason (sent to the applicant)", validators=[DataRequired(), Length(max=1000)])


class SuspendForm(Form):
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=1000)])


class BillingForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    company = StringField("Company", validators=[Optional(), Length(max=200)])
    email = EmailField("Billing email", validators=[DataRequired(), EMAIL, Length(max=254)])
    line1 = StringField("Address line 1", validators=[DataRequired(), Length(max=200)])
    line2 = StringField("Address line 2", validators=[Optional(), Length(max=200)])
    postal_code = StringField("Postal code", validators=[DataRequired(), Length(max=20)])
    city = StringField("City", validators=[DataRequired(), Length(max=100)])
    region = StringField("Region", validators=[Optional(), Length(max=100)])
    country = SelectField("Country", choices=COUNTRIES, validators=[DataRequired()])
    vat_id = StringField("VAT ID", validators=[Optional(), Length(max=20)])

    ADDRESS = ("line1", "line2", "postal_code", "city", "region", "country")

    def fill(self, billing: dict) -> None:
        address = billing.get("address") or {}
        for name in ("name", "company", "email", "vat_id"):
            getattr(self, name).data = billing.get(name) or ""
        for name in self.ADDRESS:
            getattr(self, name).data = address.get(name) or ""

    def patch(self) -> dict:
        """The billing party as reseller-service's PATCH takes it (blank optional fields cleared)."""
        return {
            "name": self.name.data,
            "company": self.company.data or None,
            "email": self.email.data,
            "vat_id": self.vat_id.data or None,
            "address": {name: getattr(self, name).data or "" for name in self.ADDRESS},
        }


class PriceListForm(Form):
    product_sku = SelectField("Product", validators=[DataRequired()], choices=[])
    currency = StringField(
        "Currency (ISO 4217)", validators=[DataRequired(), Regexp(r"^[A-Z]{3}$", message="Three capital letters.")]
    )
    price_per_seat_year = IntegerField(
        "Price per seat and year (minor units, 4999 = 49.99)", validators=[DataRequired(), NumberRange(1, 10**9)]
    )
    valid_from = DateField("Valid from", validators=[DataRequired()])
    valid_to = DateField("Valid to (optional)", validators=[Optional()])


class ReminderScanForm(Form):
    as_of = DateField("Scan as of (empty = today)", validators=[Optional()])
