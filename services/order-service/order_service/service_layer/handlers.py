"""One function per use case. Each takes a command and only the dependencies its signature names."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Callable
from typing import Any

from order_service.adapters.payments import CardProvider
from order_service.adapters.reseller_client import ResellerService
from order_service.adapters.token_client import TokenService
from order_service.domain import commands
from order_service.domain.cards import InvalidCard, validate_card
from order_service.domain.dates import years_covered
from order_service.domain.model import (
    LINK_ACTIVE,
    ORDER_PAID,
    ORDER_PENDING,
    ExtensionLink,
    License,
    Order,
    PriceList,
    Product,
    ResellerAccount,
)
from order_service.domain.pricing import OFFERED_TERMS, ExtensionQuote, lapsed_too_long_explanation, quote_extension
from order_service.service_layer import views
from order_service.service_layer.unit_of_work import UnitOfWork
from renewals_shared.clock import Clock
from renewals_shared.events import new_event
from renewals_shared.observability import metrics

PRODUCER = "order-service"
ORDERS_SCOPE = "orders"


class HandlerError(Exception):
    """A refusal with an HTTP-agnostic status; the entrypoint turns it into problem JSON."""

    def __init__(self, status: int, title: str, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(title)
        self.status, self.title, self.detail, self.extensions = status, title, detail, extensions


Response = tuple[int, dict[str, Any]]


# ---------------------------------------------------------------- helpers


def _resolve_link(tokens: TokenService, token: str | None) -> ExtensionLink:
    if not token:
        raise HandlerError(404, "Link not found", "This extension link is unknown.")
    link = tokens.resolve(token)
    if link is None:
        raise HandlerError(404, "Link not found", "This extension link is unknown.")
    return link


def _require_active(link: ExtensionLink) -> None:
    if link.status != LINK_ACTIVE:
        raise HandlerError(
            410, "Link no longer valid", f"This extension link is {link.status}.", link_status=link.status
        )


def _check_cycle(uow: UnitOfWork, link: ExtensionLink, lic: License) -> None:
    """A link is for one cycle (the E it was issued for): once E moved, the link is spent or superseded."""
    if link.cycle_end != lic.maintenance_end:
        status = "redeemed" if uow.orders.paid_order_for_link(link.link_id) else "revoked"
        raise HandlerError(
            410,
            "Link no longer valid",
            "The maintenance end of this license changed since the link was issued.",
            link_status=status,
        )


def _approved_reseller(resellers: ResellerService, reseller_id: str | None) -> ResellerAccount | None:
    if not reseller_id:
        return None
    account = resellers.get_account(reseller_id)
    return account if account is not None and account.approved else None


def _priced_license(uow: UnitOfWork, link: ExtensionLink, today: dt.date) -> tuple[License, Product, PriceList]:
    """The link's license, its product and the price list in force today: one query."""
    priced = uow.licenses.get_priced(link.license_id, today)
    if priced is None:
        raise HandlerError(404, "Link not found", "This extension link is unknown.")
    lic, product, price_list = priced
    _check_cycle(uow, link, lic)
    if product is None:
        raise HandlerError(409, "Product unavailable", f"Product {lic.product_sku} is not in the catalogue.")
    if price_list is None:
        raise HandlerError(
            409,
            "No price list",
            f"no {lic.currency} price list in force for {lic.product_sku} on {today.isoformat()}",
        )
    return lic, product, price_list


def _quote(
    lic: License, price_list: PriceList, dc: int, dr: int, term: int, today: dt.date, max_lapse_days: int
) -> ExtensionQuote:
    return quote_extension(
        purchase_date=lic.purchase_date,
        maintenance_end=lic.maintenance_end,
        list_price_per_year=price_list.list_price_per_year(lic.seats),
        customer_discount_bp=dc,
        reseller_discount_bp=dr,
        term_years=term,
        today=today,
        max_lapse_days=max_lapse_days,
    )


