"""Repositories: the only place that knows the SQL. Each takes the WriteSession of a `with uow:` block, the
ReadSession of a `uow.reading()` block, or the shared consumer's session: Core statements only, so all execute
them alike.

The statements of the quote, order and payment paths are HotStatements, built and compiled once, here: building
one and computing its cache key costs more CPU than PostgreSQL spends answering it. Writes whose results nobody
reads are queued (`queue_write`): a WriteSession sends them with the next statement or the commit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, and_, bindparam, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from order_service.adapters import orm
from order_service.domain.model import License, Order, PriceList, Product, format_order_number
from order_service.domain.money import Money
from renewals_shared.db import HotStatement, ReadSession, WriteSession, execute_hot, queue_write

# what a repository runs on: see the module's docstring
Target = WriteSession | ReadSession | Session


class ProductRepository:
    def __init__(self, session: Target) -> None:
        self.session = session

    def get(self, sku: str) -> Product | None:
        row = self.session.execute(select(orm.products).where(orm.products.c.sku == sku)).first()
        return Product(sku=row.sku, name=row.name, edition=row.edition) if row else None

    def add(self, product: Product) -> None:
        self.session.execute(orm.products.insert().values(sku=product.sku, name=product.name, edition=product.edition))

    def update(self, product: Product) -> None:
        self.session.execute(
            update(orm.products)
            .where(orm.products.c.sku == product.sku)
            .values(name=product.name, edition=product.edition, updated_at=func.now())
        )

    def list(self) -> list[Product]:
        rows = self.session.execute(select(orm.products).order_by(orm.products.c.sku)).all()
        return [Product(sku=r.sku, name=r.name, edition=r.edition) for r in rows]


def _price_list(row: Any) -> PriceList:
    return PriceList(
        id=row.id,
        product_sku=row.product_sku,
        currency=row.currency,
        price_per_seat_year=row.price_per_seat_year,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


class PriceListRepository:
    def __init__(self, session: Target) -> None:
        self.session = session

    def add(self, price_list: PriceList) -> PriceList:
        stmt = (
            insert(orm.price_lists)
            .values(
                product_sku=price_list.product_sku,
                currency=price_list.currency,
                price_per_seat_year=price_list.price_per_seat_year,
                valid_from=price_list.valid_from,
                valid_to=price_list.valid_to,
            )
            .on_conflict_do_update(
                constraint="uq_price_lists_product_currency_from",
                set_={"price_per_seat_year": price_list.price_per_seat_year, "valid_to": price_list.valid_to},
            )
            .returning(orm.price_lists.c.id)
        )
        price_list.id = self.session.execute(stmt).scalar_one()
        return price_list

    def for_product(self, sku: str, currency: str | None = None) -> list[PriceList]:
        query = select(orm.price_lists).where(orm.price_lists.c.product_sku == sku)
        if currency:
            query = query.where(orm.price_lists.c.currency == currency)
        return [_price_list(r) for r in self.session.execute(query.order_by(orm.price_lists.c.valid_from)).all()]


_on = bindparam("on", type_=Date)
# The domain's rule (price_list_in_force) in SQL: the latest-starting price list of the license's product and
# currency in force on the day; (product_sku, currency, valid_from) is unique, so the order is total.
_price_list_in_force = (
    select(orm.price_lists)
    .where(
        orm.price_lists.c.product_sku == orm.licenses.c.product_sku,
        orm.price_lists.c.currency == orm.licenses.c.currency,
        orm.price_lists.c.valid_from <= _on,
        or_(orm.price_lists.c.valid_to.is_(None), orm.price_lists.c.valid_to >= _on),
    )
    .order_by(orm.price_lists.c.valid_from.desc(), orm.price_lists.c.id.desc())
    .limit(1)
    .lateral("price_list_in_force")
)
_PRICED_LICENSE = HotStatement(
    select(
        orm.licenses,
        orm.products.c.name.label("product_name"),
        orm.products.c.edition.label("product_edition"),
        *[c.label(f"price_list_{c.name}") for c in _price_list_in_force.c],
    )
    .select_from(
        orm.licenses.outerjoin(orm.products, orm.products.c.sku == orm.licenses.c.product_sku).outerjoin(
            _price_list_in_force, true()
        )
    )
    .where(orm.licenses.c.id == bindparam("license_id"))
)

_LICENSE_FIELDS = (
    "license_key",
    "product_sku",
    "seats",
    "licensee_name",
    "purchase_date",
    "maintenance_end",
    "contact_email",
    "currency",
    "end_customer",
    "previous_order_number",
    "reseller_id",
)


def _license(row: Any, prefix: str = "") -> License:
    return License(
        id=getattr(row, f"{prefix}id"), **{name: getattr(row, f"{prefix}{name}") for name in _LICENSE_FIELDS}
    )


_license_update = update(orm.licenses).where(orm.licenses.c.id == bindparam("license_id")).values(updated_at=func.now())
_UPDATE_LICENSE = HotStatement(_license_update, columns=_LICENSE_FIELDS)
_EXTENSION_FIELDS = ("maintenance_end", "previous_order_number")
_RECORD_EXTENSION = HotStatement(_license_update, columns=_EXTENSION_FIELDS)
_INSERT_HISTORY = HotStatement(
    orm.license_history.insert(), columns=("license_id", "change", "source", "order_number", "details")
)


class LicenseRepository:
    def __init__(self, session: Target) -> None:
        self.session = session

    def get(self, license_id: str) -> License | None:
        row = self.session.execute(select(orm.licenses).where(orm.licenses.c.id == license_id)).first()
        return _license(row) if row else None

    def get_priced(self, license_id: str, on: dt.date) -> tuple[License, Product | None, PriceList | None] | None:
        """The license with its product and the price list in force on `on` (None where there is none)."""
        row = execute_hot(self.session, _PRICED_LICENSE, {"license_id": license_id, "on": on}).first()
        if row is None:
            return None
        product = Product(row.product_sku, row.product_name, row.product_edition) if row.product_name else None
        price_list = (
            PriceList(
                id=row.price_list_id,
                product_sku=row.price_list_product_sku,
                currency=row.price_list_currency,
                price_per_seat_year=row.price_list_price_per_seat_year,
                valid_from=row.price_list_valid_from,
                valid_to=row.price_list_valid_to,
            )
            if row.price_list_id is not None
            else None
        )
        return _license(row), product, price_list

    def get_by_key(self, license_key: str, *, for_update: bool = False) -> License | None:
        query = select(orm.licenses).where(orm.licenses.c.license_key == license_key)
        if for_update:
            query = query.with_for_update()
        row = self.session.execute(query).first()
        return _license(row) if row else None

    def add(self, lic: License) -> None:
        self.session.execute(
            orm.licenses.insert().values(id=lic.id, **{name: getattr(lic, name) for name in _LICENSE_FIELDS})
        )

    def update(self, lic: License) -> None:
        self._save(lic, _UPDATE_LICENSE, _LICENSE_FIELDS)

    def record_extension(self, lic: License) -> None:
        """A paid extension: the license's new end, and its previous order (the one just paid). The rest of the
        row is the import's to change."""
        self._save(lic, _RECORD_EXTENSION, _EXTENSION_FIELDS)

    def _save(self, lic: License, statement: HotStatement, fields: tuple[str, ...]) -> None:
        queue_write(self.session, statement, {"license_id": lic.id, **{name: getattr(lic, name) for name in fields}})

    def find(
        self, *, key: str | None = None, licensee: str | None = None, order_number: str | None = None, limit: int = 100
    ) -> list[License]:
        query = select(orm.licenses)
        if key:
            query = query.where(orm.licenses.c.license_key == key)
        if licensee:
            escaped = licensee.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(orm.licenses.c.licensee_name.ilike(f"%{escaped}%"))
        if order_number:
            ordered = select(orm.orders.c.license_id).where(orm.orders.c.order_number == order_number)
            query = query.where(
                or_(orm.licenses.c.previous_order_number == order_number, orm.licenses.c.id.in_(ordered))
            )
        rows = self.session.execute(query.order_by(orm.licenses.c.license_key).limit(limit)).all()
        return [_license(r) for r in rows]

    def add_history(
        self, license_id: str, *, change: str, source: str, details: dict[str, Any], order_number: str | None = None
    ) -> None:
        queue_write(
            self.session,
            _INSERT_HISTORY,
            {
                "license_id": license_id,
                "change": change,
                "source": source,
                "order_number": order_number,
                "details": details,
            },
        )

    def history(self, license_id: str) -> list[dict[str, Any]]:
        rows = self.session.execute(
            select(orm.license_history)
            .where(orm.license_history.c.license_id == license_id)
            .order_by(orm.license_history.c.id)
        ).all()
        return [
            {
                "at": r.at.isoformat(),
                "change": r.change,
                "source": r.source,
                "order_number": r.order_number,
                "details": r.details,
            }
            for r in rows
        ]


