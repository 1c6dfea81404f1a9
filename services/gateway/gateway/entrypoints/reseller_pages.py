"""The reseller portal: register, log in/out, password reset, account (read-only billing), orders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from wtforms import Form

from gateway.adapters.downstream import DownstreamError
from gateway.domain.navigation import DEFAULT_AFTER_LOGIN, safe_next
from gateway.entrypoints.flask_app import current_gateway
from gateway.entrypoints.forms import (
    LoginForm,
    LogoutForm,
    PasswordResetForm,
    PasswordResetRequestForm,
    RegisterForm,
)
from gateway.entrypoints.pages import _reseller
from gateway.entrypoints.web_session import browser_session
from gateway.service_layer import journeys

blueprint = Blueprint("reseller", __name__, url_prefix="/reseller")

ADDRESS_FIELDS = ("line1", "line2", "postal_code", "city", "region", "country")


def _attach_errors(form: Form, errors: dict[str, Any]) -> None:
    """Put a service's 422 `errors` next to the matching fields (`billing_address.city` -> `city`)."""
    for name, messages in errors.items():
        if isinstance(messages, dict):
            _attach_errors(form, messages)
            continue
        field = getattr(form, str(name).split(".")[-1], None)
        if field is not None:
            field.errors = [
                *field.errors,
                *(messages if isinstance(messages, list) else [str(messages)]),
            ]


@blueprint.route("/register", methods=["GET", "POST"])
def register() -> Any:
    form = RegisterForm()
    if form.validate_on_submit():
        registration = {
            "company": form.company.data,
            "contact_name": form.contact_name.data,
            "email": form.email.data,
            "password": form.password.data,
            "phone": form.phone.data,
            "billing_address": {name: getattr(form, name).data or "" for name in ADDRESS_FIELDS},
        }
        if form.vat_id.data:
            registration["vat_id"] = form.vat_id.data
        try:
            current_gateway().resellers.register(registration)
        except DownstreamError as exc:
            if exc.status == 409:
                form.email.errors = [
                    *form.email.errors,
                    "An account with this email already exists.",
                ]
            elif exc.status == 422:
                _attach_errors(form, exc.errors)
                if not form.errors:
                    form.company.errors = [exc.detail or "Please check the form."]
            else:
                raise
        else:
            return render_template("reseller/registered.html", email=form.email.data), 201
    return render_template("reseller/register.html", form=form), 422 if form.errors else 200


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    next_path = safe_next(request.values.get("next"))
    form.next.data = next_path
    login_error = None
    status = 200
    if form.validate_on_submit():
        try:
            journeys.login(
                current_gateway().resellers,
                browser_session(),
                form.email.data,
                form.password.data,
            )
        except DownstreamError as exc:
            status = exc.status if exc.status in (401, 403, 429) else 400
            if exc.status == 401:
                login_error = "The email or the password is wrong."
            elif exc.status == 403:
                account_status = exc.account_status or "pending"
                login_error = (
                    "Your reseller account is awaiting approval. We will email you as soon as it is approved."
                    if account_status == "pending"
                    else f"Your reseller account is {account_status}. Please contact us."
                )
            elif exc.status == 429:
                wait = exc.retry_after or "a few"
                login_error = f"Too many attempts. Please wait {wait} seconds and try again."
            else:
                raise
        else:
            return redirect(next_path, code=303)
    elif form.errors:
        status = 422
    return render_template("reseller/login.html", form=form, login_error=login_error, next_path=next_path), status


@blueprint.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    form = LogoutForm()
    if request.method == "POST" and form.validate_on_submit():
        journeys.logout(browser_session())
        flash("You are logged out.", "info")
        return redirect(url_for("pages.landing"), code=303)
    return render_template("reseller/logout.html", form=form)


@blueprint.route("/password-reset", methods=["GET", "POST"])
def password_reset_request() -> Any:
    form = PasswordResetRequestForm()
    if form.validate_on_submit():
        current_gateway().resellers.request_password_reset(form.email.data)
        return render_template("reseller/password_reset_sent.html", email=form.email.data)
    return render_template("reseller/password_reset_request.html", form=form), 422 if form.errors else 200


@blueprint.route("/password-reset/<token>", methods=["GET", "POST"])
def password_reset(token: str) -> Any:
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            current_gateway().resellers.complete_password_reset(token, form.new_password.data)
        except DownstreamError as exc:
            if exc.status == 400:
                return render_template("reseller/password_reset_invalid.html"), 400
            if exc.status == 422:
                _attach_errors(form, exc.errors)
                if not form.new_password.errors:
                    form.new_password.errors = [exc.detail or "Choose a stronger password."]
            else:
                raise
        else:
            browser_session().end()  # type: ignore[attr-defined]  # a password change ends this session too
            flash(
                "Your password was changed. Please log in with the new password.",
                "info",
            )
            return redirect(url_for("reseller.login"), code=303)
    g_status = 422 if form.errors else 200
    return render_template("reseller/password_reset.html", form=form), g_status


@blueprint.get("/account")
def account() -> Any:
    reseller = _reseller()
    if reseller is None:
        return redirect(url_for("reseller.login", next=request.path))
    return render_template("reseller/account.html", account=reseller)


@blueprint.get("/orders")
def orders() -> Any:
    reseller = _reseller()
    if reseller is None:
        return redirect(url_for("reseller.login", next=request.path))
    order_list = current_gateway().orders.list_orders(str(reseller["id"]))
    return render_template("reseller/orders.html", account=reseller, orders=order_list)


__all__ = ["DEFAULT_AFTER_LOGIN", "blueprint"]