def _replay(stored: tuple[str, int | None, Any], request_hash: str) -> Response:
    stored_hash, status, body = stored
    if stored_hash != request_hash:
        raise HandlerError(
            422,
            "Idempotency key reused",
            "This Idempotency-Key was already used with a different request.",
            errors={"Idempotency-Key": ["already used with a different request"]},
        )
    if status is None:  # cannot happen after commit; never answer an unfinished request as done
        raise HandlerError(409, "Request in progress", "The first request with this key has not finished.")
    return status, body


# ---------------------------------------------------------------- quotes


def get_quote(
    cmd: commands.GetQuote,
    uow: UnitOfWork,
    tokens: TokenService,
    recent_resellers: ResellerService,
    clock: Clock,
    max_lapse_days: int,
) -> dict[str, Any]:
    link = _resolve_link(tokens, cmd.token)
    _require_active(link)
    account = _approved_reseller(recent_resellers, cmd.reseller_id)
    dr = account.discount_bp if account else 0
    today = clock.today()
    with uow.reading():
        lic, product, price_list = _priced_license(uow, link, today)
    quotes = [_quote(lic, price_list, link.customer_discount_bp, dr, t, today, max_lapse_days) for t in OFFERED_TERMS]
    reason = None if quotes[0].can_extend else lapsed_too_long_explanation(max_lapse_days)
    return views.quote_view(lic, product, link, quotes, reason)


# ---------------------------------------------------------------- orders


def _repeats_get_the_stored_answer(handler: Callable[..., Response]) -> Callable[..., Response]:
    """A repeated order request gets the stored first response: from the key's claim when it gets that far,
    else (its link redeemed by the order's payment, its body invalid, ...) from the refusal. A first request
    thus pays no look-up of its own. (The bootstrap still sees the handler's own signature.)"""

    @functools.wraps(handler)
    def answering_repeats(cmd: commands.PlaceOrder, uow: UnitOfWork, **dependencies: Any) -> Response:
        try:
            return handler(cmd, uow, **dependencies)
        except HandlerError:
            with uow.reading():
                stored = uow.idempotency.get(ORDERS_SCOPE, cmd.idempotency_key)
            if stored is None:
                raise
            return _replay(stored, cmd.request_hash)

    return answering_repeats


@_repeats_get_the_stored_answer
def place_order(
    cmd: commands.PlaceOrder,
    uow: UnitOfWork,
    tokens: TokenService,
    resellers: ResellerService,
    clock: Clock,
    max_lapse_days: int,
) -> Response:
    if cmd.term_years not in OFFERED_TERMS:
        raise HandlerError(
            422,
            "Term not offered",
            f"Terms offered: {', '.join(map(str, OFFERED_TERMS))} years.",
            errors={"term_years": ["term not offered"]},
        )
    link = _resolve_link(tokens, cmd.token)
    _require_active(link)
    account: ResellerAccount | None = None
    if cmd.reseller_id:
        account = _approved_reseller(resellers, cmd.reseller_id)
        if account is None:
            raise HandlerError(
                403, "Reseller account not approved", "Only an approved reseller account can order for an end customer."
            )
    today = clock.today()
    with uow:
        if not uow.idempotency.claim(ORDERS_SCOPE, cmd.idempotency_key, cmd.request_hash):
            return _replay(uow.idempotency.get(ORDERS_SCOPE, cmd.idempotency_key), cmd.request_hash)
        lic, product, price_list = _priced_license(uow, link, today)
        q = _quote(
            lic,
            price_list,
            link.customer_discount_bp,
            account.discount_bp if account else 0,
            cmd.term_years,
            today,
            max_lapse_days,
        )
        if not q.can_extend or q.new_maintenance_end is None:
            raise HandlerError(
                409, "Maintenance lapsed too long", lapsed_too_long_explanation(max_lapse_days), reason=q.reason
            )
        order = Order(
            order_number=uow.orders.next_order_number(today.year),
            license_id=lic.id,
            link_id=link.link_id,
            status=ORDER_PENDING,
            licensee_name=link.licensee_name,
            product_name=product.name,
            license_key_masked=lic.license_key_masked,
            billing=dict(account.billing) if account else dict(lic.end_customer),
            end_customer=dict(lic.end_customer),
            reseller_id=account.id if account else None,
            term_years=cmd.term_years,
            years_charged=q.years_charged,
            price_per_year=q.price_per_year,
            total=q.total,
            effective_discount_bp=q.effective_discount_bp,
            customer_discount_bp=q.customer_discount_bp,
            reseller_discount_bp=q.reseller_discount_bp,
            previous_maintenance_end=lic.maintenance_end,
            new_maintenance_end=q.new_maintenance_end,
            payment_methods=["card", "invoice"] if account and account.invoice_allowed else ["card"],
            created_at=clock.now(),
        )
        uow.orders.add(order)
        uow.add_event(
            new_event(
                "order.placed",
                {
                    "order_number": order.order_number,
                    "license_id": order.license_id,
                    "link_id": order.link_id,
                    "reseller_id": order.reseller_id,
                    "term_years": order.term_years,
                    "total": order.total.to_dict(),
                },
                PRODUCER,
            )
        )
        body = views.order_view(order)
        uow.idempotency.complete(ORDERS_SCOPE, cmd.idempotency_key, 201, body)
        uow.commit()
    metrics.orders.labels(order.total.currency, "placed").inc()
    return 201, body


