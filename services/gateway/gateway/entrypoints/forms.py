"""Browser forms (flask-wtf: every one carries a CSRF token). Fields validated here show errors next to them."""

from __future__ import annotations

import pycountry
from flask_wtf import FlaskForm
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

# a plain shape check (the email_validator package is not a dependency); the service validates again
EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Enter a valid email address.")

COUNTRIES = [("", "Choose a country"), *sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda p: p[1])]


class BuyNowForm(FlaskForm):
    term_years = HiddenField(validators=[DataRequired(), Regexp(r"^[1-9]$")])
    idempotency_key = HiddenField(validators=[DataRequired(), Length(min=8, max=64)])


class PaymentForm(FlaskForm):
    method = RadioField(
        "Payment method",
        choices=[("card", "Card"), ("invoice", "Invoice")],
        default="card",
    )
    holder = StringField("Name on card", validators=[Optional(), Length(max=120)])
    number = StringField(
        "Card number",
        validators=[
            Optional(),
            Regexp(r"^[0-9 ]{12,23}$", message="Enter the 12 to 19 digits of the card."),
        ],
    )
    exp_month = IntegerField("Expiry month", validators=[Optional(), NumberRange(1, 12)])
    exp_year = IntegerField("Expiry year", validators=[Optional(), NumberRange(2000, 2100)])
    cvc = PasswordField(
        "Security code (CVC)",
        validators=[Optional(), Regexp(r"^[0-9]{3,4}$", message="3 or 4 digits.")],
    )
    idempotency_key = HiddenField(validators=[DataRequired(), Length(min=8, max=64)])

    def validate(self, extra_validators=None) -> bool:  # type: ignore[no-untyped-def]
        ok = super().validate(extra_validators)
        if self.method.data == "card":
            for field in (
                self.holder,
                self.number,
                self.exp_month,
                self.exp_year,
                self.cvc,
            ):
                if not field.data:
                    field.errors = [*field.errors, "Required for card payments."]
                    ok = False
        return ok


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), EMAIL, Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class RegisterForm(FlaskForm):
    company = StringField("Company", validators=[DataRequired(), Length(max=200)])
    contact_name = StringField("Contact name", validators=[DataRequired(), Length(max=200)])
    email = EmailField("Email", validators=[DataRequired(), EMAIL, Length(max=254)])
    phone = StringField("Phone", validators=[DataRequired(), Length(max=40)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=12, max=200)])
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", "Passwords differ.")],
    )
    vat_id = StringField("VAT ID (optional)", validators=[Optional(), Length(max=40)])
    line1 = StringField("Address line 1", validators=[DataRequired(), Length(max=200)])
    line2 = StringField("Address line 2 (optional)", validators=[Optional(), Length(max=200)])
    postal_code = StringField("Postal code", validators=[DataRequired(), Length(max=20)])
    city = StringField("City", validators=[DataRequired(), Length(max=100)])
    region = StringField("Region (optional)", validators=[Optional(), Length(max=100)])
    country = SelectField("Country", choices=COUNTRIES, validators=[DataRequired()])


class PasswordResetRequestForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), EMAIL, Length(max=254)])


class PasswordResetForm(FlaskForm):
    new_password = PasswordField("New password", validators=[DataRequired(), Length(min=12, max=200)])
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("new_password", "Passwords differ.")],
    )


class ChangeRequestForm(FlaskForm):
    reseller_email = EmailField(
        "Your reseller account email",
        validators=[DataRequired(), EMAIL, Length(max=254)],
    )
    previous_order_number = StringField(
        "End customer's previous order number",
        validators=[DataRequired(), Length(max=64)],
    )
    topic = SelectField(
        "What should change",
        choices=[
            ("billing", "Billing information"),
            ("end_customer", "End customer data"),
            ("other", "Something else"),
        ],
        validators=[DataRequired()],
    )
    message = TextAreaField("Message", validators=[DataRequired(), Length(max=5000)])


class LogoutForm(FlaskForm):
    pass
