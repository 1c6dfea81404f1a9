"""Repositories on SQLAlchemy sessions: the only place that writes queries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from token_service.adapters import orm
from token_service.domain.model import ExtensionLink, LinkStatus
from token_service.service_layer.repository import AbstractDiscountRepository, AbstractLinkRepository


class SqlAlchemyLinkRepository(AbstractLinkRepository):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def _add(self, link: ExtensionLink) -> None:
        self.session.add(link)

    def _get(self, link_id: str, for_update: bool) -> ExtensionLink | None:
        query = select(ExtensionLink).where(orm.extension_links.c.id == link_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).one_or_none()

    def _get_by_cycle(self, license_id: str, cycle_end: dt.date) -> ExtensionLink | None:
        return self.session.scalars(
            select(ExtensionLink).where(
                orm.extension_links.c.license_id == license_id, orm.extension_links.c.cycle_end == cycle_end
            )
        ).one_or_none()

    def _get_by_hash(self, token_hash: bytes) -> ExtensionLink | None:
        return self.session.scalars(
            select(ExtensionLink).where(orm.extension_links.c.token_hash == token_hash)
        ).one_or_none()

    def _active_for_license(self, license_id: str) -> list[ExtensionLink]:
        return list(
            self.session.scalars(
                select(ExtensionLink)
                .where(
                    orm.extension_links.c.license_id == license_id,
                    orm.extension_links.c.state == LinkStatus.ACTIVE.value,
                )
                .order_by(orm.extension_links.c.id)
                .with_for_update()
            )
        )


class SqlAlchemyDiscountRepository(AbstractDiscountRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def product_override(self, product_sku: str) -> int | None:
        table = orm.product_discounts
        return self.session.scalar(select(table.c.customer_discount_bp).where(table.c.product_sku == product_sku))

    def license_override(self, license_id: str) -> int | None:
        table = orm.license_discounts
        return self.session.scalar(select(table.c.customer_discount_bp).where(table.c.license_id == license_id))

    def set_product_override(self, product_sku: str, customer_discount_bp: int) -> None:
        statement = insert(orm.product_discounts).values(
            product_sku=product_sku, customer_discount_bp=customer_discount_bp
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["product_sku"], set_={"customer_discount_bp": customer_discount_bp}
            )
        )

    def set_license_override(self, license_id: str, customer_discount_bp: int) -> None:
        statement = insert(orm.license_discounts).values(
            license_id=license_id, customer_discount_bp=customer_discount_bp
        )
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["license_id"], set_={"customer_discount_bp": customer_discount_bp}
            )
        )
