"""Customer pages: landing, the extension page, ordering, payment, confirmation, change requests."""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from gateway.adapters.downstream import DownstreamError
from gateway.domain.presentation import choose_term
from gateway.entrypoints.flask_app import current_gateway
from gateway.entrypoints.forms import BuyNowForm, ChangeRequestForm, PaymentForm
from gateway.entrypoints.web_session import browser_session
from gateway.service_layer import journeys

blueprint = Blueprint("pages", __name__)

LINK_STATES = {"redeemed", "revoked", "expired"}


def _reseller() -> dict[str, Any] | None:
    """The approved, logged-in reseller for this request (checked once per request)."""
    from flask import g

    if "reseller_account" not in g:
        g.reseller_account = journeys.current_reseller(current_gateway().resellers, browser_session())
    return g.reseller_account  # type: ignore[no-any-return]


def link_problem_page(exc: DownstreamError) -> tuple[str, int] | None:
    """The friendly page for an extension link that cannot be used, or None when `exc` is something else."""
    if exc.status == 404:
        return render_template("errors/link.html", link_status="unknown"), 404
    if exc.status == 410:
        status = str(exc.problem.get("link_status") or "expired")
        return render_template(
            "errors/link.html",
            link_status=status if status in LINK_STATES else "expired",
        ), 410
    if exc.status == 429:
        return render_template("errors/too_many.html", retry_after=exc.retry_after), 429
    return None


@blueprint.get("/")
def landing() -> str:
    return render_template("landing.html")


@blueprint.get("/extend/<token>")
def extension(token: str) -> Any:
    gateway = current_gateway()
    reseller = _reseller()
    try:
        quote = gateway.orders.quote(token, reseller_id=str(reseller["id"]) if reseller else None)
    except DownstreamError as exc:
        page = link_problem_page(exc)
        if page is None:
            raise
        return page
    offer = quote.get("offer", {})
    terms = offer.get("terms", [])
    chosen = choose_term(terms, request.args.get("term"))
    # Buy Now posts BuyNowForm's fields (checked by place_order); the page writes them itself: constructing and
    # rendering the wtforms form cost more than the rest of the template
    return render_template(
        "extend.html",
        token=token,
        quote=quote,
        license=quote.get("license", {}),
        offer=offer,
        terms=terms,
        chosen=chosen,
        reseller=reseller,
        buy_term_years=str(chosen["years"]) if chosen else "1",
        idempotency_key=uuid.uuid4().hex,
    )


@blueprint.post("/extend/<token>/order")
def place_order(token: str) -> Any:
    gateway = current_gateway()
    form = BuyNowForm()
    if not form.validate_on_submit():
        flash("Please choose a term and try again.", "error")
        return redirect(url_for("pages.extension", token=token))
    reseller = _reseller()
    try:
        order = journeys.place_order(
            gateway.orders,
            browser_session(),
            token,
            int(form.term_years.data),
            form.idempotency_key.data,
            reseller,
        )
    except DownstreamError as exc:
        page = link_problem_page(exc)
        if page is not None:
            return page
        if exc.status == 409:
            return render_template(
                "errors/generic.html",
                title="This maintenance can no longer be extended online",
                detail=exc.detail or "Please contact us to renew it.",
            ), 409
        if exc.status == 422:
            flash(
                "That term is not offered for this license. Please choose another one.",
                "error",
            )
            return redirect(url_for("pages.extension", token=token))
        raise
    return redirect(url_for("pages.payment", order_number=order["order_number"]), code=303)


def _order_not_found() -> Response:
    page = render_template(
        "errors/generic.html",
        title="We can't find this order",
        detail="Open the link from your reminder email again in this browser, or log in to the reseller portal "
        "if you ordered as a reseller.",
        login_link=True,
    )
    return Response(page, 404, mimetype="text/html")