_ORDER_PLAIN = (
    "order_number",
    "license_id",
    "link_id",
    "status",
    "licensee_name",
    "product_name",
    "license_key_masked",
    "billing",
    "end_customer",
    "reseller_id",
    "term_years",
    "years_charged",
    "effective_discount_bp",
    "customer_discount_bp",
    "reseller_discount_bp",
    "previous_maintenance_end",
    "new_maintenance_end",
    "payment_methods",
    "created_at",
    "paid_at",
    "payment_method",
    "card_brand",
    "card_last4",
)


_ORDER_BY_NUMBER = HotStatement(select(orm.orders).where(orm.orders.c.order_number == bindparam("order_number")))
_ORDER_WITH_STORED_RESPONSE = HotStatement(
    select(
        orm.orders,
        orm.idempotency_keys.c.request_hash.label("stored_request_hash"),
        orm.idempotency_keys.c.response_status.label("stored_response_status"),
        orm.idempotency_keys.c.response_body.label("stored_response_body"),
    )
    .select_from(
        orm.orders.outerjoin(
            orm.idempotency_keys,
            and_(orm.idempotency_keys.c.scope == bindparam("scope"), orm.idempotency_keys.c.key == bindparam("key")),
        )
    )
    .where(orm.orders.c.order_number == bindparam("order_number"))
)
# Both rows locked at once: the order against a second payment, the license against a payment of another order
# of the same license (both transactions lock the two tables in the same plan order, so they cannot deadlock).
_LOCKED_ORDER_AND_LICENSE = HotStatement(
    select(orm.orders, *[c.label(f"lic_{c.name}") for c in orm.licenses.c])
    .join(orm.licenses, orm.licenses.c.id == orm.orders.c.license_id)
    .where(orm.orders.c.order_number == bindparam("order_number"))
    .with_for_update()
)
_NEXT_ORDER_NUMBER = HotStatement(
    insert(orm.order_number_counters)
    .on_conflict_do_update(index_elements=["year"], set_={"last_value": orm.order_number_counters.c.last_value + 1})
    .returning(orm.order_number_counters.c.last_value),
    columns=("year", "last_value"),
)
_INSERT_ORDER = HotStatement(orm.orders.insert(), columns=(*_ORDER_PLAIN, "currency", "price_per_year", "total"))
_PAYMENT_STATE = ("status", "paid_at", "payment_method", "card_brand", "card_last4")
_SAVE_PAYMENT_STATE = HotStatement(
    update(orm.orders).where(orm.orders.c.order_number == bindparam("b_order_number")), columns=_PAYMENT_STATE
)
_INSERT_PAYMENT = HotStatement(
    orm.payments.insert(),
    columns=(
        "order_number",
        "method",
        "status",
        "amount",
        "currency",
        "reason",
        "card_brand",
        "card_last4",
        "provider_reference",
    ),
)