def _check_buyer(
    order: Order, token: str | None, reseller_id: str | None, tokens: TokenService
) -> ExtensionLink | None:
    """Reseller orders: the reseller that placed them. Direct orders: the holder of the link. Else 'not found'."""
    not_found = HandlerError(404, "Order not found", "No such order for this buyer.")
    link = None
    if token:
        link = tokens.resolve(token)
        if link is None or link.link_id != order.link_id:
            raise not_found
    if order.reseller_id:
        if reseller_id != order.reseller_id:
            raise not_found
    elif link is None:  # direct order: the link holder (a reseller_id sent along is irrelevant)
        raise not_found
    return link


def get_order(cmd: commands.GetOrder, uow: UnitOfWork, tokens: TokenService) -> dict[str, Any]:
    with uow.reading():
        order = uow.orders.get(cmd.order_number)
    if order is None:
        raise HandlerError(404, "Order not found", "No such order for this buyer.")
    _check_buyer(order, cmd.token, cmd.reseller_id, tokens)
    return views.order_view(order)


def list_orders(cmd: commands.ListOrders, uow: UnitOfWork) -> dict[str, Any]:
    with uow.reading():
        orders = uow.orders.list_by_reseller(cmd.reseller_id)
    return {"orders": [views.order_view(o) for o in orders]}


# ---------------------------------------------------------------- payments