def _order_for_browser(order_number: str) -> tuple[dict[str, Any], journeys.BuyerProof]:
    reseller = _reseller()
    proof = journeys.buyer_proof(browser_session(), order_number, reseller)
    if proof is None:
        abort(_order_not_found())
    try:
        return journeys.get_order(current_gateway().orders, order_number, proof), proof
    except DownstreamError as exc:
        if exc.status in (403, 404):
            abort(_order_not_found())
        raise


@blueprint.route("/orders/<order_number>/pay", methods=["GET", "POST"])
def payment(order_number: str) -> Any:
    order, proof = _order_for_browser(order_number)
    if order.get("status") == "paid":
        return redirect(url_for("pages.confirmation", order_number=order_number), code=303)
    methods = order.get("payment_methods") or ["card"]
    form = PaymentForm()
    form.method.choices = [(m, "Card" if m == "card" else "Invoice") for m in methods]
    if request.method == "GET":
        form.idempotency_key.data = uuid.uuid4().hex
    payment_error = None
    if form.validate_on_submit():
        if form.method.data == "invoice":
            payload: dict[str, Any] = {"method": "invoice"}
        else:
            payload = {
                "method": "card",
                "card": {
                    "number": "".join(str(form.number.data).split()),
                    "exp_month": form.exp_month.data,
                    "exp_year": form.exp_year.data,
                    "cvc": form.cvc.data,
                    "holder": form.holder.data,
                },
            }
        try:
            journeys.pay_order(
                current_gateway().orders,
                order_number,
                proof,
                payload,
                form.idempotency_key.data,
            )
        except DownstreamError as exc:
            if exc.status == 402:
                payment_error = (
                    f"The payment was declined: {exc.problem.get('reason') or exc.detail or 'no reason given'}."
                )
                form.idempotency_key.data = uuid.uuid4().hex  # a new attempt, not a replay of the declined one
            elif exc.status == 409:
                return render_template(
                    "errors/generic.html",
                    title="This order can no longer be paid",
                    detail=exc.detail or "The license changed since you opened the link.",
                ), 409
            elif exc.status == 422:
                payment_error = exc.detail or "Please check the payment details."
                for name, messages in exc.errors.items():
                    field = getattr(form, name.split(".")[-1], None)
                    if field is not None:
                        field.errors = [*field.errors, *messages]
            else:
                raise
        else:
            return redirect(url_for("pages.confirmation", order_number=order_number), code=303)
    form.number.data = ""  # never echo a card number back into the page
    form.cvc.data = ""
    status = 402 if payment_error and request.method == "POST" else (422 if form.errors else 200)
    return render_template("payment.html", order=order, form=form, payment_error=payment_error), status


@blueprint.get("/orders/<order_number>")
def confirmation(order_number: str) -> Any:
    order, _ = _order_for_browser(order_number)
    if order.get("status") != "paid":
        return redirect(url_for("pages.payment", order_number=order_number))
    return render_template("confirmation.html", order=order)


@blueprint.route("/support/change-request", methods=["GET", "POST"])
def change_request() -> Any:
    reseller = browser_session().get(journeys.RESELLER_KEY)
    form = ChangeRequestForm()
    if request.method == "GET":
        if reseller:
            form.reseller_email.data = reseller.get("email")
        form.previous_order_number.data = request.args.get("order", "")[:64]
        topic = request.args.get("topic")
        if topic in ("billing", "end_customer", "other"):
            form.topic.data = topic
    if form.validate_on_submit():
        try:
            current_gateway().resellers.change_request(
                {
                    "reseller_email": form.reseller_email.data,
                    "previous_order_number": form.previous_order_number.data,
                    "topic": form.topic.data,
                    "message": form.message.data,
                }
            )
        except DownstreamError as exc:
            if exc.status != 422:
                raise
            for name, messages in exc.errors.items():
                field = getattr(form, name, None)
                if field is not None:
                    field.errors = [*field.errors, *messages]
        else:
            return render_template("change_request_sent.html", email=form.reseller_email.data)
    status = 422 if form.errors else 200
    return render_template("change_request.html", form=form), status


def redirect_to_login(next_path: str) -> Response:
    return redirect(url_for("reseller.login", next=next_path))