def _order(row: Any) -> Order:
    return Order(
        price_per_year=Money(row.price_per_year, row.currency),
        total=Money(row.total, row.currency),
        **{name: getattr(row, name) for name in _ORDER_PLAIN},
    )


class OrderRepository:
    def __init__(self, session: Target) -> None:
        self.session = session

    def next_order_number(self, year: int) -> str:
        """Sequential per year, gap-free: the counter row stays locked until the order's transaction ends."""
        last_value = execute_hot(self.session, _NEXT_ORDER_NUMBER, {"year": year, "last_value": 1}).scalar_one()
        return format_order_number(year, last_value)

    def add(self, order: Order) -> None:
        queue_write(
            self.session,
            _INSERT_ORDER,
            {
                "currency": order.total.currency,
                "price_per_year": order.price_per_year.amount,
                "total": order.total.amount,
                **{name: getattr(order, name) for name in _ORDER_PLAIN},
            },
        )

    def get(self, order_number: str) -> Order | None:
        row = execute_hot(self.session, _ORDER_BY_NUMBER, {"order_number": order_number}).first()
        return _order(row) if row else None

    def get_with_stored_response(
        self, order_number: str, scope: str, key: str
    ) -> tuple[Order | None, tuple[str, int | None, Any] | None]:
        """The order and what the idempotency key in `scope` stored (as IdempotencyRepository.get), in one query."""
        row = execute_hot(
            self.session, _ORDER_WITH_STORED_RESPONSE, {"order_number": order_number, "scope": scope, "key": key}
        ).first()
        if row is None:
            return None, None
        stored = (
            (row.stored_request_hash, row.stored_response_status, row.stored_response_body)
            if row.stored_request_hash is not None
            else None
        )
        return _order(row), stored

    def lock_with_license(self, order_number: str) -> tuple[Order, License] | None:
        """The order and its license, both locked (FOR UPDATE) until the transaction ends."""
        row = execute_hot(self.session, _LOCKED_ORDER_AND_LICENSE, {"order_number": order_number}).first()
        return (_order(row), _license(row, prefix="lic_")) if row else None

    def save_payment_state(self, order: Order) -> None:
        queue_write(
            self.session,
            _SAVE_PAYMENT_STATE,
            {"b_order_number": order.order_number, **{name: getattr(order, name) for name in _PAYMENT_STATE}},
        )

    def list_by_reseller(self, reseller_id: str, limit: int = 200) -> list[Order]:
        rows = self.session.execute(
            select(orm.orders)
            .where(orm.orders.c.reseller_id == reseller_id)
            .order_by(orm.orders.c.created_at.desc(), orm.orders.c.order_number.desc())
            .limit(limit)
        ).all()
        return [_order(r) for r in rows]

    def paid_order_for_link(self, link_id: str) -> str | None:
        return self.session.execute(
            select(orm.orders.c.order_number).where(
                and_(orm.orders.c.link_id == link_id, orm.orders.c.status == "paid")
            )
        ).scalar()

    def add_payment(
        self,
        order_number: str,
        *,
        method: str,
        status: str,
        amount: Money,
        reason: str | None = None,
        card_brand: str | None = None,
        card_last4: str | None = None,
        provider_reference: str | None = None,
    ) -> None:
        queue_write(
            self.session,
            _INSERT_PAYMENT,
            {
                "order_number": order_number,
                "method": method,
                "status": status,
                "amount": amount.amount,
                "currency": amount.currency,
                "reason": reason,
                "card_brand": card_brand,
                "card_last4": card_last4,
                "provider_reference": provider_reference,
            },
        )