def pay_order(
    cmd: commands.PayOrder,
    uow: UnitOfWork,
    tokens: TokenService,
    resellers: ResellerService,
    cards: CardProvider,
    clock: Clock,
) -> Response:
    scope = f"payment:{cmd.order_number}"
    with uow.reading():
        order, stored = uow.orders.get_with_stored_response(cmd.order_number, scope, cmd.idempotency_key)
    if order is None:
        raise HandlerError(404, "Order not found", "No such order for this buyer.")
    link = _check_buyer(order, cmd.token, cmd.reseller_id, tokens)
    if stored is not None:
        return _replay(stored, cmd.request_hash)
    if order.status == ORDER_PAID:
        raise HandlerError(409, "Order already paid", f"Order {order.order_number} is already paid.")
    if link is not None and link.status != LINK_ACTIVE:
        raise HandlerError(
            409,
            "Link no longer valid",
            f"This extension link is {link.status}; nothing was charged.",
            link_status=link.status,
        )
    card = None
    if cmd.method == "invoice":
        account = _approved_reseller(resellers, order.reseller_id)
        if account is None or not account.invoice_allowed:
            raise HandlerError(
                422,
                "Invoice not available",
                "Invoice payment is not enabled for this buyer.",
                errors={"method": ["invoice payment is not enabled for this account"]},
            )
    else:
        if cmd.card is None:
            raise HandlerError(422, "Invalid request", "Card details are required.", errors={"card": ["required"]})
        try:
            card = validate_card(cmd.card, clock.today())
        except InvalidCard as exc:
            raise HandlerError(422, "Invalid card", str(exc), errors={f"card.{exc.field}": [str(exc)]}) from None

    with uow:
        if not uow.idempotency.claim(scope, cmd.idempotency_key, cmd.request_hash):
            return _replay(uow.idempotency.get(scope, cmd.idempotency_key), cmd.request_hash)
        order, lic = uow.orders.lock_with_license(cmd.order_number)
        if order.status != ORDER_PENDING:
            raise HandlerError(409, "Order already paid", f"Order {order.order_number} is already paid.")
        if lic.maintenance_end != order.previous_maintenance_end:
            raise HandlerError(
                409,
                "License changed",
                "The maintenance end of this license changed since the order was priced; nothing was charged.",
                reason="maintenance_end_changed",
            )
        brand = last4 = None
        reference = None
        if card is not None:
            result = cards.charge(order.total, card, reference=order.order_number)
            brand, last4, reference = result.card_brand, result.card_last4, result.reference
            if not result.succeeded:
                reason = result.reason or "declined"
                uow.orders.add_payment(
                    order.order_number,
                    method="card",
                    status="declined",
                    amount=order.total,
                    reason=reason,
                    card_brand=brand,
                    card_last4=last4,
                )
                uow.add_event(
                    new_event(
                        "order.payment_failed",
                        {
                            "order_number": order.order_number,
                            "license_id": order.license_id,
                            "reason": reason,
                        },
                        PRODUCER,
                    )
                )
                body = {
                    "type": "about:blank",
                    "title": "Payment declined",
                    "status": 402,
                    "detail": "The card was declined; nothing was charged.",
                    "reason": reason,
                }
                uow.idempotency.complete(scope, cmd.idempotency_key, 402, body)
                uow.commit()
                metrics.orders.labels(order.total.currency, "declined").inc()
                return 402, body
        order.mark_paid(at=clock.now(), method=cmd.method, card_brand=brand, card_last4=last4)
        uow.orders.save_payment_state(order)
        uow.orders.add_payment(
            order.order_number,
            method=cmd.method,
            status="succeeded",
            amount=order.total,
            card_brand=brand,
            card_last4=last4,
            provider_reference=reference,
        )
        previous_end = lic.maintenance_end
        lic.maintenance_end = order.new_maintenance_end
        lic.previous_order_number = order.order_number
        uow.licenses.record_extension(lic)
        uow.licenses.add_history(
            lic.id,
            change="maintenance_extended",
            source="order",
            order_number=order.order_number,
            details={"from": previous_end.isoformat(), "to": lic.maintenance_end.isoformat()},
        )
        uow.add_event(new_event("order.paid", views.order_paid_data(order), PRODUCER))
        uow.add_event(
            new_event(
                "license.maintenance_extended",
                {
                    "license_id": lic.id,
                    "previous_maintenance_end": previous_end.isoformat(),
                    "maintenance_end": lic.maintenance_end.isoformat(),
                    "order_number": order.order_number,
                    "contact_email": lic.contact_email,
                    "licensee_name": lic.licensee_name,
                    "product_name": order.product_name,
                    "end_customer": order.end_customer,
                },
                PRODUCER,
            )
        )
        body = views.order_view(order)
        uow.idempotency.complete(scope, cmd.idempotency_key, 200, body)
        uow.commit()
    metrics.orders.labels(order.total.currency, "paid").inc()
    metrics.revenue.labels(order.total.currency).inc(order.total.amount)
    return 200, body