_key_matches = and_(
    orm.idempotency_keys.c.scope == bindparam("b_scope"), orm.idempotency_keys.c.key == bindparam("b_key")
)
_STORED_RESPONSE = HotStatement(
    select(
        orm.idempotency_keys.c.request_hash,
        orm.idempotency_keys.c.response_status,
        orm.idempotency_keys.c.response_body,
    ).where(_key_matches)
)
_CLAIM_KEY = HotStatement(
    insert(orm.idempotency_keys)
    .on_conflict_do_nothing(index_elements=["scope", "key"])
    .returning(orm.idempotency_keys.c.key),
    columns=("scope", "key", "request_hash"),
)
_COMPLETE_KEY = HotStatement(
    update(orm.idempotency_keys).where(_key_matches), columns=("response_status", "response_body")
)


class IdempotencyRepository:
    """Stored responses for idempotency keys; the primary key makes concurrent duplicates wait for the first."""

    def __init__(self, session: Target) -> None:
        self.session = session

    def get(self, scope: str, key: str) -> tuple[str, int | None, Any] | None:
        row = execute_hot(self.session, _STORED_RESPONSE, {"b_scope": scope, "b_key": key}).first()
        return (row.request_hash, row.response_status, row.response_body) if row else None

    def claim(self, scope: str, key: str, request_hash: str) -> bool:
        """True when this transaction owns the key; False when another committed it first (blocks while it runs)."""
        claim = {"scope": scope, "key": key, "request_hash": request_hash}
        inserted = execute_hot(self.session, _CLAIM_KEY, claim).first()
        return inserted is not None

    def complete(self, scope: str, key: str, status: int, body: Any) -> None:
        queue_write(
            self.session,
            _COMPLETE_KEY,
            {"b_scope": scope, "b_key": key, "response_status": status, "response_body": body},
        )

    def purge_older_than(self, cutoff: dt.datetime) -> int:
        result = self.session.execute(orm.idempotency_keys.delete().where(orm.idempotency_keys.c.created_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


class AuditRepository:
    def __init__(self, session: Target) -> None:
        self.session = session

    def record_link_event(self, *, event_id: str, event_type: str, link_id: str, license_id: str, reason: str) -> None:
        self.session.execute(
            insert(orm.link_audit)
            .values(event_id=event_id, event_type=event_type, link_id=link_id, license_id=license_id, reason=reason)
            .on_conflict_do_nothing(index_elements=["event_id"])
        )