# ---------------------------------------------------------------- catalogue and licenses (operations)


def save_product(cmd: commands.SaveProduct, uow: UnitOfWork) -> Response:
    with uow:
        existing = uow.products.get(cmd.sku)
        product = Product(sku=cmd.sku, name=cmd.name, edition=cmd.edition)
        if existing is None:
            if not cmd.create:
                raise HandlerError(404, "Product not found", f"No product {cmd.sku}.")
            uow.products.add(product)
            status = 201
        else:
            uow.products.update(product)
            status = 200
        uow.commit()
    return status, views.product_view(product)


def add_price_list(cmd: commands.AddPriceList, uow: UnitOfWork) -> Response:
    if cmd.valid_to is not None and cmd.valid_to < cmd.valid_from:
        raise HandlerError(
            422,
            "Invalid request",
            "valid_to is before valid_from",
            errors={"valid_to": ["must not be before valid_from"]},
        )
    with uow:
        if uow.products.get(cmd.product_sku) is None:
            raise HandlerError(
                422,
                "Invalid request",
                f"Unknown product {cmd.product_sku}.",
                errors={"product_sku": ["unknown product"]},
            )
        price_list = uow.price_lists.add(
            PriceList(
                id=None,
                product_sku=cmd.product_sku,
                currency=cmd.currency,
                price_per_seat_year=cmd.price_per_seat_year,
                valid_from=cmd.valid_from,
                valid_to=cmd.valid_to,
            )
        )
        uow.commit()
    return 201, views.price_list_view(price_list)


_COMPARED = (
    "product_sku",
    "seats",
    "licensee_name",
    "purchase_date",
    "contact_email",
    "currency",
    "end_customer",
    "previous_order_number",
    "reseller_id",
)


def _registered_event(lic: License, product: Product) -> Any:
    return new_event(
        "license.registered",
        {
            "license_id": lic.id,
            "license_key": lic.license_key,
            "product_sku": lic.product_sku,
            "product_name": product.name,
            "seats": lic.seats,
            "licensee_name": lic.licensee_name,
            "purchase_date": lic.purchase_date,
            "maintenance_end": lic.maintenance_end,
            "contact_email": lic.contact_email,
            "currency": lic.currency,
        },
        PRODUCER,
    )


def import_licenses(cmd: commands.ImportLicenses, uow: UnitOfWork) -> dict[str, Any]:
    """Idempotent on license_key: new keys are created, changed ones updated, identical ones left alone."""
    errors = list(cmd.errors)
    imported = updated = unchanged = 0
    with uow:
        products: dict[str, Product | None] = {}
        for line, row in cmd.rows:
            sku = row["product_sku"]
            if sku not in products:
                products[sku] = uow.products.get(sku)
            product = products[sku]
            if product is None:
                errors.append({"line": line, "reason": f"unknown product_sku {sku!r}"})
                continue
            try:
                years_covered(row["purchase_date"], row["maintenance_end"])
            except ValueError as exc:
                errors.append({"line": line, "reason": str(exc)})
                continue
            existing = uow.licenses.get_by_key(row["license_key"], for_update=True)
            if existing is None:
                lic = License(id=str(uuid.uuid4()), **row)
                uow.licenses.add(lic)
                uow.licenses.add_history(
                    lic.id,
                    change="registered",
                    source=cmd.source,
                    details={"maintenance_end": lic.maintenance_end.isoformat()},
                )
                uow.add_event(_registered_event(lic, product))
                imported += 1
                continue
            lic = License(id=existing.id, **row)
            changed = [name for name in _COMPARED if getattr(existing, name) != getattr(lic, name)]
            end_changed = existing.maintenance_end != lic.maintenance_end
            if not changed and not end_changed:
                unchanged += 1
                continue
            uow.licenses.update(lic)
            if changed:
                uow.licenses.add_history(lic.id, change="updated", source=cmd.source, details={"fields": changed})
                uow.add_event(_registered_event(lic, product))
            if end_changed:
                uow.licenses.add_history(
                    lic.id,
                    change="maintenance_end_changed",
                    source=cmd.source,
                    details={"from": existing.maintenance_end.isoformat(), "to": lic.maintenance_end.isoformat()},
                )
                uow.add_event(
                    new_event(
                        "license.maintenance_extended",
                        {
                            "license_id": lic.id,
                            "previous_maintenance_end": existing.maintenance_end,
                            "maintenance_end": lic.maintenance_end,
                            "order_number": None,
                            "contact_email": lic.contact_email,
                            "licensee_name": lic.licensee_name,
                            "product_name": product.name,
                            "end_customer": lic.end_customer,
                        },
                        PRODUCER,
                    )
                )
            updated += 1
        uow.commit()
    errors.sort(key=lambda e: e["line"])
    return {"imported": imported, "updated": updated, "unchanged": unchanged, "errors": errors}


def get_license(cmd: commands.GetLicense, uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        lic = uow.licenses.get(cmd.license_id)
        if lic is None:
            raise HandlerError(404, "License not found", f"No license {cmd.license_id}.")
        history = uow.licenses.history(lic.id)
    return {**views.license_view(lic), "history": history}


def find_licenses(cmd: commands.FindLicenses, uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        found = uow.licenses.find(key=cmd.key, licensee=cmd.licensee, order_number=cmd.order_number)
    return {"licenses": [views.license_view(lic) for lic in found]}


def request_extension_link(cmd: commands.RequestExtensionLink, uow: UnitOfWork, tokens: TokenService) -> dict[str, Any]:
    with uow:
        lic = uow.licenses.get(cmd.license_id)
    if lic is None:
        raise HandlerError(404, "License not found", f"No license {cmd.license_id}.")
    link = tokens.issue_link(
        license_id=lic.id,
        product_sku=lic.product_sku,
        cycle_end=lic.maintenance_end,
        licensee_name=lic.licensee_name,
        currency=lic.currency,
    )
    return {"url": link["url"], "link_id": link["link_id"]}


def get_order_for_operations(cmd: commands.GetOrderForOperations, uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        order = uow.orders.get(cmd.order_number)
    if order is None:
        raise HandlerError(404, "Order not found", f"No order {cmd.order_number}.")
    return views.order_view(order)


def list_catalogue(cmd: commands.ListCatalogue, uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        products = [
            {
                **views.product_view(p),
                "price_lists": [views.price_list_view(pl) for pl in uow.price_lists.for_product(p.sku)],
            }
            for p in uow.products.list()
        ]
    return {"products": products}


COMMAND_HANDLERS: dict[type, Callable[..., Any]] = {
    commands.GetQuote: get_quote,
    commands.PlaceOrder: place_order,
    commands.PayOrder: pay_order,
    commands.GetOrder: get_order,
    commands.ListOrders: list_orders,
    commands.SaveProduct: save_product,
    commands.AddPriceList: add_price_list,
    commands.ImportLicenses: import_licenses,
    commands.GetLicense: get_license,
    commands.FindLicenses: find_licenses,
    commands.RequestExtensionLink: request_extension_link,
    commands.GetOrderForOperations: get_order_for_operations,
    commands.ListCatalogue: list_catalogue,
}


# ---------------------------------------------------------------- events from other services


def record_link_revoked(event: Any, uow: UnitOfWork) -> None:
    """extension_link.revoked: audit only (the license and its orders are unaffected)."""
    uow.audit.record_link_event(
        event_id=event.id,
        event_type=event.type,
        link_id=str(event.data["link_id"]),
        license_id=str(event.data["license_id"]),
        reason=str(event.data.get("reason", "")),
    )
